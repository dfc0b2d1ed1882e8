"""The RQ plumbing, written once: the Redis client, the queue, enqueue-once, and the
wrapper every job runs in (its own app context and session, closed whatever happens)."""

import contextlib
import functools
import logging
from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from rq.job import JobStatus

from api.extensions import db, session

log = logging.getLogger("allyloop")
QUEUE_NAME = "allyloop"
# Redis calls from the web tier and the scheduler give up fast: an answer never waits on Redis.
REDIS_TIMEOUT_SECONDS = 2.0
JOB_TIMEOUT_SECONDS = 15 * 60
RESULT_TTL_SECONDS = 24 * 3600  # finished and failed jobs stay visible to `rq info` for a day

P = ParamSpec("P")
R = TypeVar("R")


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


@cache
def worker_app() -> Flask:
    """The app a worker process runs its jobs in, built once per process."""
    from api import create_app

    return create_app()


def rq_job(body: Callable[P, R]) -> Callable[P, R]:
    """An RQ job: ``body`` runs inside the worker's app context, and its session is removed
    afterwards whatever happens. RQ finds the job by the body's module and name."""

    @functools.wraps(body)
    def job(*args: P.args, **kwargs: P.kwargs) -> R:
        with worker_app().app_context():
            try:
                return body(*args, **kwargs)
            finally:
                db.session.remove()

    return job


def logged(work: Callable[[], object], failure: str) -> None:
    """Run ``work`` in the current app context for the in-process threads: a failure is
    logged (``failure`` says what stays waiting) and never ends the thread."""
    try:
        work()
    except Exception:
        log.exception(failure)
    finally:
        with contextlib.suppress(Exception):  # a broken connection must not end the thread
            session().close()


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
