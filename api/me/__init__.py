"""What the signed-in ally reads about their own requests: pooled, released results only,
and the follow-ups they are due to ask for."""

from typing import Any

from flask import current_app

from api.auth import current_account, login_required
from api.clock import utcnow
from api.extensions import Blueprint, session
from api.jobs import release_settings
from api.me.schemas import FeedbackOut, RemindersOut
from feedback import followups
from feedback.services import results

blp = Blueprint(
    "me", __name__, url_prefix="/api/v1/me", description="The caller's own pooled feedback and follow-up reminders"
)


@blp.route("/feedback", methods=["GET"])
@login_required
@blp.response(200, FeedbackOut)
def feedback() -> Any:
    """Pooled results across your requests and the comments meant for you (never per link)"""
    rules = release_settings(current_app)
    return results.ally_feedback(session(), current_account(), k=rules.k, comment_key=rules.comment_key)


@blp.route("/reminders", methods=["GET"])
@login_required
@blp.response(200, RemindersOut)
def reminders() -> Any:
    """Your follow-ups that are due and not yet asked; make their links with the requests call"""
    return {"items": followups.due_followups(session(), current_account(), utcnow().date())}
