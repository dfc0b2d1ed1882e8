"""Where background work runs: RQ workers when REDIS_URL is set, in-process otherwise.

Jobs take no objects, only ids or nothing; each opens its own app context and session,
calls one plain function from ``feedback.jobs``, and is idempotent: the database, not the
queue, says what is due, so running a job twice (or after a worker died half-way) does
nothing the first run did not.

With Redis, the worker process (``Worker`` below, the Procfile's ``worker`` line) also
keeps the schedule: a thread enqueues each kind of work on a fixed wall-clock tick
(``SCHEDULE``). Releases run only on those ticks, never right after the k-th answer, so
the moment a cohort appears says only "some answers came in during the last interval",
not who answered last.
"""

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.worker import SimpleWorker
from sqlalchemy.orm import Session

from api import mail
from api.clock import utcnow
from api.config import Settings
from api.extensions import db, session
from api.sqlite import scrub
from feedback import delivery, followups, jobs
from feedback.services import accounts, keys

log = logging.getLogger("allyloop")
QUEUE_NAME = "allyloop"
# Redis calls from the web tier and the scheduler give up fast: an answer never waits on Redis.
REDIS_TIMEOUT_SECONDS = 2.0
JOB_TIMEOUT_SECONDS = 15 * 60
RESULT_TTL_SECONDS = 24 * 3600  # finished and failed jobs stay visible to `rq info` for a day
# Emails with links go out at once; this tick retries them and sends what a crash left waiting.
MAIL_INTERVAL_SECONDS = 30


class MissingKey(RuntimeError):
    """Jobs asked to open answers in a process that was given no key-encryption key."""


def release_settings(app: Flask) -> jobs.ReleaseSettings:
    settings = app.config["ALLYLOOP"]
    return jobs.ReleaseSettings(
        k=settings.release_min_responses,
        comment_key=app.config["COMMENT_KEY"],
        processes=settings.release_processes,
    )


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
    now = now or utcnow()
    report = jobs.run_due(
        db_session,
        keys=keys.private_keys(db_session, key),
        settings=release_settings(current_app),
        now=now,
        commit=db_session.commit,
        mailer=mailer(current_app),
    )
    scrub(db.engine)  # every run, so one a busy moment cut short is finished by the next
    return report


def send_reminders(db_session: Session, *, now: datetime) -> int:
    """Reminder emails for the follow-ups due: over MAIL_URL, or into the development outbox."""
    outgoing = mailer(current_app)
    return followups.dispatch_reminders(
        db_session,
        today=now.date(),
        send=outgoing.send,
        app_url=outgoing.app_url + "/ally/",
        gettext=outgoing.gettext,
    )


class Background:
    """In-process jobs: one daemon thread per process runs due work on wall-clock ticks, and
    another sends the emails with delivered links (at once when asked, and every
    ``MAIL_INTERVAL_SECONDS`` for retries).

    Ticks come every ``RELEASE_INTERVAL_SECONDS``, as with Redis, and never right after an
    answer: the moment a cohort appears does not point at whoever answered last. Work left
    by a restart or a failed run is picked up at the next tick. Every process wakes for a
    tick; one runs it and the others on the machine skip it. Processes on other machines
    may run it too: releases mark only what is still pending, so nothing is released twice.
    A process that dies mid-run loses nothing: its transaction rolls back and the answers
    stay pending (P7).
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._stopping = threading.Event()
        self._letters = threading.Event()  # set when a delivered request has emails waiting

    def _running(self) -> bool:
        return len(self._threads) == 2 and all(t.is_alive() for t in self._threads.values())

    def start(self) -> None:
        """Start the threads this process lacks (first request, or after a fork); never
        again once stopped. One runs the ticks, one sends the emails with links."""
        if self._stopping.is_set() or self._running():
            return
        with self._lock:
            if self._stopping.is_set():
                return
            for name, target in (("allyloop-jobs", self._loop), ("allyloop-mail", self._mail_loop)):
                thread = self._threads.get(name)
                if thread is None or not thread.is_alive():
                    thread = self._threads[name] = threading.Thread(target=target, name=name, daemon=True)
                    thread.start()

    def wake_mail(self) -> None:
        """Emails with links are waiting: send them now rather than at the next mail tick."""
        self.start()
        self._letters.set()

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread for good, after the run in progress (if any) has closed its session.

        Whoever disposes of the app's engine, or reuses its database for something else
        (tests do, on one shared PostgreSQL database), stops this first.
        """
        with self._lock:
            self._stopping.set()
            self._letters.set()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)

    def _loop(self) -> None:
        interval = self._app.config["ALLYLOOP"].release_interval_seconds
        turns = Path(self._app.instance_path) / "jobs.lock"
        while not self._stopping.wait(interval - time.time() % interval):
            with _alone(turns) as alone:
                if alone:
                    with self._app.app_context():
                        _run_logged()

    def _mail_loop(self) -> None:
        """Emails with links go out as soon as they are asked for; retries, and any a
        restart left waiting, on a short tick."""
        turns = Path(self._app.instance_path) / "mail.lock"
        while not self._stopping.is_set():
            self._letters.wait(MAIL_INTERVAL_SECONDS)
            self._letters.clear()
            if self._stopping.is_set():
                return
            with _alone(turns) as alone:
                if alone:
                    with self._app.app_context():
                        _send_logged()


