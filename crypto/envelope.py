"""HPKE envelopes (RFC 9180 base mode) exactly as DESIGN §4 fixes them.

A recipient's answer is sealed to the organisation's current response key with
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM. The HPKE ``info`` binds an
envelope to the key id, the questionnaire version and the link, so an envelope made
for one link or key cannot be replayed against another and still open.
"""

import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM"
ENC_LENGTH = 32  # X25519 encapsulated key
TAG_LENGTH = 16  # AES-GCM tag
INFO_PREFIX = b"allyloop/envelope/v1"

_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)


class EnvelopeError(ValueError):
    """An envelope that cannot be (or must not be) opened."""


def build_info(kid: str, questionnaire_id: str, link_binding: bytes) -> bytes:
    """The exact HPKE info for one link: prefix, key id, questionnaire, link binding."""
    parts = [INFO_PREFIX, kid.encode("ascii"), questionnaire_id.encode("ascii"), link_binding]
    return b"\x00".join(parts)


def sealed_length(pad_to: int) -> int:
    """Length of every valid envelope of a questionnaire padded to ``pad_to`` bytes."""
    return ENC_LENGTH + pad_to + TAG_LENGTH


def padded_plaintext(answers: Mapping[str, object], comment: Mapping[str, object] | None, pad_to: int) -> bytes:
    """The UTF-8 JSON plaintext of the contract, padded with spaces to exactly ``pad_to`` bytes."""
    body: dict[str, object] = {"v": 1, "answers": answers, "comment": comment, "pad": ""}
    bare = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(bare) > pad_to:
        raise EnvelopeError(f"answer is {len(bare)} bytes, more than the {pad_to} allowed")
    body["pad"] = " " * (pad_to - len(bare))
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def seal(public_key: bytes, info: bytes, plaintext: bytes) -> bytes:
    """Seal to a raw 32-byte X25519 public key; returns ``enc || ciphertext``."""
    return _SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(public_key), info)


def open_sealed(private_key: X25519PrivateKey, info: bytes, sealed: bytes) -> bytes:
    """Open an envelope; EnvelopeError if it was not sealed to this key with this info."""
    try:
        return _SUITE.decrypt(sealed, private_key, info)
    except Exception as exc:
        raise EnvelopeError("envelope does not open with this key and info") from exc


_PAD_KEY = b',"pad":"'


def without_padding(plaintext: bytes) -> bytes:
    """The plaintext with its ``pad`` emptied, when ``pad`` comes last and is all spaces.

    Clients put ``pad`` last (ours do), so this spares the JSON parser the padding, about nine
    tenths of the bytes, and changes nothing else: a ``,"pad":"`` whose quotes are not
    escaped cannot sit inside a string, so when only spaces and ``"}`` follow it, it is the
    top-level key, and its spaces mean nothing once the envelope is open. Any other
    plaintext is returned as it is, for the parser to judge.
    """
    start, end = plaintext.rfind(_PAD_KEY), len(plaintext) - 2
    if start < 0 or start + len(_PAD_KEY) > end or not plaintext.endswith(b'"}'):
        return plaintext  # (the key's quote must not be the closing one)
    pad = plaintext[start + len(_PAD_KEY) : end]
    if pad != b" " * len(pad):  # a byte comparison, much faster than parsing the spaces
        return plaintext
    return plaintext[:start] + _PAD_KEY + b'"}'


def parse_plaintext(plaintext: bytes) -> dict[str, Any]:
    """Parse an opened plaintext into its JSON object; EnvelopeError if it is not one."""
    try:
        body = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("plaintext is not UTF-8 JSON") from exc
    if not isinstance(body, dict) or body.get("v") != 1:
        raise EnvelopeError("plaintext is not a version 1 answer")
    return body
