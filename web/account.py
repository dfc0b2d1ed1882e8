"""The account page: change the password, sign out everywhere, make an API token, download
one's data, delete the account.

Views are thin: they read a form with the pages' schemas (web/schemas.py), call the accounts and leaving
services, and render. Changing the password and signing out everywhere end every web
session and API token of the account, this browser's too, so both lead to signing in again.
"""

import json
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError

from api.clock import utcnow
from api.documents import ExportOut
from api.extensions import client_key, limiter, session
from api.jobs.adapters import release_settings
from crypto.atrest import derive_key
from feedback.errors import Conflict, Invalid
from feedback.services import accounts, leaving, notes
from web.auth import login_required, me, protect, sign_out
from web.forms import errors_of, load
from web.schemas import DeleteForm, PasswordChangeForm

bp = Blueprint("account", __name__, url_prefix="/account")
bp.before_request(protect)

_l = lazy_gettext
SIGNED_OUT = "signed-out"  # the flash category the sign-in page shows

# Field messages in the page's words; marshmallow's own do not say which field.
FIELDS = {
    "current_password": _l("Give your current password."),
    "password": _l("Choose a new password of 10 to 200 characters."),
}
DELETE_FIELDS = {
    "password": _l("That is not your password."),
}


def _page(template: str, status: int = 200, **context: Any) -> Any:
    account = me()
    # ``me`` is passed on: the context processor fills it only on the pages it knows.
    return render_template(template, me=account, has_password=account.password_hash is not None, **context), status


def _in_words(errors: dict[str, str], words: dict[str, Any]) -> dict[str, str]:
    return {name: str(words.get(name, message)) for name, message in errors.items()}


@bp.get("/")
@login_required
def index() -> Any:
    return _page("account/index.html", errors={})


@bp.post("/password")
@limiter.limit("10/hour", key_func=client_key)  # a borrowed browser must not try passwords at will
@login_required
def change_password() -> Any:
    """A new password; every session and API token ends, this browser's too."""
    try:
        body = load(PasswordChangeForm(), request.form)
        accounts.change_password(
            session(),
            me(),
            current=body["current_password"],
            password=body["password"],
            password_cost=current_app.config["ALLYLOOP"].password_cost,
        )
    except ValidationError as exc:
        return _page("account/index.html", 400, errors=_in_words(errors_of(exc), FIELDS))
    except Invalid:
        return _page("account/index.html", 400, errors={"current_password": gettext("That is not your password.")})
    cookie.clear()  # its session has ended with the others; nothing of it is worth keeping
    flash(gettext("Your password is changed, and you are signed out everywhere. Sign in with it."), SIGNED_OUT)
    return redirect(url_for("home.sign_in_page"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Any:
    """Every web session and API token of the account ends."""
    sign_out()
    flash(gettext("You are signed out everywhere, and every API token is revoked."), SIGNED_OUT)
    return redirect(url_for("home.sign_in_page"))


@bp.post("/tokens")
@login_required
def new_token() -> Any:
    """An API token for people who sign in with SSO and have no password to send the API.
    Shown once, in this answer (never cached): only its hash is kept."""
    now = utcnow()
    token = accounts.issue_token(session(), me(), now=now)
    return _page("account/token.html", token=token, expires_on=(now + accounts.TOKEN_LIFETIME).date())


@bp.get("/export")
@login_required
def export() -> Any:
    """Everything of theirs, as the API's export gives it, in a JSON file to keep."""
    rules = release_settings(current_app)
    data = leaving.export(
        session(),
        me(),
        k=rules.k,
        comment_key=rules.comment_key,
        note_key=derive_key(current_app.config["SECRET_KEY"], notes.KEY_PURPOSE),
    )
    body = json.dumps(ExportOut().dump(data), ensure_ascii=False, indent=2)
    filename = f"allyloop-data-{utcnow().date().isoformat()}.json"
    return Response(
        body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.route("/delete", methods=["GET", "POST"])
@limiter.limit("10/hour", key_func=client_key, methods=["POST"])
@login_required
def delete() -> Any:
    """Says what goes and what stays, then deletes the account once confirmed."""
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            body = load(DeleteForm(), request.form)
            typed = (body.get("confirm") or "").strip().lower()
            # The words as this page asked for them, in the reader's language, or as the API asks.
            confirm = leaving.CONFIRMATION if typed == gettext(leaving.CONFIRMATION).lower() else typed
            leaving.check_confirmation(me(), password=body.get("password"), confirm=confirm)
            leaving.delete_account(session(), me())
        except ValidationError as exc:
            errors, status = _in_words(errors_of(exc), DELETE_FIELDS), 400
        except Invalid as exc:
            errors, status = _in_words(exc.fields, DELETE_FIELDS), 400
        except Conflict:  # the page lists the groups to hand over first
            status = 409
        else:
            cookie.clear()
            return redirect(url_for("account.deleted"))
    if "confirm" in errors:
        errors["confirm"] = gettext("Type “%(words)s” to delete your account.", words=gettext(leaving.CONFIRMATION))
    plan = leaving.departure(session(), me())
    return _page("account/delete.html", status, errors=errors, plan=plan, words=gettext(leaving.CONFIRMATION))


@bp.get("/deleted")
def deleted() -> Any:
    return render_template("account/deleted.html")
