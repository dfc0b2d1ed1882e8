"""Link and API tokens: random, shown once, stored only as hashes.

A link token is 128 random bits. Its lookup hash and its envelope binding are two
different domain-separated digests, so no stored value joins the row that marks a link
used to the envelope it produced; only someone holding the token can compute both.
"""

import hashlib
import hmac
import secrets

from crypto.encoding import b64u_decode, b64u_encode

LINK_TOKEN_BYTES = 16
API_TOKEN_BYTES = 32


def new_link_token() -> str:
    return b64u_encode(secrets.token_bytes(LINK_TOKEN_BYTES))


def new_api_token() -> str:
    return b64u_encode(secrets.token_bytes(API_TOKEN_BYTES))


def is_link_token(text: str) -> bool:
    """Cheap shape check so junk never reaches the database."""
    try:
        return len(b64u_decode(text)) == LINK_TOKEN_BYTES
    except ValueError:
        return False


def _digest(purpose: bytes, token: str) -> bytes:
    return hashlib.sha256(purpose + b"\x00" + token.encode("utf-8", "surrogatepass")).digest()


def link_lookup_hash(token: str) -> bytes:
    return _digest(b"allyloop/link/lookup", token)


def link_binding(token: str) -> bytes:
    return _digest(b"allyloop/link/envelope", token)


def api_token_hash(token: str) -> bytes:
    return _digest(b"allyloop/api-token", token)


def rate_key(purpose: str, value: str) -> str:
    """A non-reversible key for rate limiting, so no raw token or email sits in the limiter."""
    return hmac.new(purpose.encode(), value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


def recipient_hash(key: bytes, address: str) -> bytes:
    """A delivered link's recipient: a keyed hash of their normalised address. Equal for the
    same person, so distinct people can be counted, and it names no one without ``key``."""
    return hmac.new(key, b"allyloop/recipient\x00" + address.encode("utf-8"), hashlib.sha256).digest()


def person_tag(key: bytes, recipient: bytes) -> bytes:
    """What an answer keeps of its recipient while it waits: the recipient hash keyed again,
    so no stored value matches an answer to its link without ``key``."""
    return hmac.new(key, b"allyloop/person\x00" + recipient, hashlib.sha256).digest()


def account_token_hash(token: str) -> bytes:
    """A mailed verification or password-reset token, as it is stored."""
    return _digest(b"allyloop/account-token", token)


def invitation_hash(token: str) -> bytes:
    """An invitation's token, as it is stored."""
    return _digest(b"allyloop/invitation", token)
