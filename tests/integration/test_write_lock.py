"""On SQLite one writer at a time holds the database, for as long as its write takes. What a
recipient does that only reads, or that is refused anyway, never queues behind that writer."""

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from api.jobs.release import run_due_now
from feedback.release import run
from tests.conftest import Person, Recipient, group_answered
from tests.integration.test_web_lead import browser_for


@pytest.fixture
def tokens(lead: Person, ally: Person) -> list[str]:
    group = lead.create_group()
    lead.add(group, ally)
    return ally.ask(ally.log_action(group), count=3)


@contextlib.contextmanager
def another_writer(app: Flask) -> Iterator[None]:
    """Another process in the middle of a long write (here a plain sqlite3 connection).

    Whatever asks for the write lock meanwhile waits out the app's ten-second busy timeout
    and then fails, so a request that should not wait makes its test fail, if slowly.
    """
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the whole database")
    other = sqlite3.connect(str(url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.rollback()
        other.close()


def test_a_link_opens_while_another_process_writes(app: Flask, client: FlaskClient, tokens: list[str]) -> None:
    with another_writer(app):
        assert client.get(f"/api/v1/answer/{tokens[0]}").status_code == 200
        assert client.get(f"/r/{tokens[0]}").status_code == 200


def test_a_refused_answer_is_told_so_while_another_process_writes(
    app: Flask, client: FlaskClient, recipient: Recipient, tokens: list[str]
) -> None:
    spent = recipient.envelope(tokens[0], {"wanted": "yes"})
    assert client.post(f"/api/v1/answer/{tokens[0]}", json=spent).status_code == 202
    unknown_key = recipient.envelope(tokens[1], {"wanted": "yes"}) | {"kid": "k-never-made"}
    too_short = recipient.envelope(tokens[2], {"wanted": "yes"})
    too_short["sealed"] = too_short["sealed"][:-8]

    with another_writer(app):
        assert client.post(f"/api/v1/answer/{tokens[0]}", json=spent).status_code == 410
        assert client.post(f"/api/v1/answer/{tokens[1]}", json=unknown_key).status_code == 400
        assert client.post(f"/api/v1/answer/{tokens[2]}", json=too_short).status_code == 400

    # Once the writer is done, the same links still take a good answer.
    assert (
        client.post(f"/api/v1/answer/{tokens[1]}", json=recipient.envelope(tokens[1], {"wanted": "no"})).status_code
        == 202
    )


def test_the_lead_and_the_ally_read_their_results_while_another_process_writes(
    app: Flask, client: FlaskClient, lead: Person, ally: Person
) -> None:
    """A long read of a large group's insights no longer holds (or waits for) the write lock."""
    group = lead.create_group()
    web = browser_for(app, lead)
    with another_writer(app):
        assert lead.get(f"/api/v1/groups/{group}/insights").status_code == 200
        assert ally.get("/api/v1/me/feedback").status_code == 200
        assert web.get(f"/groups/{group}").status_code == 200


def test_answers_can_be_stored_while_a_release_opens_the_next_scope(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release run holds the write lock only while it writes a cohort: while it opens and
    counts the next scope's answers (most of its time), an answer is committed at once."""
    app = make_app(jobs_inline=False, release_interval_seconds=86400)  # answers wait for this test's run
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if database.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the whole database")
    group_answered(app.test_client(), ("Alex", "Sam"))
    app.extensions["allyloop.jobs"].stop()
    writer_waited: list[bool] = []
    opening = run._open_pending

    def a_writer_arrives_meanwhile(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(str(database.database), isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # refused at once if the lock is held
            other.rollback()
            writer_waited.append(False)
        except sqlite3.OperationalError:
            writer_waited.append(True)
        finally:
            other.close()
        return opening(*args, **kwargs)

    monkeypatch.setattr(run, "_open_pending", a_writer_arrives_meanwhile)
    with app.app_context():
        report = run_due_now()
    assert report.released_cohorts == 2, "both allies' scopes, one after the other"
    assert len(writer_waited) >= 2 and not any(writer_waited), writer_waited
