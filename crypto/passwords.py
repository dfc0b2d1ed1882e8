"""Password hashing with scrypt (RFC 7914), from the cryptography package we already use."""

import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from crypto.encoding import b64u_decode, b64u_encode

# Interactive-login cost (about 64 MiB, tens of milliseconds). Tests lower it.
DEFAULT_COST = 2**16
_R, _P, _LENGTH = 8, 1, 32


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    salt = os.urandom(16)
    digest = Scrypt(salt=salt, length=_LENGTH, n=cost, r=_R, p=_P).derive(password.encode("utf-8"))
    return f"scrypt${cost}${_R}${_P}${b64u_encode(salt)}${b64u_encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, cost, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        kdf = Scrypt(salt=b64u_decode(salt), length=_LENGTH, n=int(cost), r=int(r), p=int(p))
        candidate = kdf.derive(password.encode("utf-8"))
        return hmac.compare_digest(candidate, b64u_decode(digest))
    except ValueError:
        return False
