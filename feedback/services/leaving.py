"""Leaving Allyloop: an ally takes a copy of their data (``export``) or deletes their account.

What goes with an account: its note, its actions with their requests (links, emails still
waiting, follow-ups), its memberships, its answers still waiting for release, and its own
pooled results, which nobody else could ever read. What stays: the groups' released
cohorts. They are pooled across at least k people and two allies, and hold no one's
identity; taking one ally's part out would change a view by less than a cohort (P3).
"""

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto import passwords
from feedback.errors import Conflict, Invalid
from feedback.models import (
    Account,
    AccountToken,
    Action,
    AllyNote,
    ApiToken,
    Cohort,
    Envelope,
    FeedbackRequest,
    Followup,
    Group,
    Membership,
    ReleasedComment,
    Response,
    Scope,
)
from feedback.services import notes, results
from feedback.services.actions import list_actions
from feedback.wording import N_

# What someone without a password types to delete theirs (the pages ask for it in the reader's language).
CONFIRMATION: Final = N_("delete my account")


def export(session: Session, account: Account, *, k: int, comment_key: bytes, note_key: bytes) -> dict[str, Any]:
    """The account's own data: who they are, their groups and roles, their actions with the
    requests made about them, their private note (decrypted) and their released pooled results.

    Never a link token or a colleague's address: the requests say how many links were made
    and emails sent, as the ally's pages do. Nothing about other members either.
    """
    memberships = session.execute(
        select(Group, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.account_id == account.id)
        .order_by(Group.name, Group.id)
    ).all()
    actions = list_actions(session, account)
    ids = [action.id for action in actions]
    requests: dict[int, list[dict[str, Any]]] = {}
    for request in session.scalars(
        select(FeedbackRequest).where(FeedbackRequest.action_id.in_(ids)).order_by(FeedbackRequest.id)
    ):
        requests.setdefault(request.action_id, []).append(
            {
                "stage": request.stage,
                "created_on": request.created_on,
                "links": request.link_count,
                "delivered": request.delivered,
                "emails_sent": request.sent,
            }
        )
    followups: dict[int, list[dict[str, Any]]] = {}
    for followup in session.scalars(select(Followup).where(Followup.action_id.in_(ids)).order_by(Followup.due_on)):
        followups.setdefault(followup.action_id, []).append(
            {"stage": followup.stage, "due_on": followup.due_on, "asked_on": followup.asked_on}
        )
    note = notes.read_note(session, account, key=note_key)
    return {
        "account": {
            "email": account.email,
            "name": account.name,
            "created_on": account.created_on,
            "single_sign_on": account.sso_subject is not None,
        },
        "groups": [
            {"id": group.id, "name": group.name, "role": role, "owner": group.owner_id == account.id}
            for group, role in memberships
        ],
        "actions": [
            {
                "id": action.id,
                "group_id": action.group_id,
                "kind": action.kind,
                "summary": action.summary,
                "occurred_on": action.occurred_on,
                "visibility": action.visibility,
                "created_on": action.created_on,
                "requests": requests.get(action.id, []),
                "followups": followups.get(action.id, []),
            }
            for action in actions
        ],
        "note": None
        if note.updated_on is None
        else {
            "text": None if note.unreadable else note.text,
            "updated_on": note.updated_on,
            "unreadable": note.unreadable,
        },
        "feedback": results.ally_feedback(session, account, k=k, comment_key=comment_key),
    }


def check_confirmation(account: Account, *, password: str | None, confirm: str | None) -> None:
    """Deleting cannot be undone, so the person at the keyboard proves it is theirs: with the
    account's password, or, for an account that signs in only through the organisation's
    identity provider (it has none), by typing ``CONFIRMATION``. Invalid otherwise."""
    if account.password_hash is not None:
        if not password or not passwords.verify_password(password, account.password_hash):
            raise Invalid("give your current password to delete your account", {"password": "not your password"})
    elif (confirm or "").strip().lower() != CONFIRMATION:
        raise Invalid(f'type "{CONFIRMATION}" to delete your account', {"confirm": f'type "{CONFIRMATION}"'})


