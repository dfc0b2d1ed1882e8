"""A large release may open its answers on several processes (RELEASE_PROCESSES): what it
publishes is exactly what the same release on one process publishes."""

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api.extensions import db
from api.jobs.release import run_due_now
from tests.conftest import Person, Recipient, build_app

KINDS = ("credit", "amplify", "sponsor")


def publish(tmp_path: Path, processes: int) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The same answers to three allies of one group, held back, then released in one run.

    Returns the group's insights, each ally's results, and how many answers were invalid.
    """
    app: Flask = build_app(
        tmp_path, redis_url="redis://127.0.0.1:9/0", release_processes=processes, release_pool_from=1, group_hold_days=0
    )  # answers wait for the one run; every release counts as large
    client = app.test_client()
    lead, recipient = Person(client, "Lee"), Recipient(client)
    allies = [Person(client, name) for name in ("Ana", "Bo", "Cy")]
    group = lead.create_group()
    for n, (ally, kind) in enumerate(zip(allies, KINDS, strict=True)):
        lead.add(group, ally)
        tokens = ally.ask(ally.log_action(group, kind=kind), count=8)
        for i, token in enumerate(tokens):
            answers: dict[str, Any] = {
                "wanted": ("yes", "partly", "no")[(i + n) % 3],
                "felt_recognised": 1 + (i + n) % 5,
            }
            if i == 7 and n == 0:
                answers = {"wanted": "absolutely"}  # invalid: never released, only counted
            comment = {"text": f"note {n}-{i}", "audience": ("ally", "lead", "both")[i % 3]} if i % 2 else None
            assert recipient.answer(token, answers, comment).status_code == 202
    with app.app_context():
        report = run_due_now()
        db.session.remove()
    assert report.failed_scopes == [] and report.released_cohorts == 4, report
    insights = lead.get(f"/api/v1/groups/{group}/insights").get_json()
    mine = [ally.get("/api/v1/me/feedback").get_json() for ally in allies]
    with app.app_context():
        db.engine.dispose()  # no connection outlives the test
    for view in [insights, *mine]:
        view["released"]["comments"].sort()  # their order is random on purpose
    return insights, mine, report.invalid


def test_opening_on_two_processes_publishes_what_one_process_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="allyloop.jobs"):
        one = publish(tmp_path / "one", processes=1)
        assert "processes" not in caplog.text
        two = publish(tmp_path / "two", processes=2)
    assert caplog.text.count("opening a large release on 2 processes") == 4, "each of the four scopes"
    assert two == one
    insights, mine, invalid = two
    assert invalid == 1, "the bad answer is found once and discarded from every view"
    assert [view["released"]["responses"] for view in mine] == [7, 8, 8]
    assert insights["released"]["responses"] == 23
    assert mine[0]["released"]["comments"] == ["note 0-3", "note 0-5"], "to the ally and to both; 1 was for leads"
