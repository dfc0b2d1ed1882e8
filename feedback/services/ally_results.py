"""An ally's pooled results read in plain language, with what to try next."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback import reading
from feedback.models import Account, Action
from feedback.services.results import ally_feedback


def pooled_reading(session: Session, ally: Account, *, k: int, comment_key: bytes) -> reading.Reading:
    feedback = ally_feedback(session, ally, k=k, comment_key=comment_key)
    action_kinds = session.scalars(select(Action.kind).where(Action.ally_id == ally.id)).all()
    return reading.read(feedback, action_kinds)
