"""Cookie sessions for allies and leads: who is signed in, signing in and out, CSRF on forms."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, redirect, request, url_for
from flask import session as cookie

from api.extensions import session
from api.i18n import reader_language
from feedback.models import Account
from feedback.services import accounts
from feedback.transactions import reading

F = TypeVar("F", bound=Callable[..., Any])


def current_account() -> Account | None:
    if "web_account" not in g:
        account_id, generation = cookie.get("account_id"), cookie.get("generation")
        if isinstance(account_id, int) and isinstance(generation, int):
            with reading(session()):  # only reads: on SQLite, without the write lock (see api.auth)
                g.web_account = accounts.account_for_session(session(), account_id, generation)
        else:
            g.web_account = None
    return cast(Account | None, g.web_account)


def sign_in(account: Account) -> None:
    cookie.clear()  # a fresh session (and CSRF token) on every sign-in
    cookie["account_id"] = account.id
    cookie["generation"] = account.session_generation
    cookie.permanent = True
    g.web_account = account
    language = reader_language()
    if account.locale != language:
        account.locale = language  # the emails sent without a browser to ask follow it (api.i18n)


def sign_out() -> None:
    """End this session and every other one of the account: a copied cookie is worth nothing after."""
    account = current_account()
    if account is not None:
        accounts.end_sessions(session(), account)
    cookie.clear()
    g.web_account = None


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("home.sign_in_page"))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def me() -> Account:
    """The signed-in account, in a view behind @login_required."""
    account = current_account()
    assert account is not None, "view is missing @login_required"  # noqa: S101 - a programming error, not input
    return account


def protect() -> None:
    """before_request of every signed-in blueprint: each POST must carry the session's CSRF token."""
    from web import csrf

    csrf.protect()


def signed_in_context() -> dict[str, Any]:
    return {"me": current_account() if request.blueprint in ("home", "ally", "lead", "account") else None}
