"""The answer submit's lean path: what it stores is released once, a 202 only ever follows
the commit that holds the answer (P7), racing submits count once (P6), and the OpenAPI
document still describes the call."""

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from api import commit, sqlite
from api.extensions import db
from api.jobs.release import run_due_now
from feedback.models import Cohort, Response
from tests.conftest import Person, Recipient


@pytest.fixture
def links(lead: Person, ally: Person) -> list[str]:
    group = lead.create_group()
    lead.add(group, ally)
    return ally.ask(ally.log_action(group), count=5)


def stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Response)) or 0


def on_sqlite(app: Flask) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("group commit is the embedded default's (SQLite) way to the synced commit")
    return url.database or ""


class CommitFails(sqlite3.Connection):
    """A database whose COMMIT fails, as a full or failing disk makes it."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_answers_stored_by_the_submit_are_released_once(
    app: Flask, links: list[str], recipient: Recipient, ally: Person
) -> None:
    for token in links:
        assert recipient.answer(token, {"wanted": "yes", "felt_recognised": 5}).status_code == 202
    with app.app_context():
        run_due_now()  # a second pass finds nothing left to release
    view = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert view["responses"] == 5
    assert view["items"]["immediate.v1"]["felt_recognised"] == {"answered": 5, "counts": {"5": 5}}
    with app.app_context():
        # One ally: only the ally's scope releases (a group cell needs two allies, P5).
        assert db.session.scalar(select(func.coalesce(func.sum(Cohort.responses), 0))) == 5


def test_a_failed_commit_is_a_503_that_stores_nothing_and_leaves_the_link_live(
    app: Flask, links: list[str], recipient: Recipient
) -> None:
    path = on_sqlite(app)
    envelope = recipient.envelope(links[0], {"wanted": "yes"})
    failing = commit.Committer(
        lambda: sqlite3.connect(path, isolation_level=None, factory=CommitFails), Path(path + ".w")
    )
    commit.install(app, failing)
    response = recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope)
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "unavailable"
    assert stored(app) == 0
    failing.close()
    commit.install(app, commit.Committer(lambda: sqlite.connect(path, shared=True), Path(path + ".w")))
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code == 202, (
        "sent again, it counts"
    )
    assert stored(app) == 1


def test_the_plain_form_waits_for_the_same_synced_commit(app: Flask, links: list[str], recipient: Recipient) -> None:
    """The no-JavaScript form is stored by the committer too: its receipt only follows the
    commit that holds its answer (P7), and a failed commit stores nothing."""
    path = on_sqlite(app)
    failing = commit.Committer(
        lambda: sqlite3.connect(path, isolation_level=None, factory=CommitFails), Path(path + ".w")
    )
    commit.install(app, failing)
    form = {"item-wanted": "yes", "decline": "1"}
    assert recipient.client.post(f"/r/{links[0]}", data=form).status_code == 503
    assert stored(app) == 0
    failing.close()
    commit.install(app, commit.Committer(lambda: sqlite.connect(path, shared=True), Path(path + ".w")))
    assert recipient.client.post(f"/r/{links[0]}", data=form).status_code == 200, "sent again, it counts"
    assert stored(app) == 1


class ReadFails(sqlite3.Connection):
    """A connection that cannot read (a disk error, a file gone), as readers sometimes meet."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("SELECT"):
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_a_check_that_cannot_read_is_a_503_and_the_next_answer_is_checked_afresh(
    app: Flask, links: list[str], recipient: Recipient
) -> None:
    """The committer keeps the connections answers are checked on; one that failed is not
    kept, so one bad connection costs one answer a 503 (its link still live), not every answer."""
    path = on_sqlite(app)
    made: list[str] = []

    def connect() -> sqlite3.Connection:
        made.append("failing" if not made else "sound")
        if made[-1] == "failing":
            return sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=ReadFails)
        return sqlite.connect(path, shared=True)

    committer = commit.Committer(connect, Path(path + ".w"))
    commit.install(app, committer)
    envelope = recipient.envelope(links[0], {"wanted": "yes"})
    response = recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope)
    assert response.status_code == 503, response.get_json()
    assert stored(app) == 0
    assert recipient.client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code == 202, (
        "sent again, it is checked on a new connection and counts"
    )
    assert recipient.answer(links[1], {"wanted": "no"}).status_code == 202
    assert stored(app) == 2
    committer.close()


def test_no_answer_is_accepted_while_the_committer_is_stopped(
    app: Flask, links: list[str], recipient: Recipient
) -> None:
    path = on_sqlite(app)
    stopped = commit.Committer(lambda: sqlite.connect(path, shared=True), Path(path + ".w"))
    stopped.close()
    commit.install(app, stopped)
    assert recipient.answer(links[0], {"wanted": "yes"}).status_code == 503
    assert stored(app) == 0


def test_two_racing_answers_to_one_link_count_once(app: Flask, links: list[str], recipient: Recipient) -> None:
    envelopes = [recipient.envelope(links[0], {"wanted": answer}) for answer in ("yes", "no")]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(envelope: dict[str, str]) -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.post(f"/api/v1/answer/{links[0]}", json=envelope).status_code)

    racers = [threading.Thread(target=send, args=(envelope,)) for envelope in envelopes]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(statuses) == [202, 410]
    assert stored(app) == 1


def test_the_openapi_document_describes_the_submit(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    submit = spec["paths"]["/api/v1/answer/{token}"]["post"]
    assert submit["summary"]
    assert {"202", "400", "404", "410", "413"} <= set(submit["responses"])
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[1]
    assert {"kid", "sealed"} <= set(spec["components"]["schemas"][name]["properties"])
    assert set(spec["components"]["schemas"][name]["required"]) == {"kid", "sealed"}


def test_a_whole_office_behind_one_address_can_answer(make_app: Callable[..., Flask]) -> None:
    """A campaign's recipients often share one office address (NAT): with the rate limits on,
    more of them than any per-client limit allows all answer, by the API and by the plain form."""
    app = make_app(ratelimit_enabled=True)
    client = app.test_client()  # every request from the same address
    lead, ally = Person(client, "Lead"), Person(client, "Ally")
    group = lead.create_group()
    lead.add(group, ally)
    action = ally.log_action(group)
    tokens = ally.ask(action, count=50) + ally.ask(action, count=50)
    recipient = Recipient(client)
    by_api = [recipient.answer(token, {"wanted": "yes"}).status_code for token in tokens[:70]]
    by_form = [client.post(f"/r/{token}", data={"item-wanted": "yes"}).status_code for token in tokens[70:]]
    assert by_api == [202] * 70
    assert by_form == [200] * 30
    assert stored(app) == 100


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only (TEST_DATABASE_URL)")
def test_an_answer_goes_through_once_when_its_pooled_connection_was_cut_meanwhile(
    app: Flask, links: list[str], recipient: Recipient
) -> None:
    """The submit skips the pool's ping on PostgreSQL. A connection cut while it waited in the
    pool (a server restart, a proxy's idle timeout) fails at the check, which only reads, and
    the answer is stored on a fresh connection: 202, once, and the link is spent."""
    assert recipient.answer(links[0], {"wanted": "yes"}).status_code == 202  # its connection waits in the pool
    sealed = recipient.envelope(links[1], {"wanted": "partly"})
    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert cut is not None and cut[0] >= 1, "the app's pooled connections were cut"

    assert app.test_client().post(f"/api/v1/answer/{links[1]}", json=sealed).status_code == 202
    assert stored(app) == 2
    assert app.test_client().post(f"/api/v1/answer/{links[1]}", json=sealed).status_code == 410