@contextlib.contextmanager
def _alone(lock_file: Path) -> Iterator[bool]:
    """Whether this process is the only one here running the tick. Every web worker's thread
    wakes at the same moment; the others skip it rather than open the same answers again
    only to find, when they write, that one of them was first. Correctness does not rest on
    this (releases mark only what is still pending); it saves the repeated work."""
    with lock_file.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # closing the file, whatever happens, releases the lock


def _run_logged() -> None:
    try:
        run_due_now()
    except Exception:
        log.exception("in-process release failed; answers stay pending")
    finally:
        with contextlib.suppress(Exception):  # a broken connection must not end the thread
            session().close()


def delivery_keys() -> delivery.DeliveryKeys:
    config = current_app.config
    return delivery.DeliveryKeys(recipients=config["RECIPIENT_KEY"], at_rest=config["DELIVERY_KEY"])


def mailer(app: Flask) -> delivery.Mailer:
    """How emails with links are sent: over MAIL_URL, or into the development outbox."""
    settings: Settings = app.config["ALLYLOOP"]
    return delivery.Mailer(
        send=mail.transport(settings, app.instance_path),
        key=app.config["DELIVERY_KEY"],
        app_url=settings.public_base_url,
        k=settings.release_min_responses,
        gettext=gettext,
    )


def letters() -> accounts.Letters:
    """How emails about accounts are queued (sent like the emails with links)."""
    app = current_app
    return accounts.Letters(
        key=app.config["DELIVERY_KEY"], app_url=app.config["ALLYLOOP"].public_base_url, gettext=gettext
    )


def send_letters_now(now: datetime | None = None) -> delivery.SendReport:
    """Send every email with a link that is due, in the current app context."""
    db_session = session()
    return delivery.send_due(db_session, mailer(current_app), now=now or utcnow(), commit=db_session.commit)


def _send_logged() -> None:
    try:
        send_letters_now()
    except Exception:
        log.exception("sending emails with links failed; they wait and are retried")
    finally:
        with contextlib.suppress(Exception):
            session().close()


def deliveries_waiting() -> None:
    """Called after emails were queued and committed (a delivered request, an account's
    email): they go out now, in the background, never in the request that queued them.

    They wait in the database already, so whatever fails here (Redis away, a process that
    dies) only delays them to the next mail tick.
    """
    settings = current_app.config["ALLYLOOP"]
    if settings.redis_url is not None:
        try:
            enqueue_once(queue(), deliver_job, job_id="allyloop-deliver-now")
        except Exception as exc:  # noqa: BLE001 - Redis away: the worker's mail tick sends them
            log.warning("could not queue emails with links (%s); the next mail tick sends them", type(exc).__name__)
        return
    if settings.jobs_inline:
        _send_logged()
    else:
        current_app.extensions["allyloop.jobs"].wake_mail()


def answers_arrived() -> None:
    """Called after an answer is committed. Releases wait for the next tick, which finds the
    answer in the database (tests run them inline instead).

    With Redis this does nothing on purpose: the scheduler's tick finds the answer. So the
    web tier never touches Redis to accept an answer, and accepts (202) while Redis is down (P7).
    """
    settings = current_app.config["ALLYLOOP"]
    if settings.redis_url is not None:
        return
    if settings.jobs_inline:
        _run_logged()
    else:
        current_app.extensions["allyloop.jobs"].start()  # the next tick finds the answer


