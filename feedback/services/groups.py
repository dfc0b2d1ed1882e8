"""Groups and memberships. Leads manage members; nobody sees a group they are not in."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback import text
from feedback.errors import Forbidden, Invalid, NotFound
from feedback.models import Account, Group, Membership

ROLES = ("ally", "lead")


def membership_of(session: Session, account_id: int, group_id: int) -> Membership | None:
    query = select(Membership).where(Membership.group_id == group_id, Membership.account_id == account_id)
    return session.scalar(query)


def membership(session: Session, account_id: int, group_id: int) -> Membership:
    """The caller's membership, or NotFound: a group you are not in does not exist for you."""
    row = membership_of(session, account_id, group_id)
    if row is None:
        raise NotFound("no such group")
    return row


def require_lead(session: Session, account_id: int, group_id: int) -> Membership:
    """The caller's lead membership, or Forbidden: for a member who is not a lead, an outsider
    and a group that does not exist alike (DESIGN §4: 403 for non-leads), so it tells nothing."""
    row = membership_of(session, account_id, group_id)
    if row is None or row.role != "lead":
        raise Forbidden("only the group's leads may do this")
    return row


def create_group(session: Session, account: Account, *, name: str, today: date) -> Group:
    name = text.clean(name)  # members and invitees read it: no bidi override or hidden characters
    if not name:
        raise Invalid("the group needs a name", {"name": "must not be blank"})
    group = Group(name=name, created_on=today, owner_id=account.id)
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


def set_role(session: Session, actor: Account, group_id: int, account_id: int, *, role: str) -> Membership:
    """Make a member an ally or a co-lead (leads only). The owner's role is theirs alone to
    change, and a group always keeps one lead."""
    require_lead(session, actor.id, group_id)
    if role not in ROLES:
        raise Invalid("role must be ally or lead", {"role": "must be ally or lead"})
    row = membership_of(session, account_id, group_id)
    if row is None:
        raise NotFound("no such member")
    _spare_the_owner(session, actor, group_id, row, "change the owner's role")
    _keep_a_lead(session, group_id, row, role)
    row.role = role
    session.flush()
    return row


def remove_member(session: Session, actor: Account, group_id: int, account_id: int) -> None:
    """Remove a member (leads only): never the owner, unless the owner leaves themselves."""
    require_lead(session, actor.id, group_id)
    row = membership_of(session, account_id, group_id)
    if row is None:
        raise NotFound("no such member")
    _spare_the_owner(session, actor, group_id, row, "remove the owner")
    _keep_a_lead(session, group_id, row, None)
    session.delete(row)
    group = session.get(Group, group_id)
    if group is not None and group.owner_id == account_id:  # the owner left: the longest-serving lead owns it
        group.owner_id = session.scalar(
            select(Membership.account_id)
            .where(Membership.group_id == group_id, Membership.role == "lead", Membership.account_id != account_id)
            .order_by(Membership.id)
        )
    session.flush()


def hand_over(session: Session, owner: Account, group_id: int, account_id: int) -> Group:
    """The owner hands the group to another of its leads."""
    group = led_group(session, owner, group_id)
    if group.owner_id != owner.id:
        raise Forbidden("only the group's owner may hand it over")
    row = membership_of(session, account_id, group_id)
    if row is None or row.role != "lead":
        raise Invalid("hand the group to one of its leads", {"account_id": "not a lead of this group"})
    group.owner_id = account_id
    session.flush()
    return group


def _keep_a_lead(session: Session, group_id: int, row: Membership, new_role: str | None) -> None:
    """A group must always keep at least one lead."""
    if row.role != "lead" or new_role == "lead":
        return
    leads = session.scalars(
        select(Membership.id).where(Membership.group_id == group_id, Membership.role == "lead")
    ).all()
    if len(leads) <= 1:
        raise Invalid("a group needs at least one lead", {"role": "the last lead cannot step down"})


def _spare_the_owner(session: Session, actor: Account, group_id: int, row: Membership, what: str) -> None:
    group = session.get(Group, group_id)
    if group is not None and group.owner_id == row.account_id and actor.id != row.account_id:
        raise Forbidden(f"a co-lead cannot {what}: the owner may hand the group over first")


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
