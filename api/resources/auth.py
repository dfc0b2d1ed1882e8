"""Bearer-token authentication for the JSON API."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from api.clock import utcnow
from api.extensions import session
from feedback.errors import Unauthenticated
from feedback.models import Account
from feedback.services import accounts
from feedback.transactions import reading

F = TypeVar("F", bound=Callable[..., Any])


def current_account() -> Account:
    account = g.get("account")
    if account is None:  # pragma: no cover - only reachable from views missing @login_required
        raise Unauthenticated("sign in first")
    return cast(Account, account)


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send 'Authorization: Bearer <token>' (POST /api/v1/tokens gives one)")
    return token.strip()


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Checking a token only reads: on SQLite it need not wait for (or take) the write lock,
        # and a view that only reads runs in a read transaction of its own (``reading``).
        with reading(session()):
            g.account = accounts.account_for_token(session(), bearer_token(), now=utcnow())
        return view(*args, **kwargs)

    return cast(F, wrapper)
