"""Which follow-ups an ally may ask for on one of their actions today.

The rules are ``feedback.followups``' (asking early is a ``Conflict`` there); this only
reads them ahead, so the action page offers a follow-up on its due day and not before.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.followups import FOLLOWUP_STAGES
from feedback.models import Account, Action, Followup


@dataclass(frozen=True)
class Offer:
    stage: str
    due_on: date | None  # None: no immediate request yet, so nothing to follow up
    asked_on: date | None
    open: bool  # may be asked for today


def followup_offers(session: Session, ally: Account, action_id: int, *, today: date) -> dict[str, Offer]:
    """followup_30 and followup_90 for the ally's own action, with their due days."""
    rows = {
        row.stage: row
        for row in session.scalars(
            select(Followup)
            .join(Action, Followup.action_id == Action.id)
            .where(Followup.action_id == action_id, Action.ally_id == ally.id)
        )
    }
    offers = {}
    for stage in FOLLOWUP_STAGES:
        row = rows.get(stage)
        if row is None:
            offers[stage] = Offer(stage, None, None, open=False)
        else:
            offers[stage] = Offer(stage, row.due_on, row.asked_on, open=row.due_on <= today)
    return offers
