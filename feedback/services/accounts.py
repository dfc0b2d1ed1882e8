"""Accounts: sign-up with a verified address, sign-in, tokens, password resets, signing out.

No answer here tells whether an address has an account (no account oracle): sign-up and
password-reset requests answer the same for a new and a known address (what differs goes
by email, in the background), and a sign-in costs one password hash either way.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import passwords, tokens
from feedback import addresses, delivery, text
from feedback.errors import Forbidden, Gone, Invalid, NotFound, Unauthenticated, Unverified
from feedback.mail import Mail
from feedback.models import Account, AccountToken, ApiToken
from feedback.wording import N_, Wording

TOKEN_LIFETIME: Final = timedelta(days=30)  # API tokens
VERIFY_LIFETIME: Final = timedelta(days=3)
RESET_LIFETIME: Final = timedelta(hours=2)
VERIFY: Final = "verify"
RESET: Final = "reset"


@dataclass(frozen=True)
class Letters:
    """What queuing an email about an account needs: the at-rest key of waiting emails, the
    app's address for its links, and the translations."""

    key: bytes
    app_url: str
    gettext: Callable[[str], str]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_domain(email: str, domains: Sequence[str]) -> None:
    """Invalid unless the address is in the organisation's domains (when they are set)."""
    if domains and not addresses.in_domains(normalise_email(email), domains):
        raise Invalid(
            "use your work address",
            {"email": Wording(N_("must be an address of the organisation: %(domains)s"), domains=", ".join(domains))},
        )


@cache
def _dummy_hash(cost: int) -> str:
    """What an unknown address is checked against, made once per cost: a sign-in for it costs
    one hash, like a sign-in for a known one (making this per attempt doubled the cost)."""
    return passwords.hash_password("not a password of anyone's", cost=cost)


def _new_token(session: Session, account: Account, purpose: str, *, now: datetime, lifetime: timedelta) -> str:
    """A fresh single-use token for the account, the only one of its purpose."""
    session.execute(delete(AccountToken).where(AccountToken.account_id == account.id, AccountToken.purpose == purpose))
    token = tokens.new_link_token()
    session.add(
        AccountToken(
            account_id=account.id,
            purpose=purpose,
            token_hash=tokens.account_token_hash(token),
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def _key(purpose: str, to: str, now: datetime) -> str:
    """A Message-ID key that never shows the address."""
    return f"{purpose}-{hashlib.sha256(f'{to}|{now.isoformat()}'.encode()).hexdigest()[:24]}"


def _send_verification(session: Session, account: Account, letters: Letters, *, now: datetime) -> None:
    token = _new_token(session, account, VERIFY, now=now, lifetime=VERIFY_LIFETIME)
    _ = letters.gettext
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": account.name},
            "",
            _("Confirm this address to start using Allyloop:"),
            "",
            f"{letters.app_url}/verify/{token}",
            "",
            _("The link works once, for three days. If you did not sign up, ignore this email."),
        ]
    )
    mail = Mail(
        to=account.email,
        subject=_("Confirm your email address"),
        body=body + "\n",
        key=_key(VERIFY, account.email, now),
    )
    delivery.enqueue(session, letters.key, mail, now=now, expires_at=now + VERIFY_LIFETIME)


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    now: datetime,
    password_cost: int,
    domains: Sequence[str],
    letters: Letters,
) -> None:
    """Make an unverified account and email it a verification link; for an address that has
    an account already, email its owner a note instead. Either way the caller learns nothing
    and the work is the same: one password hash, one email queued."""
    check_domain(email, domains)
    name = text.clean(name)  # others read it: no bidi overrides or invisible characters
    if not name:
        raise Invalid("give your name", {"name": "must not be blank"})
    email = normalise_email(email)
    password_hash = passwords.hash_password(password, cost=password_cost)
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        try:
            with session.begin_nested():
                account = Account(
                    email=email, name=name, password_hash=password_hash, created_on=now.date(), verified=False
                )
                session.add(account)
        except IntegrityError:  # the same address signed up at the same moment
            account = session.scalar(select(Account).where(Account.email == email))
        else:
            _send_verification(session, account, letters, now=now)
            return
    assert account is not None  # noqa: S101 - the racing sign-up committed it
    _ = letters.gettext
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": account.name},
            "",
            _("Someone asked to sign up to Allyloop with this address, which has an account already."),
            _("If it was you, sign in, or set a new password here:"),
            "",
            f"{letters.app_url}/reset-password",
            "",
            _("If it was not you, ignore this email: nothing has changed."),
        ]
    )
    mail = Mail(to=account.email, subject=_("Your Allyloop account"), body=body + "\n", key=_key("known", email, now))
    delivery.enqueue(session, letters.key, mail, now=now, expires_at=now + VERIFY_LIFETIME)


def _spend(session: Session, token: str, purpose: str, *, now: datetime) -> Account:
    """The account a mailed token belongs to; the token is used up. NotFound for an unknown or
    used one, Gone for an expired one: either way nothing changes."""
    if not tokens.is_link_token(token):
        raise NotFound("this link is not valid: it was used already, or mistyped")
    row = session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == tokens.account_token_hash(token), AccountToken.purpose == purpose
        )
    )
    if row is None:
        raise NotFound("this link is not valid: it was used already, or mistyped")
    if row.expires_at <= now:
        raise Gone("this link has expired: ask for a new one")
    account = session.get(Account, row.account_id)
    session.delete(row)
    session.flush()
    if account is None:  # pragma: no cover - tokens go with their account
        raise NotFound("this link is not valid")
    return account


