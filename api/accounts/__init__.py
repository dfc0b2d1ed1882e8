"""Accounts and bearer tokens."""

from typing import Any

from flask import current_app, request

from api.accounts.schemas import AccountIn, AccountOut, TokenIn, TokenOut
from api.clock import utcnow
from api.extensions import Blueprint, limiter, session
from crypto.tokens import rate_key
from feedback.services import accounts

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def _login_key() -> str:
    """Login attempts are limited per email address (hashed), never per client address."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the view's parser answers 400 for such a body
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    return "login:" + rate_key("login", str(email).strip().lower())


@blp.route("/accounts", methods=["POST"])
@blp.arguments(AccountIn)
@blp.response(201, AccountOut)
def create_account(body: dict[str, Any]) -> Any:
    """Create an account"""
    account = accounts.create_account(
        session(), today=utcnow().date(), password_cost=current_app.config["ALLYLOOP"].password_cost, **body
    )
    session().commit()
    return account


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(201, TokenOut)
@limiter.limit("10/minute", key_func=_login_key)
def create_token(body: dict[str, Any]) -> Any:
    """Sign in: trade email and password for a bearer token"""
    cost = current_app.config["ALLYLOOP"].password_cost
    account = accounts.authenticate(session(), email=body["email"], password=body["password"], password_cost=cost)
    token = accounts.issue_token(session(), account, now=utcnow())
    session().commit()
    return {"token": token}
