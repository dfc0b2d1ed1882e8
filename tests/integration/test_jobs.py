"""Background work: releases are idempotent, keys rotate without loss, old links are purged."""

import dataclasses
import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.extensions import db
from api.jobs.release import run_due_now
from crypto import keyring
from feedback.models import Cohort, Envelope, Link, Response, ResponseKey, Scope
from feedback.release import run
from feedback.release.run import RunReport
from tests.conftest import Person, Recipient, build_app


def test_running_due_work_twice_releases_nothing_twice(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    for token in ally.ask(ally.log_action(group), count=5):
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with app.app_context():
        first = run_due_now()
        second = run_due_now()
        assert first.released_cohorts == second.released_cohorts == 0, "already released when the 5th arrived"
        assert db.session.query(Cohort).count() == 1
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5


def test_the_envelope_is_dropped_once_both_views_released_it(app: Flask, lead: Person, recipient: Recipient) -> None:
    allies = [Person(lead.client, name) for name in "ABC"]
    group = lead.create_group()
    for person in allies:
        lead.add(group, person)
    for person, count in zip(allies, (5, 5, 7), strict=True):
        for token in person.ask(person.log_action(group), count=count):
            assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with app.app_context():
        rows = db.session.query(Response).all()
        assert len(rows) == 17
        done = [r for r in rows if r.ally_cohort_id and r.group_cohort_id]
        # The group released at C's first answer (11: A's 5, B's 5, C's 1); C's other six wait.
        assert len(done) == 11
        kept = {e.response_id for e in db.session.query(Envelope)}
        assert kept == {r.id for r in rows if r not in done}, "only answers still waiting keep their envelope"


def test_an_invalid_answer_loses_its_envelope_and_is_only_counted(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    assert recipient.answer(tokens[0], {"wanted": "absolutely"}).status_code == 202
    for token in tokens[1:]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with app.app_context():
        invalid = db.session.query(Response).filter(Response.invalid.is_(True)).one()
        assert db.session.get(Envelope, invalid.id) is None
        assert db.session.query(Envelope).count() == 4, "the four valid ones still wait for a fifth"
        assert db.session.get(Scope, invalid.ally_scope_id).invalid == 1, "counted where it was found"
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0, "never released"


def test_the_cli_runs_due_work_and_reports_it(app: Flask, lead: Person, ally: Person, recipient: Recipient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=3)
    recipient.answer(tokens[0], {"wanted": "yes"})
    later = (utcnow() + timedelta(days=400)).date().isoformat()
    ahead = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", later])
    assert ahead.exit_code != 0 and "must not be later than now" in ahead.output
    assert recipient.client.get(f"/api/v1/answer/{tokens[1]}").status_code == 200, "nothing purged"
    bad = app.test_cli_runner().invoke(args=["jobs", "run-due", "--now", "someday"])
    assert bad.exit_code != 0 and "ISO" in bad.output

    with mock.patch("api.cli.utcnow", return_value=utcnow() + timedelta(days=400)):  # 400 days on
        result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "released 0 cohort(s)" in result.output and "3 expired link(s) purged" in result.output
    assert recipient.client.get(f"/api/v1/answer/{tokens[1]}").status_code == 404, "purged links are forgotten"


def test_expired_links_answer_410_until_they_are_purged(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    token = ally.ask(ally.log_action(group), count=1)[0]
    with app.app_context():
        link = db.session.query(Link).one()
        link.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
        run_due_now()
    assert recipient.client.get(f"/api/v1/answer/{token}").status_code == 410


def test_after_key_rotation_old_and_new_envelopes_both_open(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    early = [recipient.envelope(token, {"wanted": "partly"}) for token in tokens[:2]]
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "new response key" in result.output
    for token, envelope in zip(tokens[:2], early, strict=True):
        assert recipient.client.post(f"/api/v1/answer/{token}", json=envelope).status_code == 202
    later = [recipient.envelope(token, {"wanted": "yes"}) for token in tokens[2:]]
    assert {e["kid"] for e in later}.isdisjoint({e["kid"] for e in early})
    for token, envelope in zip(tokens[2:], later, strict=True):
        assert recipient.client.post(f"/api/v1/answer/{token}", json=envelope).status_code == 202
    counts = ally.get("/api/v1/me/feedback").get_json()["released"]["items"]["immediate.v1"]["wanted"]["counts"]
    assert counts == {"partly": 2, "yes": 3}
    with app.app_context():
        assert db.session.query(ResponseKey).count() == 2


def test_keys_init_is_safe_to_run_at_every_start(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["keys", "init"]).output
    second = runner.invoke(args=["keys", "init"]).output
    assert first == second and first.startswith("current response key rk-")


def test_keys_are_never_made_under_a_key_encryption_key_that_does_not_open_the_others(app: Flask) -> None:
    with app.app_context():
        before = db.session.query(ResponseKey).count()
    another = keyring.parse_kek(keyring.new_kek())  # say, from a .env made afresh on another machine
    app.config["ALLYLOOP"] = dataclasses.replace(app.config["ALLYLOOP"], key_encryption_key=another)
    runner = app.test_cli_runner()
    for command in ("rotate", "init"):
        result = runner.invoke(args=["keys", command])
        assert result.exit_code != 0 and "does not open the stored response keys" in result.output, command
    with app.app_context():
        assert db.session.query(ResponseKey).count() == before


def test_a_retired_key_refuses_new_answers_but_still_opens_old_ones(
    app: Flask, lead: Person, ally: Person, recipient: Recipient
) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=6)
    old = [recipient.envelope(token, {"wanted": "no"}) for token in tokens]
    kid = old[0]["kid"]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "retire", kid]).exit_code != 0, "the current key cannot be retired"
    assert recipient.client.post(f"/api/v1/answer/{tokens[0]}", json=old[0]).status_code == 202
    runner.invoke(args=["keys", "rotate"])
    assert runner.invoke(args=["keys", "retire", kid]).exit_code == 0
    refused = recipient.client.post(f"/api/v1/answer/{tokens[1]}", json=old[1])
    assert refused.status_code == 400 and "kid" in refused.get_json()["error"]["fields"]
    for token in tokens[1:5]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    counts = ally.get("/api/v1/me/feedback").get_json()["released"]["items"]["immediate.v1"]["wanted"]["counts"]
    assert counts == {"no": 1, "yes": 4}, "the answer sealed to the retired key was still opened"


def answer_one_cohort(app: Flask) -> Person:
    """An ally whose five links were all answered (accepted with 202) on this app."""
    client = app.test_client()
    lead, ally, recipient = Person(client, "Lee"), Person(client, "Alex"), Recipient(client)
    group = lead.create_group()
    lead.add(group, ally)
    for token in ally.ask(ally.log_action(group), count=5):
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    return ally


def test_with_redis_unreachable_answers_are_still_accepted_and_released_later(tmp_path: Path) -> None:
    """P7: the answer is committed before the 202; the release catches up when work runs."""
    app = build_app(tmp_path, redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    ally = answer_one_cohort(app)
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0, "no worker ran yet"
    with app.app_context():
        assert run_due_now().released_cohorts == 1
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5
    with app.app_context():
        db.engine.dispose()


def released_by_the_next_tick(ally: Person) -> None:
    """The ally's five answers are released by the background thread's next one-second tick
    (up to 20 s allowed, for a busy machine)."""
    for _ in range(200):
        if ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5:
            break
        time.sleep(0.1)
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5


def test_in_process_releases_run_on_a_background_thread_at_the_next_tick(tmp_path: Path) -> None:
    app = build_app(tmp_path, jobs_inline=False, release_interval_seconds=1)
    ally = answer_one_cohort(app)
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0, "not in the request itself"
    background = app.extensions["allyloop.jobs"]
    try:
        released_by_the_next_tick(ally)
    finally:
        background.stop()  # its run closes its session first; nor does it tick on in later tests' database
    with app.app_context():
        db.engine.dispose()


def test_run_due_without_a_key_encryption_key_says_so_plainly(tmp_path: Path) -> None:
    app = build_app(tmp_path, redis_url="redis://127.0.0.1:9/0", key_encryption_key=None)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code != 0
    assert "KEY_ENCRYPTION_KEY is needed" in result.output
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pending_app(tmp_path: Path) -> Iterator[Flask]:
    """Answers stay pending until a test runs due work itself (the tick is a day away)."""
    app = build_app(tmp_path, jobs_inline=False, release_interval_seconds=86400)
    yield app
    app.extensions["allyloop.jobs"].stop()
    with app.app_context():
        db.engine.dispose()


def after_the_first_opening(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run ``meanwhile`` once, after a release has opened and counted its answers and before
    it writes: the moment another process or request can slip in."""
    opened_first = run._open_pending
    done = False

    def opening_then_meanwhile(session: Session, scope_id: int, **kwargs: Any) -> Any:
        nonlocal done
        counted = opened_first(session, scope_id, **kwargs)
        if not done:
            done = True
            meanwhile()
        return counted

    monkeypatch.setattr(run, "_open_pending", opening_then_meanwhile)


def test_a_release_that_lost_a_race_publishes_nothing(pending_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes release the same scope at once: the answers are published once, in one cohort."""
    ally = answer_one_cohort(pending_app)
    reports: list[RunReport] = []

    def another_release_finishes() -> None:
        with pending_app.app_context():  # another process: its own session, committed before this one writes
            reports.append(run_due_now())

    after_the_first_opening(monkeypatch, another_release_finishes)
    with pending_app.app_context():
        late = run_due_now()
        assert reports[0].released_cohorts == 1, "the other process released the ally's five"
        assert late.released_cohorts == 0 and late.failed_scopes == []
        assert [c.responses for c in db.session.query(Cohort)] == [5]
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5


def test_invalid_answers_another_release_counts_meanwhile_are_kept(
    pending_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = pending_app.test_client()
    lead, ally, recipient = Person(client, "Lee"), Person(client, "Alex"), Recipient(client)
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=6)
    assert recipient.answer(tokens[0], {"wanted": "absolutely"}).status_code == 202  # found invalid on release
    for token in tokens[1:]:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    with pending_app.app_context():
        scope_id = db.session.scalars(select(Response.ally_scope_id)).first()

    def another_release_counts_one() -> None:
        with pending_app.app_context(), Session(db.engine) as other:
            other.execute(update(Scope).where(Scope.id == scope_id).values(invalid=Scope.invalid + 1))
            other.commit()

    after_the_first_opening(monkeypatch, another_release_counts_one)
    with pending_app.app_context():
        assert run_due_now().invalid == 1, "this release's own"
    with pending_app.app_context():
        assert db.session.get_one(Scope, scope_id).invalid == 2, "and the other's"


def test_answers_are_accepted_while_a_release_opens(pending_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a large release takes a while; on SQLite it must not hold the write lock meanwhile."""
    client = pending_app.test_client()
    lead, ally, recipient = Person(client, "Lee"), Person(client, "Alex"), Recipient(client)
    group = lead.create_group()
    lead.add(group, ally)
    first, late = ally.ask(ally.log_action(group), count=5), ally.ask(ally.log_action(group), count=1)[0]
    for token in first:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    during: list[int] = []

    def someone_answers() -> None:
        # A request of its own, as on a web worker: a thread starts outside this app context.
        answering = threading.Thread(target=lambda: during.append(recipient.answer(late, {"wanted": "no"}).status_code))
        answering.start()
        answering.join(60)

    after_the_first_opening(monkeypatch, someone_answers)
    with pending_app.app_context():
        assert run_due_now().released_cohorts == 1
        assert during == [202]
        waiting = db.session.query(Response).filter(Response.ally_cohort_id.is_(None)).count()
        assert waiting == 1, "the answer that came in meanwhile waits for the next release"
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5


def test_a_tick_another_process_is_running_is_skipped(tmp_path: Path) -> None:
    """Every web worker wakes for the tick; only one opens the answers, the others skip it."""
    app = build_app(tmp_path, jobs_inline=False, release_interval_seconds=1)
    background = app.extensions["allyloop.jobs"]
    with (Path(app.instance_path) / "jobs.lock").open("a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)  # another worker's tick, running before any answer came
        try:
            ally = answer_one_cohort(app)  # its requests start this process's thread
            time.sleep(2.5)  # two ticks pass
            assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0
            fcntl.flock(other_process, fcntl.LOCK_UN)
            released_by_the_next_tick(ally)  # now this process's
        finally:
            background.stop()
    with app.app_context():
        db.engine.dispose()
