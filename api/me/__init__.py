"""What the signed-in ally reads about their own requests: pooled, released results only."""

from typing import Any

from flask import current_app

from api.auth import current_account, login_required
from api.extensions import Blueprint, session
from api.me.schemas import FeedbackOut
from feedback.services import results

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller's own pooled feedback")


@blp.route("/feedback", methods=["GET"])
@blp.response(200, FeedbackOut)
@login_required
def feedback() -> Any:
    """Pooled results across your requests and the comments meant for you (never per link)"""
    cfg = current_app.config["ALLYLOOP"]
    return results.ally_feedback(
        session(), current_account(), k=cfg.release_min_responses, comment_key=current_app.config["COMMENT_KEY"]
    )
