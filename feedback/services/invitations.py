"""Invitations with consent: a lead invites an address; its owner joins only by accepting,
signed in with that verified address (P8: no one is added to a group, or gets a second
account into one, on a lead's say alone).

Inviting answers the same whether or not the address has an account, so it tells a lead
nothing about who does.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import tokens
from feedback import delivery
from feedback.errors import Forbidden, Gone, Invalid, NotFound
from feedback.mail import Mail
from feedback.models import Account, Group, Invitation, Membership
from feedback.services.accounts import Letters, check_domain, normalise_email
from feedback.services.groups import ROLES, membership_of, require_lead
from feedback.wording import N_, Wording

LIFETIME: Final = timedelta(days=14)
MAX_AT_ONCE: Final = 50


@dataclass(frozen=True)
class Pending:
    id: int
    email: str
    role: str
    expires_on: date


@dataclass(frozen=True)
class Joined:
    group_id: int
    group_name: str
    role: str


def invite(
    session: Session,
    lead: Account,
    group_id: int,
    *,
    emails: Sequence[str],
    role: str,
    now: datetime,
    domains: Sequence[str],
    letters: Letters,
) -> int:
    """Invite each address (a pasted list, one or many) to the group; how many were invited.

    Addresses outside the organisation's domains, or malformed, are refused naming each;
    whether an address has an account is never checked. Inviting again replaces the earlier
    invitation (with its link).
    """
    group = session.get(Group, require_lead(session, lead.id, group_id).group_id)
    assert group is not None  # noqa: S101 - a membership keeps its group
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = Wording(N_("must be ally or lead"))
    if not 1 <= len(emails) <= MAX_AT_ONCE:
        errors["email"] = Wording(N_("give between 1 and %(n)s addresses"), n=MAX_AT_ONCE)
    chosen: dict[str, str] = {}
    for index, typed in enumerate(emails):
        address = normalise_email(typed)
        try:
            if "@" not in address or " " in address or len(address) > 320:
                raise Invalid("not an email address", {"email": Wording(N_("not an email address"))})
            check_domain(address, domains)
        except Invalid as exc:
            said = Wording(N_("%(address)s: %(why)s"), address=typed.strip(), why=exc.fields["email"])
            errors[f"email.{index}" if len(emails) > 1 else "email"] = said
            continue
        chosen.setdefault(address, typed.strip())
    if errors:
        raise Invalid("some invitations cannot be sent", errors)
    for address in chosen:
        session.execute(delete(Invitation).where(Invitation.group_id == group_id, Invitation.email == address))
        token = tokens.new_link_token()
        session.add(
            Invitation(
                group_id=group_id,
                email=address,
                role=role,
                token_hash=tokens.invitation_hash(token),
                created_on=now.date(),
                expires_at=now + LIFETIME,
            )
        )
        delivery.enqueue(
            session,
            letters.key,
            _letter(lead, group, address, role, token, letters),
            now=now,
            expires_at=now + LIFETIME,
        )
    session.flush()
    return len(chosen)


def _letter(lead: Account, group: Group, to: str, role: str, token: str, letters: Letters) -> Mail:
    _ = letters.gettext
    names = {"name": lead.name, "group": group.name}
    as_role = _("as a co-lead") if role == "lead" else _("as an ally")
    body = "\n".join(
        [
            _("Hello,"),
            "",
            _("%(name)s invites you to join %(group)s on Allyloop, your organisation's feedback tool for allies,")
            % names
            + " "
            + as_role
            + ".",
            "",
            _("To accept, open this link and sign in (or sign up) with this address:"),
            "",
            f"{letters.app_url}/invitations/{token}",
            "",
            _("The invitation lasts 14 days. If you do not want to join, ignore this email: nothing happens."),
        ]
    )
    key = "invite-" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return Mail(to=to, subject=_("%(name)s invites you to %(group)s") % names, body=body + "\n", key=key)


def pending(session: Session, lead: Account, group_id: int, *, now: datetime) -> list[Pending]:
    """The group's invitations not yet accepted and not expired, for its leads."""
    require_lead(session, lead.id, group_id)
    rows = session.scalars(
        select(Invitation)
        .where(Invitation.group_id == group_id, Invitation.accepted_by.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.email)
    )
    return [Pending(id=r.id, email=r.email, role=r.role, expires_on=r.expires_at.date()) for r in rows]


def withdraw(session: Session, lead: Account, group_id: int, invitation_id: int) -> None:
    """Withdraw a pending invitation: its link stops working."""
    require_lead(session, lead.id, group_id)
    done = session.execute(
        delete(Invitation).where(
            Invitation.id == invitation_id, Invitation.group_id == group_id, Invitation.accepted_by.is_(None)
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("no such pending invitation")


def _find(session: Session, token: str) -> Invitation:
    if not tokens.is_link_token(token):
        raise NotFound("this invitation does not exist (or was withdrawn)")
    row = session.scalar(select(Invitation).where(Invitation.token_hash == tokens.invitation_hash(token)))
    if row is None:
        raise NotFound("this invitation does not exist (or was withdrawn)")
    return row


def look(session: Session, token: str, *, now: datetime) -> tuple[Invitation, Group]:
    """The invitation and its group, to show the invitee before they accept."""
    row = _find(session, token)
    if row.accepted_by is None and row.expires_at <= now:
        raise Gone("this invitation has expired: ask the lead for a new one")
    group = session.get(Group, row.group_id)
    assert group is not None  # noqa: S101 - invitations go with their group
    return row, group


def accept(session: Session, account: Account, token: str, *, now: datetime) -> Joined:
    """Join the group, signed in with the invited, verified address. A second accept by the
    same account answers the same; anyone else is Forbidden and nothing changes."""
    row, group = look(session, token, now=now)
    if not account.verified or normalise_email(account.email) != row.email:
        raise Forbidden("this invitation is for another address: sign in with the address it was sent to")
    if row.accepted_by is not None:
        if row.accepted_by != account.id:  # pragma: no cover - one address, one account
            raise Forbidden("this invitation was accepted by another account")
        member = membership_of(session, account.id, group.id)
        return Joined(group_id=group.id, group_name=group.name, role=member.role if member else row.role)
    member = membership_of(session, account.id, group.id)
    if member is None:
        try:
            with session.begin_nested():
                member = Membership(group_id=group.id, account_id=account.id, role=row.role)
                session.add(member)
        except IntegrityError:  # accepted at the same moment in another tab
            member = membership_of(session, account.id, group.id)
            assert member is not None  # noqa: S101 - the racing accept committed it
    elif row.role == "lead":
        member.role = "lead"  # an invitation to co-lead promotes an ally; it never demotes
    row.accepted_by = account.id
    session.flush()
    return Joined(group_id=group.id, group_name=group.name, role=member.role)
