"""Realistic answers, sealed exactly the way a recipient's browser seals them (DESIGN §4)."""

import hashlib
import json
import random
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from crypto.encoding import b64u_decode, b64u_encode
from feedback import questionnaires

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
QUESTIONNAIRE_ID = "immediate.v1"
COMMENT_SHARE = 0.3  # roughly one answer in three carries a comment
DECLINE_SHARE = 0.05  # "I'd rather not answer"
_WORDS = [
    "it",
    "helped",
    "that",
    "you",
    "asked",
    "me",
    "first",
    "next",
    "time",
    "please",
    "make",
    "room",
    "for",
    "me",
    "to",
    "speak",
    "the",
    "credit",
    "mattered",
    "the",
    "follow",
    "up",
    "in",
    "the",
    "review",
    "was",
    "great",
    "I",
    "felt",
    "seen",
    "but",
    "also",
    "a",
    "bit",
    "rescued",
]


def random_answer(
    rng: random.Random, questionnaire: questionnaires.Questionnaire
) -> tuple[dict[str, Any], dict[str, str] | None]:
    """A valid answer: most items answered, some skipped, sometimes a comment."""
    if rng.random() < DECLINE_SHARE:
        return {}, None
    answers: dict[str, Any] = {}
    for item in questionnaire.items:
        if rng.random() < 0.15:
            continue  # skipped
        if item.type == "choice":
            answers[item.id] = rng.choice(item.option_values)
        elif item.type == "scale":
            low, high = int(item.min or 1), int(item.max or 5)
            answers[item.id] = "na" if item.allow_na and rng.random() < 0.1 else rng.randint(low, high)
        else:
            plain = [v for v in item.option_values if v not in item.exclusive]
            if item.exclusive and rng.random() < 0.4:
                answers[item.id] = [rng.choice(sorted(item.exclusive))]
            else:
                answers[item.id] = rng.sample(plain, rng.randint(1, len(plain)))
    comment = None
    if rng.random() < COMMENT_SHARE:
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 40)))
        comment = {"text": text, "audience": rng.choice(questionnaires.AUDIENCES)}
    questionnaire.validate_answers(answers)
    questionnaire.validate_comment(comment)
    return answers, comment


def plaintext(answers: dict[str, Any], comment: dict[str, str] | None, pad_to: int) -> bytes:
    """The contract's UTF-8 JSON, padded with spaces to exactly pad_to bytes (as the Recipient does)."""
    body: dict[str, Any] = {"v": 1, "answers": answers, "comment": comment, "pad": ""}
    bare = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    body["pad"] = " " * (pad_to - bare)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def seal(public_key: bytes, info: bytes, message: bytes) -> bytes:
    return SUITE.encrypt(message, X25519PublicKey.from_public_bytes(public_key), info)


def seal_for_page(page: dict[str, Any], rng: random.Random) -> dict[str, str]:
    """From a GET /api/v1/answer/<token> document to the POST body {kid, sealed}."""
    questionnaire = questionnaires.load(page["questionnaire"]["id"])
    answers, comment = random_answer(rng, questionnaire)
    message = plaintext(answers, comment, page["pad_to"])
    sealed = seal(b64u_decode(page["key"]["public_key"]), b64u_decode(page["info"]), message)
    return {"kid": page["key"]["kid"], "sealed": b64u_encode(sealed)}


def digest(sealed: bytes) -> bytes:
    return hashlib.sha256(sealed).digest()