@cache
def connection(url: str) -> Redis:
    """One client per process and URL, with short timeouts so a dead Redis fails fast."""
    return Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


def queue(url: str | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=connection(url or current_app.config["ALLYLOOP"].redis_url))


# --- RQ jobs: plain values in, each idempotent -------------------------------------------


@cache
def _worker_app() -> Flask:
    from api import create_app

    return create_app()


def run_due_job() -> dict[str, int]:
    """Everything ``feedback.jobs.run_due`` covers, once. Idempotent: see that function."""
    with _worker_app().app_context():
        try:
            report = run_due_now()
        finally:
            db.session.remove()
        return {
            "released_cohorts": report.released_cohorts,
            "invalid": report.invalid,
            "purged_links": report.purged_links,
            "reminders_sent": report.reminders_sent,
        }


def release_due_job(tick: int) -> list[int]:
    """Find the scopes with enough pending answers and queue one release job for each.

    Idempotent: it only reads the database and enqueues jobs with ids fixed per scope and
    tick, so a second run in the same tick queues nothing new.
    """
    with _worker_app().app_context():
        try:
            due = jobs.due_scope_ids(session(), current_app.config["ALLYLOOP"].release_min_responses)
        finally:
            db.session.remove()
        target = queue()
        for scope_id in due:
            enqueue_once(target, release_scope_job, scope_id, job_id=f"allyloop-release-{scope_id}-{tick}")
        return due


def release_scope_job(scope_id: int) -> int:
    """Release one scope's pending answers as a cohort; the count released.

    Idempotent: the write locks the scope row and marks only answers still pending, all of
    the ones counted or none, so a second run finds nothing pending; a run killed half-way
    commits nothing, and the next tick releases the same answers once.
    """
    with _worker_app().app_context():
        db_session = session()
        try:
            cohort = jobs.release_scope(
                db_session,
                scope_id,
                keys=keys.private_keys(db_session, kek()),
                settings=release_settings(current_app),
                today=utcnow().date(),
            )
            db_session.commit()
            scrub(db.engine)  # released or invalid answers may have lost their envelopes
            return cohort.responses if cohort is not None else 0
        finally:
            db.session.remove()


def reminders_job() -> int:
    """Email allies about follow-ups that came due; the number of emails sent.

    Idempotent and at least once: see ``feedback.followups.dispatch_reminders``. Without
    ``MAIL_URL`` the emails land in the development outbox.
    """
    with _worker_app().app_context():
        try:
            return send_reminders(session(), now=utcnow())
        finally:
            db.session.remove()


def deliver_job() -> int:
    """Send the emails with links that are due; the number sent. Idempotent and exactly
    once but for a crash mid-send: see ``feedback.delivery``."""
    with _worker_app().app_context():
        try:
            return send_letters_now().sent
        finally:
            db.session.remove()


def purge_job() -> int:
    """Forget long-expired links and expired API tokens. Idempotent: deletes by age only."""
    with _worker_app().app_context():
        try:
            purged = jobs.purge(session(), now=utcnow())
            session().commit()
            scrub(db.engine)  # hourly: also finishes a scrub a busy moment cut short
            return purged
        finally:
            db.session.remove()


# --- the schedule ------------------------------------------------------------------------


@dataclass(frozen=True)
class Every:
    """One kind of scheduled work: ``job(tick)`` or ``job()``, every ``seconds(settings)``."""

    name: str
    job: Callable[..., Any]
    seconds: Callable[[Settings], int]
    takes_tick: bool = False


# Adding a kind of background work is one line here.
SCHEDULE: tuple[Every, ...] = (
    Every("release", release_due_job, lambda s: s.release_interval_seconds, takes_tick=True),
    Every("deliver", deliver_job, lambda _s: MAIL_INTERVAL_SECONDS),  # retries, and what a crash left
    Every("purge", purge_job, lambda _s: 3600),
    Every("reminders", reminders_job, lambda _s: 3600),
    Every("run-due", run_due_job, lambda _s: 6 * 3600),  # a catch-all sweep of everything run_due covers
)


