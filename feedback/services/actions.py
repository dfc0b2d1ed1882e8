"""Actions an ally logs, and the requests (with single-use links) they make about them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import tokens
from feedback import followups, kinds, questionnaires
from feedback.errors import Invalid, NotFound
from feedback.models import Account, Action, FeedbackRequest, Link
from feedback.services.groups import membership
from feedback.services.scopes import scope_for

MAX_LINKS = 50


@dataclass(frozen=True)
class NewLink:
    token: str  # shown to the ally once, never stored
    expires_at: datetime


def log_action(
    session: Session,
    ally: Account,
    *,
    group_id: int,
    kind: str,
    summary: str,
    occurred_on: date,
    visibility: str,
    today: date,
) -> Action:
    membership(session, ally.id, group_id)  # allies and leads may both log what they did
    errors = {}
    if kind not in kinds.KIND_PATHS:
        errors["kind"] = "must be one of " + ", ".join(kinds.KINDS)
    if visibility not in kinds.VISIBILITIES:
        errors["visibility"] = "must be public or private"
    if occurred_on > today + timedelta(days=1):
        errors["occurred_on"] = "cannot be in the future"
    if not summary.strip():
        errors["summary"] = "must not be blank"
    if errors:
        raise Invalid("the action is not valid", errors)
    action = Action(
        group_id=group_id,
        ally_id=ally.id,
        kind=kind,
        summary=summary.strip(),
        occurred_on=occurred_on,
        visibility=visibility,
        created_on=today,
    )
    session.add(action)
    session.flush()
    return action


def list_actions(session: Session, ally: Account) -> list[Action]:
    return list(
        session.scalars(
            select(Action).where(Action.ally_id == ally.id).order_by(Action.occurred_on.desc(), Action.id.desc())
        )
    )


def own_action(session: Session, ally: Account, action_id: int) -> Action:
    action = session.get(Action, action_id)
    if action is None or action.ally_id != ally.id:
        raise NotFound("no such action")
    membership(session, ally.id, action.group_id)  # someone removed from the group can no longer ask
    return action


def create_request(
    session: Session,
    ally: Account,
    action_id: int,
    *,
    stage: str,
    count: int,
    now: datetime,
    link_days: int,
    followup_days: Sequence[int],
) -> list[NewLink]:
    """Make ``count`` single-use links. Their tokens exist only in the return value.

    An immediate request makes the action's follow-ups due ``followup_days`` later; a
    follow-up request must wait for its due day, and marks that follow-up asked.
    """
    action = own_action(session, ally, action_id)
    errors = {}
    if stage not in kinds.STAGES:
        errors["stage"] = "must be one of " + ", ".join(kinds.STAGES)
    if not 1 <= count <= MAX_LINKS:
        errors["count"] = f"must be between 1 and {MAX_LINKS}"
    if errors:
        raise Invalid("the request is not valid", errors)
    if stage in followups.FOLLOWUP_STAGES:
        followups.ask(session, action, stage, today=now.date())
    elif stage == "immediate":
        followups.schedule(session, action, today=now.date(), days=followup_days)
    questionnaire_id = questionnaires.for_stage(stage).id
    request = FeedbackRequest(
        action_id=action.id,
        stage=stage,
        questionnaire_id=questionnaire_id,
        ally_scope_id=scope_for(session, "ally", action.ally_id, questionnaire_id).id,
        group_scope_id=scope_for(session, "group", action.group_id, questionnaire_id).id,
        link_count=count,
        created_on=now.date(),
    )
    session.add(request)
    session.flush()
    expires_at = (now + timedelta(days=link_days)).replace(microsecond=0)
    links = [NewLink(token=tokens.new_link_token(), expires_at=expires_at) for _ in range(count)]
    session.add_all(
        Link(request_id=request.id, token_hash=tokens.link_lookup_hash(link.token), expires_at=expires_at, used=False)
        for link in links
    )
    session.flush()
    return links


def requests_for(session: Session, ally: Account, action_id: int) -> list[FeedbackRequest]:
    """The requests made about one of the ally's actions: stage, day and how many links, never
    which link was answered (P5)."""
    action = own_action(session, ally, action_id)
    return list(
        session.scalars(
            select(FeedbackRequest).where(FeedbackRequest.action_id == action.id).order_by(FeedbackRequest.id.desc())
        )
    )
