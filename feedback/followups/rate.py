"""The lead's follow-up rate: how many of the group's actions were followed up."""

from datetime import date

from sqlalchemy.orm import Session

from feedback.figures import FollowupRate
from feedback.release import closing


def followup_rate(session: Session, group_id: int, *, today: date, k: int) -> FollowupRate:
    """The share of the group's actions whose ally followed up, as a group aggregate.

    An action counts as followed up when its first follow-up was asked within
    ``closing.FOLLOW_UP_WINDOW`` of coming due, and it is counted only once that window has closed
    before the first day of this month, so its status is final when it enters the figure.
    Like answers into a group cohort, actions enter in batches, oldest first, each batch
    the shortest run that passes the group pool rule on its own (at least k actions from at
    least two allies, still so with any one ally's taken away). So what the figure gains
    from one month to the next is never one ally's record; until the first batch, it is
    suppressed. Counted batches are stored as each month closes (``feedback.release.closing``) and
    never cut again: an ally who leaves takes nothing out of them, and a changed
    ``RELEASE_MIN_RESPONSES`` applies to the batches still to come.
    """
    state, _ = closing.advance(session, group_id, cutoff=today.replace(day=1), k=k)
    as_of = state.through or today.replace(day=1)
    if not state.actions:
        return FollowupRate(as_of=as_of)
    return FollowupRate(as_of=as_of, actions=state.actions, followed_up=state.followed_up)
