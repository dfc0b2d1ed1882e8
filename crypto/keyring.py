"""Response keys: X25519 key pairs with key ids, private halves wrapped under a KEK.

The key-encryption key (KEK) is 32 random bytes given to the worker in the
environment. Wrapped private keys are stored in the database; the web tier only ever
reads public keys.
"""

import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from crypto.encoding import b64u_decode, b64u_encode

KEK_LENGTH = 32
_NONCE_LENGTH = 12
_WRAP_AAD = b"allyloop/response-key/v1\x00"


class WrappedKeyError(ValueError):
    """A KEK or wrapped key that is malformed or does not match."""


@dataclass(frozen=True)
class NewKey:
    kid: str
    public_key: bytes  # raw 32 bytes
    wrapped_private_key: bytes


def new_kek() -> str:
    """A fresh KEK, as the base64url text the environment carries."""
    return b64u_encode(os.urandom(KEK_LENGTH))


def parse_kek(text: str) -> bytes:
    try:
        kek = b64u_decode(text.strip())
    except ValueError as exc:
        raise WrappedKeyError("the key-encryption key must be base64url") from exc
    if len(kek) != KEK_LENGTH:
        raise WrappedKeyError(f"the key-encryption key must be {KEK_LENGTH} bytes, not {len(kek)}")
    return kek


def key_id(public_key: bytes) -> str:
    """A short, stable id derived from the public key itself."""
    return "rk-" + hashlib.sha256(public_key).hexdigest()[:16]


def generate(kek: bytes) -> NewKey:
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = key_id(public)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return NewKey(kid=kid, public_key=public, wrapped_private_key=wrap(kek, kid, raw))


def wrap(kek: bytes, kid: str, private_raw: bytes) -> bytes:
    nonce = os.urandom(_NONCE_LENGTH)
    return nonce + AESGCM(kek).encrypt(nonce, private_raw, _WRAP_AAD + kid.encode("ascii"))


def unwrap(kek: bytes, kid: str, wrapped: bytes) -> X25519PrivateKey:
    nonce, body = wrapped[:_NONCE_LENGTH], wrapped[_NONCE_LENGTH:]
    try:
        raw = AESGCM(kek).decrypt(nonce, body, _WRAP_AAD + kid.encode("ascii"))
    except (InvalidTag, ValueError) as exc:  # ValueError: too short to hold a nonce
        raise WrappedKeyError(f"key {kid} does not unwrap with this key-encryption key") from exc
    return X25519PrivateKey.from_private_bytes(raw)
