"""What the signed-in ally reads about their own requests: pooled, released results only,
and the follow-ups they are due to ask for; a copy of all their data, and deleting their account."""

from typing import Any

from flask import current_app

from api.clock import utcnow
from api.documents import ExportOut, FeedbackOut
from api.extensions import Blueprint, client_key, limiter, session
from api.jobs.adapters import release_settings
from api.resources.auth import current_account, login_required
from api.resources.me.schemas import DeleteIn, MeOut, RemindersOut
from crypto.atrest import derive_key
from feedback import followups
from feedback.services import leaving, notes, results
from feedback.transactions import reading

blp = Blueprint(
    "me",
    __name__,
    url_prefix="/api/v1/me",
    description="The caller's own pooled feedback, follow-up reminders, data export and account deletion",
)


@blp.route("", methods=["GET"])
@login_required
@blp.response(200, MeOut)
def me() -> Any:
    """Who you are signed in as"""
    return current_account()


@blp.route("/feedback", methods=["GET"])
@login_required
@blp.response(200, FeedbackOut)
def feedback() -> Any:
    """Pooled results across your requests and the comments meant for you (never per link)"""
    rules = release_settings(current_app)
    with reading(session()):
        return results.ally_feedback(
            session(), current_account(), k=rules.k, comment_key=rules.comment_key, comments=results.COMMENTS_PAGE
        )


@blp.route("/reminders", methods=["GET"])
@login_required
@blp.response(200, RemindersOut)
def reminders() -> Any:
    """Your follow-ups that are due and not yet asked; make their links with the requests call"""
    return {"items": followups.due_followups(session(), current_account(), utcnow().date())}


@blp.route("/export", methods=["GET"])
@login_required
@blp.response(200, ExportOut)
def export() -> Any:
    """All your data, as a JSON file

    Your account, groups and roles, actions with the requests made about them, your private
    note and your released pooled results. Never a link or a colleague's address.
    """
    rules = release_settings(current_app)
    data = leaving.export(
        session(),
        current_account(),
        k=rules.k,
        comment_key=rules.comment_key,
        note_key=derive_key(current_app.config["SECRET_KEY"], notes.KEY_PURPOSE),
    )
    filename = f"allyloop-data-{utcnow().date().isoformat()}.json"
    return data, {"Content-Disposition": f'attachment; filename="{filename}"'}


@blp.route("", methods=["DELETE"])
@login_required
@blp.arguments(DeleteIn)
@blp.response(204)
@limiter.limit("10/hour", key_func=client_key)
def delete_account(body: dict[str, Any]) -> Any:
    """Delete your account and your data

    Your note, actions, requests and answers not yet released go; the groups' released
    pooled results stay, since they hold no one's identity. Send `{password}`; an account
    that signs in only with SSO sends `{confirm: "delete my account"}`. 409 while you are
    the only lead of a group with other members: hand it over or make a co-lead first.
    """
    account = current_account()
    leaving.check_confirmation(account, password=body.get("password"), confirm=body.get("confirm"))
    leaving.delete_account(session(), account)
