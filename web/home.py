"""The front door for allies and leads: sign up, sign in, sign out."""

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from api.accounts.schemas import AccountIn, TokenIn
from api.clock import utcnow
from api.extensions import limiter, session
from crypto.tokens import rate_key
from feedback.errors import Conflict, Unauthenticated
from feedback.services import accounts
from web.auth import current_account, protect, sign_in, sign_out
from web.forms import errors_of, load

bp = Blueprint("home", __name__)
bp.before_request(protect)


def _login_key() -> str:
    return "web-login:" + rate_key("login", request.form.get("email", "").strip().lower())


@bp.get("/")
def index() -> Any:
    if current_account() is not None:
        return redirect(url_for("ally.home"))
    return render_template("home/index.html")


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(AccountIn(), request.form)
            account = accounts.create_account(
                session(), today=utcnow().date(), password_cost=current_app.config["ALLYLOOP"].password_cost, **body
            )
            session().commit()
        except ValidationError as exc:
            errors = errors_of(exc)
        except Conflict as exc:
            session().rollback()
            errors = {"email": exc.message}
        else:
            sign_in(account)
            return redirect(url_for("ally.home"))
    status = 400 if errors else 200
    return render_template("home/sign_up.html", errors=errors, form=request.form), status


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute", key_func=_login_key, methods=["POST"])
def sign_in_page() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(TokenIn(), request.form)
            cost = current_app.config["ALLYLOOP"].password_cost
            account = accounts.authenticate(
                session(), email=body["email"], password=body["password"], password_cost=cost
            )
        except ValidationError as exc:
            errors = errors_of(exc)
        except Unauthenticated:
            errors = {"_form": "That email and password do not match an account."}
        else:
            sign_in(account)
            return redirect(url_for("ally.home"))
    status = 400 if errors else 200
    return render_template("home/sign_in.html", errors=errors, form=request.form), status


@bp.post("/sign-out")
def sign_out_page() -> Any:
    sign_out()
    return redirect(url_for("home.index"))
