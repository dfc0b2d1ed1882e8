"""Actions an ally logs, and the requests (with single-use links) they make about them."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import tokens
from feedback import delivery, followups, kinds, questionnaires, stages, text
from feedback.errors import Invalid, NotFound
from feedback.models import Account, Action, Delivery, FeedbackRequest, Link
from feedback.services.groups import membership
from feedback.services.scopes import scope_for

MAX_LINKS = 50
_shuffle = secrets.SystemRandom().shuffle


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
    occurred_on: date | None = None,
    visibility: str,
    today: date,
) -> Action:
    """Log what the ally did on ``occurred_on``, or, with no day, what they are thinking of
    doing: a planned action, to ask advice about before acting."""
    membership(session, ally.id, group_id)  # allies and leads may both log what they did
    summary = text.clean(summary)  # recipients read it on their answer page: no bidi override or hidden characters
    errors = {}
    if kind not in kinds.KIND_PATHS:
        errors["kind"] = "must be one of " + ", ".join(kinds.KINDS)
    if visibility not in kinds.VISIBILITIES:
        errors["visibility"] = "must be public or private"
    if occurred_on is not None and occurred_on > today + timedelta(days=1):
        errors["occurred_on"] = "cannot be in the future"
    if not summary:
        errors["summary"] = "must not be blank"
    if errors:
        raise Invalid("the action is not valid", errors)
    action = Action(
        group_id=group_id,
        ally_id=ally.id,
        kind=kind,
        summary=summary,
        occurred_on=occurred_on,
        visibility=visibility,
        created_on=today,
    )
    session.add(action)
    session.flush()
    return action


def mark_done(session: Session, ally: Account, action_id: int, *, occurred_on: date, today: date) -> Action:
    """The planned action happened on ``occurred_on``: from now on the ally can ask whether it helped."""
    action = own_action(session, ally, action_id)
    if action.occurred_on is not None:
        raise Invalid("the action is done already", {"occurred_on": "this action is marked done already"})
    if occurred_on > today + timedelta(days=1):
        raise Invalid("the action is not valid", {"occurred_on": "cannot be in the future"})
    if occurred_on < action.created_on - timedelta(days=1):
        raise Invalid("the action is not valid", {"occurred_on": "cannot be before the action was planned"})
    action.occurred_on = occurred_on
    session.flush()
    return action


def list_actions(session: Session, ally: Account) -> list[Action]:
    """Planned actions first (newest first), then what was done, newest first."""
    return list(
        session.scalars(
            select(Action)
            .where(Action.ally_id == ally.id)
            .order_by(Action.occurred_on.is_(None).desc(), Action.occurred_on.desc(), Action.id.desc())
        )
    )


def own_action(session: Session, ally: Account, action_id: int) -> Action:
    action = session.get(Action, action_id)
    if action is None or action.ally_id != ally.id:
        raise NotFound("no such action")
    membership(session, ally.id, action.group_id)  # someone removed from the group can no longer ask
    return action


def _new_request(
    session: Session,
    action: Action,
    *,
    stage: str,
    links: int,
    delivered: bool,
    now: datetime,
    followup_days: Sequence[int],
    errors: dict[str, str],
) -> FeedbackRequest:
    """The request row, once the stage and ``errors`` found so far check out.

    An immediate request makes the action's follow-ups due ``followup_days`` later; a
    follow-up request must wait for its due day, and marks that follow-up asked.
    """
    if stage not in stages.IDS:
        errors = {"stage": "must be one of " + ", ".join(stages.IDS), **errors}
    elif stage != "advice" and action.occurred_on is None:
        errors = {"stage": "a planned action can only ask for advice: mark it done first", **errors}
    if errors:
        raise Invalid("the request is not valid", errors)
    if stage in followups.FOLLOWUP_STAGES:
        followups.ask(session, action, stage, today=now.date())
    elif stage == "immediate":
        followups.schedule(session, action, today=now.date(), days=followup_days)
    questionnaire = questionnaires.for_stage(stage)
    # A later version's answers join the scopes of the version it pools with, so that they
    # form cohorts and read together with the answers given before it.
    pool = questionnaire.pools_with
    request = FeedbackRequest(
        action_id=action.id,
        stage=stage,
        questionnaire_id=questionnaire.id,
        ally_scope_id=scope_for(session, "ally", action.ally_id, pool).id,
        group_scope_id=scope_for(session, "group", action.group_id, pool).id,
        link_count=links,
        created_on=now.date(),
        delivered=delivered,
        sent=0,
    )
    session.add(request)
    session.flush()
    return request


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
    """Make ``count`` single-use links for the ally to share. Their tokens exist only in the
    return value. Their answers ride along in cohorts but count toward no k (P8)."""
    action = own_action(session, ally, action_id)
    errors = {} if 1 <= count <= MAX_LINKS else {"count": f"must be between 1 and {MAX_LINKS}"}
    request = _new_request(
        session, action, stage=stage, links=count, delivered=False, now=now, followup_days=followup_days, errors=errors
    )
    expires_at = (now + timedelta(days=link_days)).replace(microsecond=0)
    links = [NewLink(token=tokens.new_link_token(), expires_at=expires_at) for _ in range(count)]
    session.add_all(
        Link(request_id=request.id, token_hash=tokens.link_lookup_hash(link.token), expires_at=expires_at, used=False)
        for link in links
    )
    session.flush()
    return links


def deliver_request(
    session: Session,
    ally: Account,
    action_id: int,
    *,
    stage: str,
    recipients: Sequence[str],
    now: datetime,
    link_days: int,
    followup_days: Sequence[int],
    domains: Sequence[str],
    keys: delivery.DeliveryKeys,
) -> list[str]:
    """Ask the named colleagues: one link each, emailed by the platform (P8). Returns the
    addresses as typed, to be shown back; no token leaves this function but in a sealed row.

    The emails wait in ``Delivery`` rows committed with the request, for
    ``delivery.send_due`` to send: a crash after the commit loses none.
    """
    action = own_action(session, ally, action_id)
    errors: dict[str, str] = {}
    chosen: list[delivery.Recipient] = []
    try:
        chosen = delivery.check_recipients(recipients, own=ally.email, domains=domains)
    except Invalid as exc:
        errors = exc.fields
    request = _new_request(
        session,
        action,
        stage=stage,
        links=len(chosen),
        delivered=True,
        now=now,
        followup_days=followup_days,
        errors=errors,
    )
    expires_at = (now + timedelta(days=link_days)).replace(microsecond=0)
    sealed, links = [], []
    for recipient in chosen:
        token = tokens.new_link_token()
        links.append(
            Link(
                request_id=request.id,
                token_hash=tokens.link_lookup_hash(token),
                expires_at=expires_at,
                used=False,
                recipient_hash=tokens.recipient_hash(keys.recipients, recipient.address),
            )
        )
        sealed.append(delivery.seal(keys.at_rest, request.id, recipient.typed, token))
    # Links and emails in unrelated orders: row order on disk pairs neither with the other.
    _shuffle(links)
    _shuffle(sealed)
    session.add_all(links)
    session.add_all(
        Delivery(
            request_id=request.id, sealed=blob, state=delivery.QUEUED, attempts=0, due_at=now, expires_at=expires_at
        )
        for blob in sealed
    )
    session.flush()
    return [recipient.typed for recipient in chosen]


def requests_for(session: Session, ally: Account, action_id: int) -> list[FeedbackRequest]:
    """The requests made about one of the ally's actions: stage, day and how many links, never
    which link was answered (P5)."""
    action = own_action(session, ally, action_id)
    return list(
        session.scalars(
            select(FeedbackRequest).where(FeedbackRequest.action_id == action.id).order_by(FeedbackRequest.id.desc())
        )
    )


@dataclass(frozen=True)
class RequestStatus:
    """A request as its ally sees it: stage, day, how many links and emails, never which
    link was answered (P5). Refused and expired addresses are shown once."""

    id: int
    stage: str
    created_on: date
    link_count: int
    delivered: bool
    sent: int
    waiting: int
    refused: list[str]
    expired: list[str]


def request_statuses(session: Session, ally: Account, action_id: int, *, key: bytes) -> list[RequestStatus]:
    """The requests about one of the ally's actions, newest first. Reading them forgets the
    refusals they show (the caller commits)."""
    made = requests_for(session, ally, action_id)
    mailed = delivery.statuses(session, [r.id for r in made if r.delivered], key=key)
    none = delivery.Status(sent=0, waiting=0)
    return [
        RequestStatus(
            id=r.id,
            stage=r.stage,
            created_on=r.created_on,
            link_count=r.link_count,
            delivered=r.delivered,
            sent=mailed.get(r.id, none).sent,
            waiting=mailed.get(r.id, none).waiting,
            refused=mailed.get(r.id, none).refused,
            expired=mailed.get(r.id, none).expired,
        )
        for r in made
    ]
