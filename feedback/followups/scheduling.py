"""Follow-up scheduling: the rows written when an immediate request is made, asking a
stage, and which follow-ups are due (see ``feedback.followups``)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback import stages
from feedback.errors import Conflict
from feedback.models import Account, Action, Followup, Membership

FOLLOWUP_STAGES: Final = stages.FOLLOWUPS
DEFAULT_DAYS: Final = (30, 90)


@dataclass(frozen=True)
class DueFollowup:
    action_id: int
    stage: str
    due_on: date
    summary: str  # the ally's own words about what they did


def check_days(days: Sequence[int]) -> tuple[int, int]:
    """Offsets in days for followup_30 and followup_90: two, increasing, at most ten years."""
    if len(days) != len(FOLLOWUP_STAGES):
        raise ValueError(f"give {len(FOLLOWUP_STAGES)} numbers of days, one per follow-up, such as 30,90")
    first, second = days
    if not 0 < first < second <= 3650:
        raise ValueError("the days must increase, from 1 up to 3650, such as 30,90")
    return first, second


def schedule(session: Session, action: Action, *, today: date, days: Sequence[int] = DEFAULT_DAYS) -> None:
    """Make the action's follow-ups due ``days`` after today, unless they already exist.

    Called when an immediate request is made; a second immediate request moves nothing.
    """
    existing = set(session.scalars(select(Followup.stage).where(Followup.action_id == action.id)))
    for stage, offset in zip(FOLLOWUP_STAGES, check_days(days), strict=True):
        if stage in existing:
            continue
        try:
            with session.begin_nested():  # a racing request may have made it: theirs stands
                session.add(Followup(action_id=action.id, stage=stage, due_on=today + timedelta(days=offset)))
        except IntegrityError:
            continue


def ask(session: Session, action: Action, stage: str, *, today: date) -> None:
    """Check that the follow-up ``stage`` may be asked today, and mark it asked.

    Raises Conflict before the immediate request or before the due day: answers collected
    early would say nothing about whether the help lasted, and would dilute the pool that does.
    """
    followup = session.scalar(
        select(Followup).where(Followup.action_id == action.id, Followup.stage == stage).with_for_update()
    )
    if followup is None:
        raise Conflict("ask for immediate feedback on this action first; follow-ups come after it")
    if followup.due_on > today:
        raise Conflict(f"this follow-up is due on {followup.due_on.isoformat()}; ask then")
    if followup.asked_on is None:
        followup.asked_on = today
        session.flush()


def due_query(today: date) -> Any:
    return (
        select(Followup, Action)
        .join(Action, Followup.action_id == Action.id)
        # Someone who left the group can no longer ask, so they are not reminded either.
        .join(Membership, (Membership.group_id == Action.group_id) & (Membership.account_id == Action.ally_id))
        .where(Followup.due_on <= today, Followup.asked_on.is_(None))
        .order_by(Followup.due_on, Followup.action_id, Followup.stage)
    )


def due_followups(session: Session, ally: Account, today: date) -> list[DueFollowup]:
    """The ally's own follow-ups that are due and not yet asked, oldest first."""
    rows = session.execute(due_query(today).where(Action.ally_id == ally.id)).all()
    return [DueFollowup(f.action_id, f.stage, f.due_on, a.summary) for f, a in rows]
