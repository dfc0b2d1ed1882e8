"""Password hashing with scrypt (RFC 7914), from the cryptography package we already use."""

import hmac
import os

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from crypto.encoding import b64u_decode, b64u_encode

# Interactive-login cost: n=2**15, r=8 takes about 32 MiB and tens of milliseconds. Tests lower it.
DEFAULT_COST = 2**15
MAX_COST = 2**20
_R, _P, _LENGTH = 8, 1, 32


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    salt = os.urandom(16)
    digest = Scrypt(salt=salt, length=_LENGTH, n=cost, r=_R, p=_P).derive(password.encode("utf-8"))
    return f"scrypt${cost}${_R}${_P}${b64u_encode(salt)}${b64u_encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, cost, r, p, salt, digest = stored.split("$")
        n = int(cost)
        # Only parameters we could have written: a tampered hash must not cost memory or time.
        if scheme != "scrypt" or (int(r), int(p)) != (_R, _P) or not 2 <= n <= MAX_COST or n & (n - 1):
            return False
        kdf = Scrypt(salt=b64u_decode(salt), length=_LENGTH, n=n, r=_R, p=_P)
        candidate = kdf.derive(password.encode("utf-8"))
        return hmac.compare_digest(candidate, b64u_decode(digest))
    except ValueError:
        return False
