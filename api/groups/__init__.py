"""Groups, their members, and the lead's insights."""

from typing import Any

from flask import current_app

from api.auth import current_account, login_required
from api.clock import utcnow
from api.extensions import Blueprint, session
from api.groups.schemas import GroupIn, GroupOut, InsightsOut, MemberIn, MemberOut
from api.jobs import release_settings
from feedback.services import groups, results

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Groups, members and insights")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(GroupIn)
@blp.response(201, GroupOut)
def create_group(body: dict[str, Any]) -> Any:
    """Create a group; the caller becomes its lead"""
    group = groups.create_group(session(), current_account(), name=body["name"], today=utcnow().date())
    session().commit()
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
@blp.response(201, MemberOut)
def add_member(body: dict[str, Any], group_id: int) -> Any:
    """Add an ally or co-lead by the email of their account (leads only)"""
    row = groups.add_member(session(), current_account(), group_id, email=body["email"], role=body["role"])
    session().commit()
    return row


@blp.route("/<id:group_id>/members/<id:account_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def remove_member(group_id: int, account_id: int) -> Any:
    """Remove a member (leads only); a group always keeps one lead"""
    groups.remove_member(session(), current_account(), group_id, account_id)
    session().commit()
    return None


@blp.route("/<id:group_id>/insights", methods=["GET"])
@login_required
@blp.response(200, InsightsOut)
def insights(group_id: int) -> Any:
    """Released group aggregates, suppressed cells marked (leads only)"""
    rules = release_settings(current_app)
    return results.group_insights(
        session(), current_account(), group_id, k=rules.k, comment_key=rules.comment_key, today=utcnow().date()
    )