_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def enqueue_once(target: Queue, func: Callable[..., Any], *args: Any, job_id: str) -> bool:
    """Queue ``func(*args)`` under ``job_id`` unless that job is already waiting or running.

    A finished or failed job of that id (kept for ``rq info``) is replaced.
    """
    existing = target.fetch_job(job_id)
    if existing is not None:
        if existing.get_status(refresh=False) in _LIVE:
            return False
        with contextlib.suppress(Exception):  # a dead worker's bookkeeping may be half gone
            existing.delete()
    target.enqueue(
        func,
        *args,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT_SECONDS,
        result_ttl=RESULT_TTL_SECONDS,
        failure_ttl=RESULT_TTL_SECONDS,
    )
    return True


def tick(redis: Redis, settings: Settings, now: float, *, force: bool = False) -> list[str]:
    """Enqueue every kind of work whose tick has come; the names of those enqueued.

    Ticks sit on the wall clock (tick n covers [n*s, (n+1)*s) seconds since the epoch), so
    every worker agrees on them; a Redis key taken with SET NX lets one scheduler per tick
    enqueue, however many workers run. Work from a tick missed while Redis or every worker
    was down is simply found in the database at the next one. Also moves jobs orphaned by
    a killed worker out of the started registry (their work is re-found the same way).
    """
    target = Queue(QUEUE_NAME, connection=redis)
    StartedJobRegistry(queue=target).cleanup()
    enqueued = []
    for every in SCHEDULE:
        seconds = every.seconds(settings)
        number = int(now // seconds)
        claimed = redis.set(f"allyloop:tick:{every.name}:{number}", "1", nx=True, ex=seconds * 2)
        if not claimed and not force:
            continue
        args = (number,) if every.takes_tick else ()
        if enqueue_once(target, every.job, *args, job_id=f"allyloop-{every.name}-{number}"):
            enqueued.append(every.name)
    return enqueued


def next_tick_in(settings: Settings, now: float) -> float:
    """Seconds until the earliest next tick of any kind (at least a tenth of a second)."""
    return max(0.1, min(s - now % s for s in (every.seconds(settings) for every in SCHEDULE)))


class Scheduler(threading.Thread):
    """The schedule, on a daemon thread inside each worker process: no extra process to run."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        super().__init__(name="allyloop-scheduler", daemon=True)
        self.redis = redis
        self.settings = settings
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                tick(self.redis, self.settings, time.time())
            except Exception as exc:  # noqa: BLE001 - Redis away: the next tick re-finds the work
                log.warning("scheduler tick failed (%s); retrying at the next tick", type(exc).__name__)
            self.stopping.wait(next_tick_in(self.settings, time.time()))


class Worker(SimpleWorker):
    """The Procfile's RQ worker: runs jobs in its own process and keeps the schedule.

    Jobs run in the worker process itself (no fork per job), so the app and its connection
    pool are built once. After a Redis outage it retries every few seconds, not up to a
    minute as RQ's default backoff would. ``kill -9`` at any moment loses nothing: a job's transaction rolls
    back, and the next tick finds its work again in the database.
    """

    max_connection_wait_time = 5.0

    def work(self, *args: Any, **kwargs: Any) -> bool:
        app = _worker_app()  # builds and checks the configuration before taking any job
        settings: Settings = app.config["ALLYLOOP"]
        redis = connection(settings.redis_url or "")
        if kwargs.get("burst"):
            tick(redis, settings, time.time(), force=True)  # a burst run does what is due now, then stops
            return bool(super().work(*args, **kwargs))
        scheduler = Scheduler(redis, settings)
        scheduler.start()
        try:
            while True:
                try:
                    return bool(super().work(*args, **kwargs))
                except (RedisConnectionError, RedisTimeoutError) as exc:
                    # RQ gives up when Redis drops in the middle of a job; we wait and carry on. The
                    # job's own transaction committed or rolled back already; the tick re-finds its work.
                    log.warning("lost Redis (%s); the worker reconnects in a few seconds", type(exc).__name__)
                    time.sleep(self.max_connection_wait_time)
                    with contextlib.suppress(Exception):  # so the same worker name can register again
                        self.register_death()  # type: ignore[no-untyped-call]
        finally:
            scheduler.stopping.set()
