"""Strict base64url without padding, as the public contract uses it."""

import base64
import binascii

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode base64url without padding; raise ValueError on anything else.

    Every answer's envelope (about 6 kB) passes here: each step is one pass in C, where a
    regular expression and the standard library's lenient decoder took twice as long."""
    if not isinstance(text, str) or not text.isascii() or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    raw = text.encode("ascii")
    if raw.translate(None, _ALPHABET):  # something outside the alphabet: padding, "+", "/", space
        raise ValueError("not base64url without padding")
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above leave nothing undecodable
        raise ValueError("not base64url without padding") from exc
