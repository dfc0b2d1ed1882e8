"""What a recipient does: open a link, answer once, get a receipt.

Only ciphertext is stored. A sealed envelope is checked for shape (key id, length,
not seen before) but never opened here: the web tier holds public keys only.
"""

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Insert, Select, Update, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from crypto import envelope, tokens
from crypto.encoding import b64u_decode
from feedback import questionnaires
from feedback.errors import Gone, Invalid, NotFound
from feedback.models import Action, Envelope, FeedbackRequest, Link, Response
from feedback.services import keys
from feedback.transactions import reading


@dataclass(frozen=True)
class ActionShown:
    """What a recipient is shown of the ally's action: no names, no ids."""

    kind: str
    summary: str
    occurred_on: date


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


def submit_sealed(session: Session, token: str, *, kid: str, sealed: str, now: datetime, people_key: bytes) -> str:
    """Store a browser-sealed envelope for this link and spend the link. Returns a receipt.

    The checks read in a transaction of their own, so that the write after them holds
    SQLite's lock for its three statements only, not for the checks as well.
    """
    with reading(session):
        link = _live_link(session, token, now)
        questionnaire = questionnaires.load(link.questionnaire_id)
        try:
            blob = b64u_decode(sealed)
        except ValueError:
            raise Invalid("the envelope is not base64url", {"sealed": "must be base64url without padding"}) from None
        expected = envelope.sealed_length(questionnaire.pad_to)
        if len(blob) != expected:
            raise Invalid("the envelope has the wrong length", {"sealed": f"must be {expected} bytes"})
        if not keys.is_usable(session, kid):  # after the free checks: this one asks the database
            raise Invalid("the envelope is sealed to an unknown or retired key", {"kid": "unknown or retired key"})
    info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(token))
    return _store(session, link, kid=kid, info=info, blob=blob, people_key=people_key)


def submit_form(
    session: Session, token: str, *, form: Mapping[str, Sequence[str]], now: datetime, people_key: bytes
) -> str:
    """The no-JavaScript path: check the form, seal it here at once, store it like any envelope.

    The plaintext exists only inside this call; it is never stored or logged.
    """
    with reading(session):
        link = _live_link(session, token, now)
        questionnaire = questionnaires.load(link.questionnaire_id)
        try:
            clean, clean_comment = questionnaire.parse_form(form)
        except questionnaires.InvalidAnswers as exc:
            raise Invalid("some answers are not valid", exc.fields) from None
        key = keys.current_key(session)
        kid, public_key = key.kid, key.public_key
    info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(token))
    plaintext = envelope.padded_plaintext(clean, clean_comment, questionnaire.pad_to)
    blob = envelope.seal(public_key, info, plaintext)
    return _store(session, link, kid=kid, info=info, blob=blob, people_key=people_key)


def _store(session: Session, link: LiveLink, *, kid: str, info: bytes, blob: bytes, people_key: bytes) -> str:
    # Three fixed statements on the session's connection: the ORM would only add bookkeeping
    # (for the update, finding loaded links to refresh), and this runs on every answer.
    connection = session.connection()
    # Spend the link with a conditional update, so two racing submissions cannot both count.
    spent = connection.execute(_spend_link(), {"link_id": link.id})
    if spent.rowcount != 1:
        raise Gone("this link has been used already")
    digest = hashlib.sha256(blob).digest()
    row = {
        "ally_scope_id": link.ally_scope_id,
        "group_scope_id": link.group_scope_id,
        "ally_id": link.ally_id,
        "kind": link.action.kind,
        "visibility": link.visibility,
        "stage": link.stage,
        # Who answered, as far as counting distinct people needs (P8): only delivered links count.
        "person": None if link.recipient is None else tokens.person_tag(people_key, link.recipient),
        "invalid": False,
    }
    response_id = connection.execute(_insert_response(), row).scalar_one()
    try:
        connection.execute(
            _insert_envelope(), {"response_id": response_id, "kid": kid, "info": info, "sealed": blob, "digest": digest}
        )
    except IntegrityError:  # the digest is unique: this exact envelope was stored before
        raise Invalid("this envelope was sent before", {"sealed": "replayed envelope"}) from None
    return digest.hex()[:20]


@functools.cache
def _spend_link() -> Update:
    return update(Link).where(Link.id == bindparam("link_id"), Link.used.is_(False)).values(used=True)


@functools.cache
def _insert_response() -> ReturningInsert[tuple[int]]:
    return insert(Response).returning(Response.id)


@functools.cache
def _insert_envelope() -> Insert:
    return insert(Envelope)
