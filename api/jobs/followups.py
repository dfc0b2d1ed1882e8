"""Reminder emails for the follow-ups that came due."""

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.extensions import session
from api.jobs.adapters import mailer
from api.jobs.queue import rq_job
from feedback import followups


def send_reminders(db_session: Session, *, now: datetime) -> int:
    """Reminder emails for the follow-ups due: over MAIL_URL, or into the development outbox."""
    outgoing = mailer(current_app)
    return followups.dispatch_reminders(
        db_session,
        today=now.date(),
        send=outgoing.send,
        app_url=outgoing.app_url + "/ally/",
        speak=outgoing.speak,
    )


@rq_job
def reminders_job() -> int:
    """Email allies about follow-ups that came due; the number of emails sent.

    Idempotent and at least once: see ``feedback.followups.dispatch_reminders``. Without
    ``MAIL_URL`` the emails land in the development outbox.
    """
    return send_reminders(session(), now=utcnow())
