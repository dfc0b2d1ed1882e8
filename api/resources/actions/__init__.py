"""An ally's actions and the feedback requests (single-use links) made about them."""

from datetime import UTC
from typing import Any

from flask import current_app

from api.clock import utcnow
from api.extensions import Blueprint, session
from api.jobs.adapters import delivery_keys
from api.jobs.deliver import deliveries_waiting
from api.resources.actions.schemas import ActionIn, ActionOut, DoneIn, RequestIn, RequestOut, RequestStatusOut
from api.resources.auth import current_account, login_required
from api.unit import after_commit
from feedback.services import actions

blp = Blueprint("actions", __name__, url_prefix="/api/v1/actions", description="Actions and feedback requests")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(ActionIn)
@blp.response(201, ActionOut)
def log_action(body: dict[str, Any]) -> Any:
    """Log something you did for a colleague, or (with no occurred_on) something you are thinking of doing"""
    action = actions.log_action(session(), current_account(), today=utcnow().date(), **body)
    return action


@blp.route("/<id:action_id>/done", methods=["POST"])
@login_required
@blp.arguments(DoneIn)
@blp.response(200, ActionOut)
def mark_done(body: dict[str, Any], action_id: int) -> Any:
    """Mark a planned action done, on the day you did it: then you can ask whether it helped"""
    action = actions.mark_done(
        session(), current_account(), action_id, occurred_on=body["occurred_on"], today=utcnow().date()
    )
    return action


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, ActionOut(many=True))
def list_actions() -> Any:
    """Your own actions, newest first"""
    return actions.list_actions(session(), current_account())


@blp.route("/<id:action_id>/requests", methods=["POST"])
@login_required
@blp.arguments(RequestIn)
@blp.response(201, RequestOut)
def create_request(body: dict[str, Any], action_id: int) -> Any:
    """Ask for advice or feedback: by email to named colleagues (their answers count toward k), or as
    single-use links you share (each shown only here; their answers count toward no k)"""
    cfg = current_app.config["ALLYLOOP"]
    if "recipients" in body:
        typed = actions.deliver_request(
            session(),
            current_account(),
            action_id,
            stage=body["stage"],
            recipients=body["recipients"],
            now=utcnow(),
            link_days=cfg.link_days,
            followup_days=cfg.followup_days,
            domains=cfg.org_email_domains,
            keys=delivery_keys(),
        )
        after_commit(deliveries_waiting)  # the emails wait in the database before they go: none is lost
        return {
            "stage": body["stage"],
            "delivered": len(typed),
            "recipients": [{"email": email, "status": "queued"} for email in typed],
        }
    links = actions.create_request(
        session(),
        current_account(),
        action_id,
        stage=body["stage"],
        count=body["count"],
        now=utcnow(),
        link_days=cfg.link_days,
        followup_days=cfg.followup_days,
    )
    return {
        "stage": body["stage"],
        "links": [
            {"url": f"{cfg.public_base_url}/r/{link.token}", "expires_at": link.expires_at.replace(tzinfo=UTC)}
            for link in links
        ],
    }


@blp.route("/<id:action_id>/requests", methods=["GET"])
@login_required
@blp.response(200, RequestStatusOut(many=True))
def list_requests(action_id: int) -> Any:
    """The requests about one of your actions: how many links, emails sent and waiting, and the
    addresses the mail server refused (shown once). Never which link was answered"""
    statuses = actions.request_statuses(session(), current_account(), action_id, key=delivery_keys().at_rest)
    # the refusals shown are forgotten when the request's unit of work commits
    return statuses
