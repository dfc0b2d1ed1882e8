"""Releases: the due work run at once (CLI, tests, in-process ticks), and the RQ jobs that
find the scopes due and release each one."""

from datetime import datetime

from flask import current_app

from api.clock import utcnow
from api.extensions import db, session
from api.jobs.adapters import kek, mailer, release_settings
from api.jobs.queue import enqueue_once, logged, queue, rq_job
from api.sqlite import scrub
from feedback.release import run
from feedback.services import keys

RELEASE_FAILED = "in-process release failed; answers stay pending"


def run_due_now(now: datetime | None = None) -> run.RunReport:
    """Run everything due, once, in the current app context (CLI, tests, in-process mode)."""
    key = kek()
    db_session = session()
    now = now or utcnow()
    report = run.run_due(
        db_session,
        keys=keys.private_keys(db_session, key),
        settings=release_settings(current_app),
        now=now,
        mailer=mailer(current_app),
    )
    scrub(db.engine)  # every run, so one a busy moment cut short is finished by the next
    return report


def run_due_logged() -> None:
    logged(run_due_now, RELEASE_FAILED)


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
        run_due_logged()
    else:
        current_app.extensions["allyloop.jobs"].start()  # the next tick finds the answer


@rq_job
def run_due_job() -> dict[str, int]:
    """Everything ``feedback.release.run.run_due`` covers, once. Idempotent: see that function."""
    report = run_due_now()
    return {
        "released_cohorts": report.released_cohorts,
        "invalid": report.invalid,
        "purged_links": report.purged_links,
        "reminders_sent": report.reminders_sent,
    }


@rq_job
def release_due_job(tick: int) -> list[int]:
    """Find the scopes with enough pending answers and queue one release job for each.

    Idempotent: it only reads the database and enqueues jobs with ids fixed per scope and
    tick, so a second run in the same tick queues nothing new.
    """
    try:
        due = run.due_scope_ids(session(), current_app.config["ALLYLOOP"].release_min_responses)
    finally:
        db.session.remove()  # no connection held while talking to Redis
    target = queue()
    for scope_id in due:
        enqueue_once(target, release_scope_job, scope_id, job_id=f"allyloop-release-{scope_id}-{tick}")
    return due


@rq_job
def release_scope_job(scope_id: int) -> int:
    """Release one scope's pending answers as a cohort; the count released.

    Idempotent: the write locks the scope row and marks only answers still pending, all of
    the ones counted or none, so a second run finds nothing pending; a run killed half-way
    commits nothing, and the next tick releases the same answers once.
    """
    db_session = session()
    cohort = run.release_scope(
        db_session,
        scope_id,
        keys=keys.private_keys(db_session, kek()),
        settings=release_settings(current_app),
        today=utcnow().date(),
    )
    released = cohort.responses if cohort is not None else 0  # before the commit expires it
    db_session.commit()
    scrub(db.engine)  # released or invalid answers may have lost their envelopes
    return released
