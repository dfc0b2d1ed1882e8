"""Encryption at rest for released comments (P4: they stay encrypted after release).

The key is derived from the app's SECRET_KEY with HKDF, so the web tier can show a
released comment to its audience while the database alone reveals nothing.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_LENGTH = 12


class AtRestError(ValueError):
    """A blob that does not decrypt with this key and context."""


def derive_key(secret: str, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"allyloop/at-rest/" + purpose.encode())
    return hkdf.derive(secret.encode("utf-8"))


def comment_context(cohort_id: int) -> bytes:
    """Binds a released comment to its cohort, so rows cannot be moved between cohorts.

    Its plaintext is JSON naming the ally the comment is about, so a lead who is that ally
    is never shown it (P9), while the table names no one."""
    return b"allyloop/comment/v2/" + str(cohort_id).encode()


def legacy_comment_context(cohort_id: int) -> bytes:
    """Comments released before they named their ally: plain text, whom about unknown."""
    return b"allyloop/comment/" + str(cohort_id).encode()


def encrypt(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(_NONCE_LENGTH)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def decrypt(key: bytes, blob: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:_NONCE_LENGTH], blob[_NONCE_LENGTH:], context)
    except (InvalidTag, ValueError) as exc:  # ValueError: too short to hold a nonce
        raise AtRestError("blob does not decrypt in this context") from exc
