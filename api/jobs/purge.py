"""Forgetting what has expired: old links and API tokens."""

from api.clock import utcnow
from api.extensions import db, session
from api.jobs.queue import rq_job
from api.sqlite import scrub
from feedback.release import purge


@rq_job
def purge_job() -> int:
    """Forget long-expired links and expired API tokens. Idempotent: deletes by age only."""
    purged = purge.purge(session(), now=utcnow())
    session().commit()
    scrub(db.engine)  # hourly: also finishes a scrub a busy moment cut short
    return purged
