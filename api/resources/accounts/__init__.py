"""Accounts, their verification, bearer tokens and password resets.

Nothing here tells whether an address has an account: sign-up and reset requests answer
202 with the same body either way, and what differs goes by email.
"""

from datetime import UTC
from typing import Any

from flask import current_app, request

from api.clock import utcnow
from api.extensions import Blueprint, client_key, limiter, session
from api.jobs.adapters import letters
from api.jobs.deliver import deliveries_waiting
from api.resources.accounts.schemas import (
    AccountIn,
    NewPasswordIn,
    PasswordChangeIn,
    ResetIn,
    StatusOut,
    TokenIn,
    TokenOut,
    VerifiedOut,
    VerifyIn,
)
from api.resources.auth import bearer_token, current_account, login_required
from api.unit import after_commit
from crypto.tokens import rate_key
from feedback.errors import Forbidden, Unverified
from feedback.services import accounts

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Accounts, tokens and password resets")
CHECK_EMAIL = {"status": "check your email"}


def _email_key() -> str:
    """Limits per email address (hashed), never per client address in clear."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the view's parser answers 400 for such a body
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    return "email:" + rate_key("login", str(email).strip().lower())


def _settings() -> Any:
    return current_app.config["ALLYLOOP"]


def _passwords_on() -> None:
    """With PASSWORD_SIGN_IN=off people sign in through the identity provider only: no
    password is taken, made or reset here."""
    if not _settings().password_sign_in:
        raise Forbidden("password sign-in is off here: sign in with your organisation, then make a token at /account")


@blp.route("/accounts", methods=["POST"])
@blp.arguments(AccountIn)
@blp.response(202, StatusOut)
@limiter.limit("5/hour", key_func=_email_key)
@limiter.limit("30/hour", key_func=client_key)
def create_account(body: dict[str, Any]) -> Any:
    """Sign up: a verification email goes to the address (the answer is the same for a known one)"""
    _passwords_on()
    cfg = _settings()
    accounts.sign_up(
        session(),
        now=utcnow(),
        password_cost=cfg.password_cost,
        domains=cfg.org_email_domains,
        letters=letters(),
        **body,
    )
    after_commit(deliveries_waiting)
    return CHECK_EMAIL


@blp.route("/accounts/verify", methods=["POST"])
@blp.arguments(VerifyIn)
@blp.response(200, VerifiedOut)
@limiter.limit("30/hour", key_func=client_key)
def verify(body: dict[str, Any]) -> Any:
    """Confirm an address with the token its verification email carries"""
    accounts.verify(session(), body["token"], now=utcnow())
    return {"verified": True}


@blp.route("/tokens", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(201, TokenOut)
@limiter.limit("10/minute", key_func=_email_key)
@limiter.limit("60/hour", key_func=client_key)
def create_token(body: dict[str, Any]) -> Any:
    """Sign in: trade email and password for a bearer token (403 unverified until the address is confirmed)"""
    _passwords_on()
    now = utcnow()
    try:
        account = accounts.authenticate(
            session(),
            email=body["email"],
            password=body["password"],
            password_cost=_settings().password_cost,
            now=now,
            letters=letters(),
        )
    except Unverified:
        session().commit()  # the fresh verification email
        deliveries_waiting()
        raise
    token = accounts.issue_token(session(), account, now=now)
    return {"token": token, "expires_at": (now + accounts.TOKEN_LIFETIME).replace(tzinfo=UTC)}


@blp.route("/tokens/current", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_token() -> Any:
    """Sign out this API token: it stops working at once"""
    accounts.revoke_token(session(), bearer_token())


@blp.route("/tokens", methods=["DELETE"])
@login_required
@blp.response(204)
def sign_out_everywhere() -> Any:
    """Sign out everywhere: every API token and web session of the account stops working"""
    accounts.end_sessions(session(), current_account())


@blp.route("/password-resets", methods=["POST"])
@blp.arguments(ResetIn)
@blp.response(202, StatusOut)
@limiter.limit("5/hour", key_func=_email_key)
@limiter.limit("30/hour", key_func=client_key)
def request_reset(body: dict[str, Any]) -> Any:
    """Forgot your password: a reset link goes to the address, if it has an account (the answer is the same)"""
    _passwords_on()
    accounts.request_reset(session(), email=body["email"], now=utcnow(), letters=letters())
    after_commit(deliveries_waiting)
    return CHECK_EMAIL


@blp.route("/password-resets/<token>", methods=["POST"])
@blp.arguments(NewPasswordIn)
@blp.response(200, StatusOut)
@limiter.limit("30/hour", key_func=client_key)
def reset_password(body: dict[str, Any], token: str) -> Any:
    """Set a new password with the reset link's token; every session and API token of the account ends"""
    _passwords_on()
    accounts.reset_password(
        session(), token, password=body["password"], now=utcnow(), password_cost=_settings().password_cost
    )
    return {"status": "password changed; sign in again"}


@blp.route("/me/password", methods=["POST"])
@login_required
@blp.arguments(PasswordChangeIn)
@blp.response(200, StatusOut)
def change_password(body: dict[str, Any]) -> Any:
    """Change your password; every session and API token of the account ends, this one too"""
    accounts.change_password(
        session(),
        current_account(),
        current=body["current_password"],
        password=body["password"],
        password_cost=_settings().password_cost,
    )
    return {"status": "password changed; sign in again"}
