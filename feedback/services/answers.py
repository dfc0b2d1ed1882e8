"""What a recipient does: open a link, answer once, get a receipt.

Only ciphertext is stored. A sealed envelope is checked for shape (key id, length,
not seen before) but never opened here: the web tier holds public keys only.
"""

import functools
import hashlib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from crypto import envelope, tokens
from crypto.encoding import b64u_decode
from feedback import questionnaires
from feedback.errors import Gone, Invalid, NotFound
from feedback.models import Action, FeedbackRequest, Link
from feedback.services import keys
from feedback.transactions import reading


@dataclass(frozen=True)
class ActionShown:
    """What a recipient is shown of the ally's action: no names, no ids."""

    kind: str
    summary: str
    occurred_on: date | None  # None: a planned action, advice asked before acting


@dataclass(frozen=True)
class LiveLink:
    """A link that may still be answered, with what answering it needs (plain values)."""

    id: int
    questionnaire_id: str
    stage: str
    ally_scope_id: int
    group_scope_id: int
    ally_id: int
    action: ActionShown
    visibility: str
    recipient: bytes | None  # a delivered link's recipient hash; None if the ally held the link


# Reads the web's no-JavaScript form against a questionnaire; raises InvalidAnswers.
FormReader = Callable[[questionnaires.Questionnaire], tuple[questionnaires.Answers, questionnaires.Comment | None]]


@dataclass(frozen=True)
class OpenLink:
    action: ActionShown
    questionnaire: questionnaires.Questionnaire
    kid: str  # the current response key, to seal the answer to
    public_key: bytes
    info: bytes


@functools.cache
def _link_query() -> Select[Any]:
    # Built once: this runs on every answer, and plain columns skip the ORM's per-object work.
    return (
        select(
            Link.id,
            Link.used,
            Link.expires_at,
            Link.recipient_hash,
            FeedbackRequest.questionnaire_id,
            FeedbackRequest.stage,
            FeedbackRequest.ally_scope_id,
            FeedbackRequest.group_scope_id,
            Action.ally_id,
            Action.kind,
            Action.summary,
            Action.occurred_on,
            Action.visibility,
        )
        .join(FeedbackRequest, Link.request_id == FeedbackRequest.id)
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Link.token_hash == bindparam("token_hash"))
    )


def _live_link(session: Session, token: str, now: datetime) -> LiveLink:
    if not tokens.is_link_token(token):
        raise NotFound("this link does not exist")
    row = session.connection().execute(_link_query(), {"token_hash": tokens.link_lookup_hash(token)}).one_or_none()
    if row is None:
        raise NotFound("this link does not exist")
    if row.used:
        raise Gone("this link has been used already")
    if row.expires_at <= now:
        raise Gone("this link has expired")
    return LiveLink(
        id=row.id,
        questionnaire_id=row.questionnaire_id,
        stage=row.stage,
        ally_scope_id=row.ally_scope_id,
        group_scope_id=row.group_scope_id,
        ally_id=row.ally_id,
        action=ActionShown(kind=row.kind, summary=row.summary, occurred_on=row.occurred_on),
        visibility=row.visibility,
        recipient=row.recipient_hash,
    )


def open_link(session: Session, token: str, *, now: datetime) -> OpenLink:
    """What a recipient needs to answer. Only reads, so it never waits behind a writer."""
    with reading(session):
        link = _live_link(session, token, now)
        key = keys.current_key(session)
        kid, public_key = key.kid, key.public_key
    questionnaire = questionnaires.load(link.questionnaire_id)
    info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(token))
    return OpenLink(action=link.action, questionnaire=questionnaire, kid=kid, public_key=public_key, info=info)


@dataclass(frozen=True)
class CheckedAnswer:
    """A browser-sealed answer that passed every check: what storing it writes (plain values)."""

    link_id: int
    response: dict[str, Any]  # the response row
    kid: str
    info: bytes
    sealed: bytes
    digest: bytes

    @property
    def receipt(self) -> str:
        return self.digest.hex()[:20]


DBAPIConnection = sqlite3.Connection | psycopg.Connection[Any]

