"""Groups, their members, and the lead's insights."""

from typing import Any

from flask import current_app

from api.clock import utcnow
from api.documents import InsightsOut
from api.extensions import Blueprint, client_key, limiter, session
from api.jobs.adapters import letters, release_settings
from api.jobs.deliver import deliveries_waiting
from api.resources.auth import current_account, login_required
from api.resources.groups.schemas import (
    GroupIn,
    GroupOut,
    InvitationOut,
    InvitedOut,
    JoinedOut,
    MemberIn,
    MemberOut,
    OwnerIn,
    RoleIn,
)
from api.unit import after_commit
from feedback.services import groups, invitations, results
from feedback.transactions import reading

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Groups, members and insights")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(GroupIn)
@blp.response(201, GroupOut)
def create_group(body: dict[str, Any]) -> Any:
    """Create a group; the caller becomes its lead"""
    group = groups.create_group(session(), current_account(), name=body["name"], today=utcnow().date())
    return {"id": group.id, "name": group.name, "role": "lead"}


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, GroupOut(many=True))
def list_groups() -> Any:
    """The groups the caller belongs to, with their role in each"""
    return [{"id": g.id, "name": g.name, "role": role} for g, role in groups.list_groups(session(), current_account())]


@blp.route("/<id:group_id>/members", methods=["POST"])
@login_required
@blp.arguments(MemberIn)
@blp.response(202, InvitedOut)
def invite(body: dict[str, Any], group_id: int) -> Any:
    """Invite allies or co-leads by email (leads only): each joins only by accepting, signed in with
    that address. The answer is the same whether an address has an account or not"""
    cfg = current_app.config["ALLYLOOP"]
    invited = invitations.invite(
        session(),
        current_account(),
        group_id,
        emails=body["emails"] if "emails" in body else [body["email"]],
        role=body["role"],
        now=utcnow(),
        domains=cfg.org_email_domains,
        letters=letters(),
    )
    after_commit(deliveries_waiting)
    return {"status": "invited", "invited": invited}


@blp.route("/<id:group_id>/invitations", methods=["GET"])
@login_required
@blp.response(200, InvitationOut(many=True))
def pending_invitations(group_id: int) -> Any:
    """Invitations not yet accepted, and not expired (leads only)"""
    return invitations.pending(session(), current_account(), group_id, now=utcnow())


@blp.route("/<id:group_id>/invitations/<id:invitation_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def withdraw_invitation(group_id: int, invitation_id: int) -> Any:
    """Withdraw a pending invitation: its link stops working (leads only)"""
    invitations.withdraw(session(), current_account(), group_id, invitation_id)


@blp.route("/<id:group_id>/members/<id:account_id>", methods=["PATCH"])
@login_required
@blp.arguments(RoleIn)
@blp.response(200, MemberOut)
def set_role(body: dict[str, Any], group_id: int, account_id: int) -> Any:
    """Make a member an ally or a co-lead (leads only; never the owner, who hands the group over first)"""
    row = groups.set_role(session(), current_account(), group_id, account_id, role=body["role"])
    return row


@blp.route("/<id:group_id>/members/<id:account_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_member(group_id: int, account_id: int) -> Any:
    """Remove a member (leads only); never the owner, and a group always keeps one lead"""
    groups.remove_member(session(), current_account(), group_id, account_id)
    return None


@blp.route("/<id:group_id>/owner", methods=["PUT"])
@login_required
@blp.arguments(OwnerIn)
@blp.response(200, GroupOut)
def hand_over(body: dict[str, Any], group_id: int) -> Any:
    """Hand the group over to another of its leads (its owner only)"""
    group = groups.hand_over(session(), current_account(), group_id, body["account_id"])
    return {"id": group.id, "name": group.name, "role": "lead"}


invitation_blp = Blueprint(
    "invitation_api", __name__, url_prefix="/api/v1/invitations", description="Accepting invitations"
)


@invitation_blp.route("/<token>", methods=["POST"])
@login_required
@invitation_blp.response(200, JoinedOut)
@limiter.limit("30/hour", key_func=client_key)
def accept(token: str) -> Any:
    """Accept an invitation, signed in with the address it was sent to (a second accept answers the same)"""
    joined = invitations.accept(session(), current_account(), token, now=utcnow())
    return {"group_id": joined.group_id, "role": joined.role}


@blp.route("/<id:group_id>/insights", methods=["GET"])
@login_required
@blp.response(200, InsightsOut)
def insights(group_id: int) -> Any:
    """Released group aggregates, suppressed cells marked (leads only)"""
    rules = release_settings(current_app)
    with reading(session()):
        return results.group_insights(
            session(),
            current_account(),
            group_id,
            k=rules.k,
            comment_key=rules.comment_key,
            today=utcnow().date(),
            comments=results.COMMENTS_PAGE,
        )
