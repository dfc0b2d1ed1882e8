"""Groups and memberships. Leads manage members; nobody sees a group they are not in."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback.errors import Forbidden, Invalid, NotFound
from feedback.models import Account, Group, Membership
from feedback.services.accounts import normalise_email

ROLES = ("ally", "lead")


def _membership_of(session: Session, account_id: int, group_id: int) -> Membership | None:
    query = select(Membership).where(Membership.group_id == group_id, Membership.account_id == account_id)
    return session.scalar(query)


def membership(session: Session, account_id: int, group_id: int) -> Membership:
    """The caller's membership, or NotFound: a group you are not in does not exist for you."""
    row = _membership_of(session, account_id, group_id)
    if row is None:
        raise NotFound("no such group")
    return row


def require_lead(session: Session, account_id: int, group_id: int) -> Membership:
    """The caller's lead membership, or Forbidden: for a member who is not a lead, an outsider
    and a group that does not exist alike (DESIGN §4: 403 for non-leads), so it tells nothing."""
    row = _membership_of(session, account_id, group_id)
    if row is None or row.role != "lead":
        raise Forbidden("only the group's leads may do this")
    return row


def create_group(session: Session, account: Account, *, name: str, today: date) -> Group:
    group = Group(name=name.strip(), created_on=today)
    session.add(group)
    session.flush()
    session.add(Membership(group_id=group.id, account_id=account.id, role="lead"))
    session.flush()
    return group


def list_groups(session: Session, account: Account) -> list[tuple[Group, str]]:
    rows = session.execute(
        select(Group, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.account_id == account.id)
        .order_by(Group.name)
    )
    return [(group, role) for group, role in rows]


def add_member(session: Session, actor: Account, group_id: int, *, email: str, role: str) -> Membership:
    """Add an account as ally or lead; adding an existing member changes their role."""
    require_lead(session, actor.id, group_id)
    if role not in ROLES:
        raise Invalid("role must be ally or lead", {"role": "must be ally or lead"})
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        raise NotFound("no account with this email", {"email": "no such account"})
    row = _membership_of(session, account.id, group_id)
    if row is None:
        try:
            with session.begin_nested():
                row = Membership(group_id=group_id, account_id=account.id, role=role)
                session.add(row)
            return row
        except IntegrityError:  # another lead added them at the same moment: this is a role change
            row = _membership_of(session, account.id, group_id)
            assert row is not None  # noqa: S101 - the racing insert committed it
    _keep_a_lead(session, group_id, row, role)
    row.role = role
    session.flush()
    return row


def remove_member(session: Session, actor: Account, group_id: int, account_id: int) -> None:
    require_lead(session, actor.id, group_id)
    row = _membership_of(session, account_id, group_id)
    if row is None:
        raise NotFound("no such member")
    _keep_a_lead(session, group_id, row, None)
    session.delete(row)
    session.flush()


def _keep_a_lead(session: Session, group_id: int, row: Membership, new_role: str | None) -> None:
    """A group must always keep at least one lead."""
    if row.role != "lead" or new_role == "lead":
        return
    leads = session.scalars(
        select(Membership.id).where(Membership.group_id == group_id, Membership.role == "lead")
    ).all()
    if len(leads) <= 1:
        raise Invalid("a group needs at least one lead", {"role": "the last lead cannot step down"})


def led_group(session: Session, actor: Account, group_id: int) -> Group:
    """A group the actor leads; Forbidden for anyone else."""
    require_lead(session, actor.id, group_id)
    group = session.get(Group, group_id)
    if group is None:  # the membership row keeps its group, so only a race gets here
        raise NotFound("no such group")
    return group


def list_members(session: Session, actor: Account, group_id: int) -> list[tuple[Account, str]]:
    """The members of a group the actor leads, leads first, each with their role."""
    require_lead(session, actor.id, group_id)
    rows = session.execute(
        select(Account, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.group_id == group_id)
        .order_by(Membership.role.desc(), Account.name, Account.id)
    )
    return [(account, role) for account, role in rows]