# The answer path runs on the driver's own connection (the ORM session, engine and events
# cost more than SQLite's statements themselves). One read: the link, its request and action,
# whether it is live, and whether the key id may be sealed to.
_CHECK = (
    "SELECT link.id, link.used, link.expires_at > :now, link.recipient_hash, request.questionnaire_id,"
    " request.stage, request.ally_scope_id, request.group_scope_id, action.ally_id, action.kind,"
    " action.visibility, (SELECT retired FROM response_key WHERE kid = :kid)"
    " FROM link JOIN feedback_request AS request ON link.request_id = request.id"
    " JOIN action ON request.action_id = action.id WHERE link.token_hash = :token_hash"
)
_SPEND = "UPDATE link SET used = 1 WHERE id = ? AND used = 0"
_INSERT_RESPONSE = (
    "INSERT INTO response (ally_scope_id, group_scope_id, ally_id, kind, visibility, stage, person, invalid)"
    " VALUES (:ally_scope_id, :group_scope_id, :ally_id, :kind, :visibility, :stage, :person, 0) RETURNING id"
)
_INSERT_ENVELOPE = "INSERT INTO envelope (response_id, kid, info, sealed, digest) VALUES (?, ?, ?, ?, ?)"
# PostgreSQL: spend the link and store the response and its envelope in one statement, run
# in autocommit so that it is its own synced transaction (one round trip). A replayed
# envelope breaks the digest's unique constraint and the whole statement rolls back.
_STORE_POSTGRES = (
    "WITH spent AS (UPDATE link SET used = true WHERE id = %(link_id)s AND NOT used RETURNING id),"
    " answer AS (INSERT INTO response"
    " (ally_scope_id, group_scope_id, ally_id, kind, visibility, stage, person, invalid)"
    " SELECT %(ally_scope_id)s, %(group_scope_id)s, %(ally_id)s, %(kind)s::text, %(visibility)s::text,"
    " %(stage)s::text, %(person)s::bytea, false FROM spent RETURNING id),"
    " sealed AS (INSERT INTO envelope (response_id, kid, info, sealed, digest)"
    " SELECT id, %(kid)s::text, %(info)s, %(sealed)s, %(digest)s FROM answer RETURNING response_id)"
    " SELECT count(*) FROM sealed"
)


_CURRENT_KEY = "SELECT kid, public_key FROM response_key WHERE NOT retired ORDER BY created_at DESC LIMIT 1"


@dataclass(frozen=True)
class _CheckedLink:
    """The one read's row for a live link, and whether the key id asked about is retired
    (None: no such key)."""

    id: int
    recipient: bytes | None
    questionnaire_id: str
    stage: str
    ally_scope_id: int
    group_scope_id: int
    ally_id: int
    kind: str
    visibility: str
    retired: bool | None


