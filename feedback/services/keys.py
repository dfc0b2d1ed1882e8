"""The organisation's response keys: the current public key, rotation, and opening."""

import functools
from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from crypto import keyring
from feedback.errors import Invalid, NotFound
from feedback.models import ResponseKey


def current_key(session: Session) -> ResponseKey:
    key = session.scalar(
        select(ResponseKey).where(ResponseKey.retired.is_(False)).order_by(ResponseKey.created_at.desc()).limit(1)
    )
    if key is None:
        raise NotFound("no response key yet: run 'flask keys rotate'")
    return key


def is_usable(session: Session, kid: str) -> bool:
    """Whether answers may still be sealed to this key: known and not retired."""
    # Asked on every answer: a plain Core query on the session's connection, built once.
    retired = session.connection().scalar(_retired(), {"kid": kid})
    return retired is False


@functools.cache
def _retired() -> Select[tuple[bool]]:
    return select(ResponseKey.retired).where(ResponseKey.kid == bindparam("kid"))


def check_kek(session: Session, kek: bytes) -> None:
    """Refuse a key-encryption key that does not open the stored keys. A key made under it
    would be handed to recipients while the workers, holding the right one, could never
    open what is sealed to it: those answers, and their scopes' releases, would be stuck."""
    newest = session.scalar(select(ResponseKey).order_by(ResponseKey.created_at.desc()).limit(1))
    if newest is None:
        return
    try:
        keyring.unwrap(kek, newest.kid, newest.wrapped_private_key)
    except keyring.WrappedKeyError:
        raise Invalid(
            "KEY_ENCRYPTION_KEY does not open the stored response keys: set the one they were made under"
        ) from None


def rotate(session: Session, kek: bytes, *, now: datetime) -> ResponseKey:
    """Make a new current key. Older keys keep opening what was sealed to them."""
    check_kek(session, kek)
    return _new_key(session, kek, now=now)


def _new_key(session: Session, kek: bytes, *, now: datetime) -> ResponseKey:
    new = keyring.generate(kek)
    key = ResponseKey(
        kid=new.kid,
        public_key=new.public_key,
        wrapped_private_key=new.wrapped_private_key,
        created_at=now,
        retired=False,
    )
    session.add(key)
    session.flush()
    return key


def retire(session: Session, kid: str) -> None:
    """Refuse new answers sealed to this key. The current key cannot be retired alone."""
    key = session.get(ResponseKey, kid)
    if key is None or key.retired:
        raise NotFound(f"no usable key {kid}")
    if current_key(session).kid == kid:
        raise Invalid("rotate first: retiring the current key would leave none to seal to")
    key.retired = True
    session.flush()


def ensure_key(session: Session, kek: bytes, *, now: datetime) -> ResponseKey:
    """The current key, made first if there is none (first start); refuses a wrong KEK."""
    check_kek(session, kek)
    try:
        return current_key(session)
    except NotFound:
        return _new_key(session, kek, now=now)


def private_keys(session: Session, kek: bytes) -> Callable[[str], X25519PrivateKey]:
    """A loader that unwraps each key once per job; only the worker calls this."""
    cache: dict[str, X25519PrivateKey] = {}

    def load(kid: str) -> X25519PrivateKey:
        if kid not in cache:
            row = session.get(ResponseKey, kid)
            if row is None:
                raise keyring.WrappedKeyError(f"unknown key {kid}")
            cache[kid] = keyring.unwrap(kek, kid, row.wrapped_private_key)
        return cache[kid]

    return load