@dataclass(frozen=True)
class Departure:
    """What deleting an account would do to its groups."""

    stranded: list[Group]  # they are its only lead and others are members: refused until handed over
    going: list[Group]  # they are its only member: it goes with them
    staying: list[tuple[Group, int | None]]  # the others stay, with its next owner if they own it


def departure(session: Session, account: Account) -> Departure:
    """What deleting the account would do to each of its groups (the pages say it first)."""
    rows = session.execute(
        select(Membership, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.account_id == account.id)
        .order_by(Group.name, Group.id)
    ).all()
    stranded: list[Group] = []
    going: list[Group] = []
    staying: list[tuple[Group, int | None]] = []
    for membership, group in rows:
        others = session.execute(
            select(Membership.account_id, Membership.role)
            .where(Membership.group_id == group.id, Membership.account_id != account.id)
            .order_by(Membership.id)
        ).all()
        leads = [other for other, role in others if role == "lead"]
        if not others:
            going.append(group)
        elif membership.role == "lead" and not leads:
            stranded.append(group)
        else:
            owner = group.owner_id
            if owner == account.id:  # the longest-serving other lead owns it next, as when an owner leaves
                owner = leads[0] if leads else None
            staying.append((group, owner))
    return Departure(stranded=stranded, going=going, staying=staying)


def delete_account(session: Session, account: Account) -> None:
    """Delete the account and everything that is only theirs (see the module's text).

    Refused (Conflict, nothing changed) while the account is the only lead of a group that
    has other members: they hand it over or make someone a co-lead first. A group they
    own with other leads passes to its longest-serving other lead; a group where they are
    the only member goes with them.
    """
    plan = departure(session, account)
    if plan.stranded:
        names = ", ".join(group.name for group in plan.stranded)
        raise Conflict(
            f"you are the only lead of {names}, where others are members: "
            "hand the group over or make someone a co-lead first",
            {"groups": names},
        )
    for group, owner_id in plan.staying:
        group.owner_id = owner_id
    _delete_groups(session, [group.id for group in plan.going])
    _delete_own_data(session, account.id)
    session.delete(account)
    session.flush()


def _delete_groups(session: Session, group_ids: list[int]) -> None:
    """Groups with no member left. Their released cohorts stay, unreadable; their scopes are
    detached from the group's id, which a new group may be given again (SQLite reuses the
    highest id), so that no new group ever reads an old one's results."""
    if not group_ids:
        return
    for scope in session.scalars(select(Scope).where(Scope.kind == "group", Scope.subject_id.in_(group_ids))):
        scope.subject_id = -scope.id  # ids are positive: no group has this one
    session.flush()
    # Memberships, invitations and every action logged in them (with requests, links,
    # waiting emails and follow-ups) go by the database's cascades.
    session.execute(delete(Group).where(Group.id.in_(group_ids)))


def _delete_own_data(session: Session, account_id: int) -> None:
    """Everything of the account's but the row itself, explicitly rather than by cascade,
    so that every database removes the same rows."""
    answers = select(Response.id).where(Response.ally_id == account_id)
    # Answers about them: sealed ones still waiting for release, and the marks of released
    # ones (their cohorts keep the numbers).
    session.execute(delete(Envelope).where(Envelope.response_id.in_(answers)))
    session.execute(delete(Response).where(Response.ally_id == account_id))
    # Actions take their requests, links, waiting emails and follow-ups with them.
    session.execute(delete(Action).where(Action.ally_id == account_id))
    # Their own pooled results: only they could ever read them, and a new account given the
    # same id (SQLite reuses the highest one) must not.
    own = session.scalars(select(Scope.id).where(Scope.kind == "ally", Scope.subject_id == account_id)).all()
    cohorts = select(Cohort.id).where(Cohort.scope_id.in_(own))
    session.execute(delete(ReleasedComment).where(ReleasedComment.cohort_id.in_(cohorts)))
    session.execute(delete(Cohort).where(Cohort.scope_id.in_(own)))
    session.execute(delete(Scope).where(Scope.id.in_(own)))
    session.execute(delete(AllyNote).where(AllyNote.account_id == account_id))
    session.execute(delete(Membership).where(Membership.account_id == account_id))
    session.execute(delete(ApiToken).where(ApiToken.account_id == account_id))
    session.execute(delete(AccountToken).where(AccountToken.account_id == account_id))
