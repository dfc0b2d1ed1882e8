"""Emails with links (delivered requests, account emails): sent at once when queued, and
on a short tick for retries and whatever a crash left waiting."""

import logging
from datetime import datetime

from flask import current_app

from api.clock import utcnow
from api.extensions import session
from api.jobs.adapters import mailer
from api.jobs.queue import enqueue_once, logged, queue, rq_job
from feedback import delivery

log = logging.getLogger("allyloop")
# Emails with links go out at once; this tick retries them and sends what a crash left waiting.
MAIL_INTERVAL_SECONDS = 30
SEND_FAILED = "sending emails with links failed; they wait and are retried"


def send_letters_now(now: datetime | None = None) -> delivery.SendReport:
    """Send every email with a link that is due, in the current app context."""
    db_session = session()
    return delivery.send_due(db_session, mailer(current_app), now=now or utcnow())


def send_logged() -> None:
    logged(send_letters_now, SEND_FAILED)


@rq_job
def deliver_job() -> int:
    """Send the emails with links that are due; the number sent. Idempotent and exactly
    once but for a crash mid-send: see ``feedback.delivery``."""
    return send_letters_now().sent


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
        send_logged()
    else:
        current_app.extensions["allyloop.jobs"].wake_mail()
