"""The schedule: each kind of background work on its wall-clock tick, kept by a thread in
every RQ worker (``Worker``, the Procfile's ``worker`` line)."""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue
from rq.registry import StartedJobRegistry
from rq.worker import SimpleWorker

from api.config import Settings
from api.jobs.deliver import MAIL_INTERVAL_SECONDS, deliver_job
from api.jobs.followups import reminders_job
from api.jobs.purge import purge_job
from api.jobs.queue import QUEUE_NAME, connection, enqueue_once, worker_app
from api.jobs.release import release_due_job, run_due_job

log = logging.getLogger("allyloop")


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
        app = worker_app()  # builds and checks the configuration before taking any job
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