def _check_link(connection: DBAPIConnection, token: str, *, kid: str, now: datetime) -> _CheckedLink:
    if not tokens.is_link_token(token):
        raise NotFound("this link does not exist")
    postgres = not isinstance(connection, sqlite3.Connection)
    params = {
        "token_hash": tokens.link_lookup_hash(token),
        "kid": kid,
        # SQLite keeps times as text in SQLAlchemy's format, which compares in time order.
        "now": now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    row = connection.execute(_check_query(postgres), params).fetchone()
    if row is None:
        raise NotFound("this link does not exist")
    link_id, used, live, recipient, *rest = row
    if used:
        raise Gone("this link has been used already")
    if not live:
        raise Gone("this link has expired")
    return _CheckedLink(link_id, recipient, *rest)


def _checked(link: _CheckedLink, *, token: str, kid: str, blob: bytes, people_key: bytes) -> CheckedAnswer:
    response = {
        "ally_scope_id": link.ally_scope_id,
        "group_scope_id": link.group_scope_id,
        "ally_id": link.ally_id,
        "kind": link.kind,
        "visibility": link.visibility,
        "stage": link.stage,
        # Who answered, as far as counting distinct people needs (P8): only delivered links count.
        "person": None if link.recipient is None else tokens.person_tag(people_key, link.recipient),
    }
    info = envelope.build_info(kid, link.questionnaire_id, tokens.link_binding(token))
    return CheckedAnswer(link.id, response, kid, info, blob, hashlib.sha256(blob).digest())


def check_sealed(
    connection: DBAPIConnection, token: str, *, kid: str, sealed: str, now: datetime, people_key: bytes
) -> CheckedAnswer:
    """Every check of a browser-sealed envelope for this link, in one read; nothing written.

    Refusals come in the order a client can act on: no such link (404), used or expired
    (410), then what is wrong with the envelope (400).
    """
    link = _check_link(connection, token, kid=kid, now=now)
    questionnaire = questionnaires.load(link.questionnaire_id)
    try:
        blob = b64u_decode(sealed)
    except ValueError:
        raise Invalid("the envelope is not base64url", {"sealed": "must be base64url without padding"}) from None
    expected = envelope.sealed_length(questionnaire.pad_to)
    if len(blob) != expected:
        raise Invalid("the envelope has the wrong length", {"sealed": f"must be {expected} bytes"})
    if link.retired is None or link.retired:
        raise Invalid("the envelope is sealed to an unknown or retired key", {"kid": "unknown or retired key"})
    return _checked(link, token=token, kid=kid, blob=blob, people_key=people_key)


def seal_form(
    connection: DBAPIConnection,
    token: str,
    *,
    read_form: FormReader,
    now: datetime,
    people_key: bytes,
) -> CheckedAnswer:
    """The no-JavaScript path: check the form (``read_form`` reads it against the link's
    questionnaire) and seal it here at once to the current key; nothing written (it is
    stored as a browser-sealed envelope is, by ``store_checked``).

    The plaintext exists only inside this call; it is never stored or logged.
    """
    key = connection.execute(_CURRENT_KEY).fetchone()
    kid, public_key = key if key is not None else ("", b"")
    link = _check_link(connection, token, kid=kid, now=now)
    if key is None:
        raise NotFound("no response key yet: run 'flask keys rotate'")
    questionnaire = questionnaires.load(link.questionnaire_id)
    try:
        clean, clean_comment = read_form(questionnaire)
    except questionnaires.InvalidAnswers as exc:
        raise Invalid("some answers are not valid", exc.fields) from None
    info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(token))
    plaintext = envelope.padded_plaintext(clean, clean_comment, questionnaire.pad_to)
    blob = envelope.seal(bytes(public_key), info, plaintext)
    return _checked(link, token=token, kid=kid, blob=blob, people_key=people_key)


def store_checked(connection: sqlite3.Connection, answer: CheckedAnswer) -> str:
    """SQLite: spend the link and store the answer, inside the caller's transaction (a
    savepoint of api/commit.py's batch). Returns the receipt; the caller commits."""
    # A conditional update, so that two racing submissions cannot both count (P6).
    if connection.execute(_SPEND, (answer.link_id,)).rowcount != 1:
        raise Gone("this link has been used already")
    (response_id,) = connection.execute(_INSERT_RESPONSE, answer.response).fetchone()
    try:
        connection.execute(_INSERT_ENVELOPE, (response_id, answer.kid, answer.info, answer.sealed, answer.digest))
    except sqlite3.IntegrityError:  # the digest is unique: this exact envelope was stored before
        raise Invalid("this envelope was sent before", {"sealed": "replayed envelope"}) from None
    return answer.receipt


def store_checked_postgres(connection: psycopg.Connection[Any], answer: CheckedAnswer) -> str:
    """PostgreSQL: spend the link and store the answer in one statement and one round trip,
    committed when it returns (the connection must be in autocommit). Returns the receipt."""
    params = {
        "link_id": answer.link_id,
        **answer.response,
        "kid": answer.kid,
        "info": answer.info,
        "sealed": answer.sealed,
        "digest": answer.digest,
    }
    try:
        row = connection.execute(_STORE_POSTGRES, params).fetchone()
    except psycopg.errors.UniqueViolation:  # the digest is unique: this exact envelope was stored before
        raise Invalid("this envelope was sent before", {"sealed": "replayed envelope"}) from None
    if row is None or row[0] != 1:
        raise Gone("this link has been used already")
    return answer.receipt


@functools.cache
def _check_query(postgres: bool) -> str:
    return re.sub(r":(\w+)", r"%(\1)s", _CHECK) if postgres else _CHECK