def verify(session: Session, token: str, *, now: datetime) -> Account:
    """Mark the address proven by the link mailed to it."""
    account = _spend(session, token, VERIFY, now=now)
    account.verified = True
    session.flush()
    return account


def authenticate(
    session: Session, *, email: str, password: str, password_cost: int, now: datetime, letters: Letters
) -> Account:
    """The account for this email and password. Unauthenticated if they do not match (at the
    cost of one hash whether the address is known or not); Unverified if they match an
    address not proven yet, which also mails a fresh verification link."""
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    stored = account.password_hash if account is not None and account.password_hash else _dummy_hash(password_cost)
    if not passwords.verify_password(password, stored) or account is None or account.password_hash is None:
        raise Unauthenticated("wrong email or password")
    if not account.verified:
        _send_verification(session, account, letters, now=now)
        raise Unverified("confirm your address first: we emailed you a new link")
    return account


def issue_token(session: Session, account: Account, *, now: datetime) -> str:
    if not account.verified:
        raise Unverified("confirm your address first")
    token = tokens.new_api_token()
    session.add(
        ApiToken(account_id=account.id, token_hash=tokens.api_token_hash(token), expires_at=now + TOKEN_LIFETIME)
    )
    session.flush()
    return token


def account_for_token(session: Session, token: str, *, now: datetime) -> Account:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.api_token_hash(token)))
    if row is None or row.expires_at <= now:
        raise Unauthenticated("missing, unknown, expired or revoked token")
    account = session.get(Account, row.account_id)
    if account is None or not account.verified:  # tokens go with their account
        raise Unauthenticated("missing, unknown, expired or revoked token")
    return account


def revoke_token(session: Session, token: str) -> None:
    """That API token is dead."""
    session.execute(delete(ApiToken).where(ApiToken.token_hash == tokens.api_token_hash(token)))


def account_for_session(session: Session, account_id: int, generation: int) -> Account | None:
    """The account a web session belongs to, unless it has signed out since the session began."""
    account = session.get(Account, account_id)
    ok = account is not None and account.verified and account.session_generation == generation
    return account if ok else None


def end_sessions(session: Session, account: Account) -> None:
    """Sign the account out everywhere: every web session begun before now and every API
    token stop working."""
    account.session_generation += 1
    session.execute(delete(ApiToken).where(ApiToken.account_id == account.id))
    session.flush()


def request_reset(session: Session, *, email: str, now: datetime, letters: Letters) -> None:
    """Email a password-reset link if the address has an account. The caller is told the
    same either way; the email is queued, so how long this takes tells nothing either."""
    account = session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        return
    token = _new_token(session, account, RESET, now=now, lifetime=RESET_LIFETIME)
    _ = letters.gettext
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": account.name},
            "",
            _("Set a new password for Allyloop here:"),
            "",
            f"{letters.app_url}/reset-password/{token}",
            "",
            _(
                "The link works once, for two hours. Setting a new password signs you out everywhere. "
                "If you did not ask for this, ignore this email: nothing has changed."
            ),
        ]
    )
    mail = Mail(
        to=account.email, subject=_("Set a new password"), body=body + "\n", key=_key(RESET, account.email, now)
    )
    delivery.enqueue(session, letters.key, mail, now=now, expires_at=now + RESET_LIFETIME)


def reset_password(session: Session, token: str, *, password: str, now: datetime, password_cost: int) -> Account:
    """Set a new password with the mailed link. The mailbox is proven, so the address is too;
    every session and API token of the account ends."""
    account = _spend(session, token, RESET, now=now)
    account.password_hash = passwords.hash_password(password, cost=password_cost)
    account.verified = True
    end_sessions(session, account)
    return account


def change_password(session: Session, account: Account, *, current: str, password: str, password_cost: int) -> None:
    """A new password, given the current one; every session and API token ends."""
    if account.password_hash is None or not passwords.verify_password(current, account.password_hash):
        raise Invalid("the current password is not right", {"current_password": "not the current password"})
    account.password_hash = passwords.hash_password(password, cost=password_cost)
    end_sessions(session, account)


def sso_account(
    session: Session, *, subject: str, email: str, email_verified: bool, name: str, today: date, domains: Sequence[str]
) -> Account:
    """The account of someone the organisation's identity provider signed in.

    Found by its subject, or else by its verified address (which it then takes on); made on
    first sign-in. The provider must vouch for the address, and it must be in the
    organisation's domains: otherwise Forbidden, and no account is made.
    """
    if not email_verified:
        raise Forbidden("the identity provider has not verified this address")
    check_domain(email, domains)
    account = session.scalar(select(Account).where(Account.sso_subject == subject))
    if account is not None:
        return account
    email = normalise_email(email)
    account = session.scalar(select(Account).where(Account.email == email))
    if account is None:
        account = Account(email=email, name=text.clean(name)[:120] or email, password_hash=None, created_on=today)
        session.add(account)
    account.sso_subject = subject
    account.verified = True
    session.flush()
    return account
