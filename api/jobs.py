"""Where background work runs: RQ workers when REDIS_URL is set, in-process otherwise.

Jobs take no objects, only ids or nothing; each opens its own app context and session,
calls one plain function from ``feedback.jobs``, and is idempotent.
"""

import contextlib
import logging
import threading
import time
from datetime import datetime
from functools import cache

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from api import mail
from api.clock import utcnow
from api.extensions import session
from feedback import jobs
from feedback.services import keys

log = logging.getLogger("allyloop")
QUEUE_NAME = "allyloop"


class MissingKey(RuntimeError):
    """Jobs asked to open answers in a process that was given no key-encryption key."""


def release_settings(app: Flask) -> jobs.ReleaseSettings:
    return jobs.ReleaseSettings(k=app.config["ALLYLOOP"].release_min_responses, comment_key=app.config["COMMENT_KEY"])


def kek() -> bytes:
    """The key-encryption key, for the processes that open answers or make keys."""
    key: bytes | None = current_app.config["ALLYLOOP"].key_encryption_key
    if key is None:
        raise MissingKey("KEY_ENCRYPTION_KEY is needed here: set it where jobs run and keys are made")
    return key


def run_due_now(now: datetime | None = None) -> jobs.RunReport:
    """Run everything due, once, in the current app context (CLI, tests, in-process mode)."""
    key = kek()
    db_session = session()
    return jobs.run_due(
        db_session,
        keys=keys.private_keys(db_session, key),
        settings=release_settings(current_app),
        now=now or utcnow(),
        commit=db_session.commit,
        send=mail.sender(current_app.config["ALLYLOOP"]),
    )


class Background:
    """In-process jobs: one daemon thread per process runs due work.

    It runs a couple of seconds after answers arrive (so a burst costs one run, not one
    each), and at least every ``PERIOD_SECONDS`` besides, so work left by a restart or a
    failed run is picked up without waiting for the next answer. A process that dies
    mid-run loses nothing: its transaction rolls back and the answers stay pending (P7).
    """

    CADENCE_SECONDS = 2.0
    PERIOD_SECONDS = 60.0

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.busy = False  # True while a run holds a session

    def start(self) -> None:
        """Start the thread if this process has none (first request, or after a fork)."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="allyloop-jobs", daemon=True)
                self._thread.start()
                self._wake.set()  # one run soon after start: work may be waiting from before

    def poke(self) -> None:
        self.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            if self._wake.wait(self.PERIOD_SECONDS):
                time.sleep(self.CADENCE_SECONDS)  # let arrivals gather into one run
            self._wake.clear()
            self.busy = True
            with self._app.app_context():
                _run_logged()
            self.busy = False


def _run_logged() -> None:
    try:
        run_due_now()
    except Exception:
        log.exception("in-process release failed; answers stay pending")
    finally:
        with contextlib.suppress(Exception):  # a broken connection must not end the thread
            session().close()


def answers_arrived() -> None:
    """Called after an answer is committed: let the release work look for full cohorts."""
    settings = current_app.config["ALLYLOOP"]
    if settings.redis_url is None:
        if settings.jobs_inline:
            _run_logged()
        else:
            current_app.extensions["allyloop.jobs"].poke()
        return
    try:
        queue().enqueue(run_due_job, job_id="allyloop-run-due", at_front=False)
    except Exception:  # noqa: BLE001 - the answer is committed; the next run catches up (P7)
        log.warning("could not queue the release job; the next queued run or `flask jobs run-due` catches up")


@cache
def _connection(url: str) -> Redis:
    return Redis.from_url(url)


def queue() -> Queue:
    return Queue(QUEUE_NAME, connection=_connection(current_app.config["ALLYLOOP"].redis_url))


@cache
def _worker_app() -> Flask:
    from api import create_app

    return create_app()


def run_due_job() -> dict[str, int]:
    """RQ entry point: everything due, once."""
    with _worker_app().app_context():
        report = run_due_now()
        return {
            "released_cohorts": report.released_cohorts,
            "invalid": report.invalid,
            "purged_links": report.purged_links,
        }
