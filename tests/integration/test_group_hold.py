"""A group's answers wait for their breakdown (feedback/release/run.py, ``_waits``).

Released the moment k people allow, a group's cohorts hold about 7 answers, and within 7
answers no path has 5 people from three allies: every path stayed hidden, cohort after
cohort (docs/erg.md). So a group's pending answers, once enough to release, wait until the
cohort would show every path it touches, or GROUP_HOLD_DAYS at most. An ally's own results
never wait.
"""

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.clock import utcnow
from api.extensions import db
from api.jobs.adapters import release_settings
from api.jobs.release import run_due_now
from feedback.models import Scope
from feedback.release import run
from tests.conftest import Person, Recipient
from tests.integration.test_web_lead import browser_for

DECLINED: dict[str, Any] = {}  # "I'd rather not answer": a response like any other, in every questionnaire


def insights(lead: Person, group: int) -> dict[str, Any]:
    response = lead.get(f"/api/v1/groups/{group}/insights")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json()["released"])


def paths(released: dict[str, Any]) -> dict[str, Any]:
    (questionnaire,) = released["questionnaires"].values()
    return dict(questionnaire["slices"]["path"])


def act(lead: Person, group: int, recipient: Recipient, name: str, kind: str) -> Person:
    """A new ally in the group logs one action of ``kind``; the five colleagues they ask answer."""
    ally = Person(lead.client, name)
    lead.add(group, ally)
    for token in ally.ask(ally.log_action(group, kind=kind), count=5):
        assert recipient.answer(token, DECLINED).status_code == 202
    return ally


def one_path_too_thin(client: FlaskClient) -> tuple[Person, int, Recipient, list[Person]]:
    """One ally sponsors someone (access), then three credit someone (signaling): 20 answers,
    enough to release from the 11th on, but access is one ally's, so it would hide, and
    signaling with it."""
    lead, recipient = Person(client, "Lee"), Recipient(client)
    group = lead.create_group()
    allies = [act(lead, group, recipient, "Dee", "sponsor")]
    allies += [act(lead, group, recipient, name, "credit") for name in ("Ana", "Ben", "Cy")]
    return lead, group, recipient, allies


def held_since(app: Flask) -> list[Any]:
    with app.app_context():
        return list(db.session.scalars(select(Scope.held_since).where(Scope.kind == "group")))


def test_a_groups_answers_wait_until_every_path_they_touch_shows(app: Flask, client: FlaskClient) -> None:
    lead, group, recipient, allies = one_path_too_thin(client)
    assert insights(lead, group)["responses"] == 0, "held: a release now would hide every path"
    assert all(ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5 for ally in allies), (
        "each ally's own results do not wait"
    )
    assert held_since(app) == [utcnow().date()]
    page = browser_for(app, lead).get(f"/groups/{group}").get_data(as_text=True)
    assert "may wait up to 14 more days, until each path of action" in page, "the lead is told why nothing shows"

    act(lead, group, recipient, "Eli", "sponsor")
    assert insights(lead, group)["responses"] == 0, "access from two allies is still one ally's without either"
    act(lead, group, recipient, "Fay", "sponsor")

    released = insights(lead, group)
    # Released at Fay's first answer, the first with which access shows: 5 + 5 + 1 from three allies.
    assert released["responses"] == 26 and released["cohorts"] == 1, "all that waited, in one cohort"
    shown = paths(released)
    assert shown["signaling"]["responses"] == 15 and shown["access"]["responses"] == 11
    assert held_since(app) == [None], "the next wait starts afresh"


def test_held_answers_are_released_when_the_wait_ends_with_what_must_stay_hidden_hidden(
    app: Flask, client: FlaskClient
) -> None:
    lead, group, _, _ = one_path_too_thin(client)
    wait = app.config["ALLYLOOP"].group_hold_days
    with app.app_context():
        run_due_now(now=utcnow() + timedelta(days=wait - 1))
    assert insights(lead, group)["responses"] == 0, "a day before the wait ends"
    with app.app_context():
        run_due_now(now=utcnow() + timedelta(days=wait))
    released = insights(lead, group)
    assert released["responses"] == 20 and released["cohorts"] == 1
    assert all(cell == {"suppressed": True} for cell in paths(released).values()), (
        "access is one ally's, and signaling would give it away: the rules are the same after a wait"
    )


def test_the_wait_is_decided_without_opening_a_single_answer(app: Flask, client: FlaskClient) -> None:
    """A tick that holds a group's answers reads who answered in which cell, never what they said:
    with no private key to open anything, it holds them all the same and fails nothing."""
    lead, group, _, _ = one_path_too_thin(client)

    def no_key(kid: str) -> Any:
        raise AssertionError(f"the tick tried to open an answer under key {kid}")

    with app.app_context():
        report = run.run_due(db.session(), keys=no_key, settings=release_settings(app), now=utcnow())
    assert report.failed_scopes == [] and report.released_cohorts == 0
    assert insights(lead, group)["responses"] == 0
