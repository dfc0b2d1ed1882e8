"""At rest: once a release has dropped an answer's envelope, its ciphertext is gone from
the database's files (SQLite's WAL included), and on PostgreSQL from the table's pages."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from api.extensions import db
from api.jobs import queue as job_queue
from api.jobs.release import release_scope_job, run_due_now
from feedback.models import Envelope
from feedback.release import run
from tests.conftest import build_app, group_answered

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
WINDOW = 16  # bytes: a fragment this long of a ciphertext is taken as the ciphertext found


@pytest.fixture
def pending_app(tmp_path: Path) -> Iterator[Flask]:
    """Answers stay pending until a test releases them: with REDIS_URL set the web tier
    leaves all work to a worker (this one unreachable), and the test plays the worker."""
    app = build_app(tmp_path, redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def answered_by_three_allies(app: Flask) -> list[bytes]:
    """Three allies of one group get five answers each, all left pending; the envelopes'
    sealed bytes. Releasing them releases every answer in both its views, so every envelope
    is then deleted."""
    group_answered(app.test_client(), ("Ana", "Ben", "Cy"))
    return envelopes(app)


def envelopes(app: Flask) -> list[bytes]:
    with app.app_context():
        try:
            return list(db.session.scalars(select(Envelope.sealed)))
        finally:
            db.session.remove()


def release_by_running_due_work(app: Flask, _monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process ticks and ``flask jobs run-due``."""
    with app.app_context():
        report = run_due_now()
        db.session.remove()
    assert report.released_cohorts == 4, "each ally's view and the group's"


def release_by_rq_jobs(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The RQ worker's release jobs, one per due scope, as the scheduler queues them."""
    monkeypatch.setattr(job_queue, "worker_app", lambda: app)  # the worker's app, on this database
    with app.app_context():
        due = run.due_scope_ids(db.session, app.config["ALLYLOOP"].release_min_responses)
        db.session.remove()
    assert sorted(release_scope_job(scope_id) for scope_id in due) == [5, 5, 5, 15]


RELEASES = pytest.mark.parametrize(
    "release", [release_by_running_due_work, release_by_rq_jobs], ids=["run-due", "rq-release-job"]
)


def sqlite_files(app: Flask) -> list[Path]:
    """The database file, its WAL and its shared-memory index: every file SQLite writes."""
    main = Path(str(make_url(app.config["ALLYLOOP"].database_url).database))
    return [path for path in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if path.exists()]


def found_in(files: list[Path], sealed: list[bytes]) -> dict[int, list[str]]:
    """For each ciphertext (by position) with any WINDOW consecutive bytes of it in the files,
    the files they are in."""
    owner = {blob[i : i + WINDOW]: n for n, blob in enumerate(sealed) for i in range(len(blob) - WINDOW + 1)}
    found: dict[int, list[str]] = {}
    for path in files:
        data = path.read_bytes()
        for n in {owner[piece] for i in range(len(data) - WINDOW + 1) if (piece := data[i : i + WINDOW]) in owner}:
            found.setdefault(n, []).append(path.name)
    return found


@pytest.mark.skipif(ON_POSTGRES, reason="scans SQLite's files; PostgreSQL has its own test below")
@RELEASES
def test_no_byte_run_of_a_deleted_envelope_stays_in_the_sqlite_file_or_its_wal(
    pending_app: Flask, monkeypatch: pytest.MonkeyPatch, release: Callable[[Flask, pytest.MonkeyPatch], None]
) -> None:
    """The attack: deleted envelopes read back from allyloop.sqlite3-wal and matched to links."""
    sealed = answered_by_three_allies(pending_app)
    assert len(sealed) == 15
    assert sorted(found_in(sqlite_files(pending_app), sealed)) == list(range(15)), "the scan sees pending ones"

    release(pending_app, monkeypatch)

    assert envelopes(pending_app) == [], "every answer was released in both its views"
    assert found_in(sqlite_files(pending_app), sealed) == {}


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (TEST_DATABASE_URL)")
@RELEASES
def test_a_release_that_empties_the_envelope_table_leaves_it_no_pages_on_postgresql(
    pending_app: Flask, monkeypatch: pytest.MonkeyPatch, release: Callable[[Flask, pytest.MonkeyPatch], None]
) -> None:
    """Deleted row versions stay in the table's pages until VACUUM; once it has run, a table
    left empty is truncated to no page at all, its TOAST table too. (``n_dead_tup`` would be
    no proof: a backend reports its deletes to the statistics up to a second late, after the
    VACUUM that removed them.)"""
    assert len(answered_by_three_allies(pending_app)) == 15
    pages = text(
        "SELECT pg_relation_size(oid) + coalesce(pg_relation_size(nullif(reltoastrelid, 0)), 0)"
        " FROM pg_class WHERE oid = 'envelope'::regclass"
    )
    with pending_app.app_context():
        assert db.session.scalar(pages), "the pending envelopes take pages"
        db.session.remove()

    release(pending_app, monkeypatch)

    assert envelopes(pending_app) == [], "every answer was released in both its views"
    with pending_app.app_context():
        assert db.session.scalar(pages) == 0
        db.session.remove()
