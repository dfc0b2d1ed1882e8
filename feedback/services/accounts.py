"""Accounts and API bearer tokens."""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import passwords, tokens
from feedback.errors import Conflict, Unauthenticated
from feedback.models import Account, ApiToken

TOKEN_LIFETIME = timedelta(days=30)
# Verified against when no account matches, so a wrong email costs as much as a wrong password.
_DUMMY_HASH: dict[int, str] = {}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_account(
    session: Session, *, email: str, password: str, name: str, today: date, password_cost: int
) -> Account:
    email = normalise_email(email)
    taken = Conflict("an account with this email exists already", {"email": "already registered"})
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise taken
    account = Account(
        email=email,
        name=name.strip(),
        password_hash=passwords.hash_password(password, cost=password_cost),
        created_on=today,
    )
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:  # the same email signed up at the same moment, and got there first
        raise taken from None
    return account


def authenticate(session: Session, *, email: str, password: str, password_cost: int) -> Account:
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        dummy = _DUMMY_HASH.setdefault(password_cost, passwords.hash_password("x", cost=password_cost))
        passwords.verify_password(password, dummy)
        raise Unauthenticated("wrong email or password")
    if not passwords.verify_password(password, account.password_hash):
        raise Unauthenticated("wrong email or password")
    return account


def issue_token(session: Session, account: Account, *, now: datetime) -> str:
    token = tokens.new_api_token()
    session.add(
        ApiToken(account_id=account.id, token_hash=tokens.api_token_hash(token), expires_at=now + TOKEN_LIFETIME)
    )
    session.flush()
    return token


def account_for_token(session: Session, token: str, *, now: datetime) -> Account:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.api_token_hash(token)))
    if row is None or row.expires_at <= now:
        raise Unauthenticated("missing, unknown or expired token")
    account = session.get(Account, row.account_id)
    if account is None:  # pragma: no cover - cascades delete tokens with their account
        raise Unauthenticated("missing, unknown or expired token")
    return account


def account_for_session(session: Session, account_id: int, generation: int) -> Account | None:
    """The account a web session belongs to, unless it has signed out since the session began."""
    account = session.get(Account, account_id)
    return account if account is not None and account.session_generation == generation else None


def end_sessions(session: Session, account: Account) -> None:
    """Sign the account out everywhere: every web session begun before now stops working."""
    account.session_generation += 1
