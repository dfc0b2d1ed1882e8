"""What a recipient does: open a link, answer once, get a receipt.

Only ciphertext is stored. A sealed envelope is checked for shape (key id, length,
not seen before) but never opened here: the web tier holds public keys only.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import envelope, tokens
from crypto.encoding import b64u_decode
from feedback import questionnaires
from feedback.errors import Gone, Invalid, NotFound
from feedback.models import Action, FeedbackRequest, Link, Response, ResponseKey
from feedback.services import keys


@dataclass(frozen=True)
class OpenLink:
    link_id: int
    action: Action
    questionnaire: questionnaires.Questionnaire
    key: ResponseKey
    info: bytes


def week_of(day: date) -> date:
    """The Monday of a day's week: the only time we keep for a response."""
    return day - timedelta(days=day.weekday())


def _live_link(session: Session, token: str, now: datetime) -> tuple[Link, FeedbackRequest, Action]:
    if not tokens.is_link_token(token):
        raise NotFound("this link does not exist")
    row = session.execute(
        select(Link, FeedbackRequest, Action)
        .join(FeedbackRequest, Link.request_id == FeedbackRequest.id)
        .join(Action, FeedbackRequest.action_id == Action.id)
        .where(Link.token_hash == tokens.link_lookup_hash(token))
    ).one_or_none()
    if row is None:
        raise NotFound("this link does not exist")
    link, request, action = row
    if link.used:
        raise Gone("this link has been used already")
    if link.expires_at <= now:
        raise Gone("this link has expired")
    return link, request, action


def open_link(session: Session, token: str, *, now: datetime) -> OpenLink:
    link, request, action = _live_link(session, token, now)
    key = keys.current_key(session)
    questionnaire = questionnaires.load(request.questionnaire_id)
    info = envelope.build_info(key.kid, questionnaire.id, tokens.link_binding(token))
    return OpenLink(link_id=link.id, action=action, questionnaire=questionnaire, key=key, info=info)


def submit_sealed(session: Session, token: str, *, kid: str, sealed: str, now: datetime) -> str:
    """Store a browser-sealed envelope for this link and spend the link. Returns a receipt."""
    link, request, action = _live_link(session, token, now)
    questionnaire = questionnaires.load(request.questionnaire_id)
    key = keys.usable_key(session, kid)
    if key is None:
        raise Invalid("the envelope is sealed to an unknown or retired key", {"kid": "unknown or retired key"})
    try:
        blob = b64u_decode(sealed)
    except ValueError:
        raise Invalid("the envelope is not base64url", {"sealed": "must be base64url without padding"}) from None
    expected = envelope.sealed_length(questionnaire.pad_to)
    if len(blob) != expected:
        raise Invalid("the envelope has the wrong length", {"sealed": f"must be {expected} bytes"})
    info = envelope.build_info(kid, questionnaire.id, tokens.link_binding(token))
    return _store(session, link, request, action, kid=kid, info=info, blob=blob, today=now.date())


def submit_form(session: Session, token: str, *, form: Mapping[str, Sequence[str]], now: datetime) -> str:
    """The no-JavaScript path: check the form, seal it here at once, store it like any envelope.

    The plaintext exists only inside this call; it is never stored or logged.
    """
    link, request, action = _live_link(session, token, now)
    questionnaire = questionnaires.load(request.questionnaire_id)
    try:
        clean, clean_comment = questionnaire.parse_form(form)
    except questionnaires.InvalidAnswers as exc:
        raise Invalid("some answers are not valid", exc.fields) from None
    key = keys.current_key(session)
    info = envelope.build_info(key.kid, questionnaire.id, tokens.link_binding(token))
    plaintext = envelope.padded_plaintext(clean, clean_comment, questionnaire.pad_to)
    blob = envelope.seal(key.public_key, info, plaintext)
    return _store(session, link, request, action, kid=key.kid, info=info, blob=blob, today=now.date())


def _store(
    session: Session,
    link: Link,
    request: FeedbackRequest,
    action: Action,
    *,
    kid: str,
    info: bytes,
    blob: bytes,
    today: date,
) -> str:
    # Spend the link with a conditional update, so two racing submissions cannot both count.
    spent = session.execute(update(Link).where(Link.id == link.id, Link.used.is_(False)).values(used=True))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Gone("this link has been used already")
    digest = hashlib.sha256(blob).digest()
    try:
        session.execute(
            insert(Response).values(
                ally_scope_id=request.ally_scope_id,
                group_scope_id=request.group_scope_id,
                ally_id=action.ally_id,
                kind=action.kind,
                visibility=action.visibility,
                kid=kid,
                info=info,
                sealed=blob,
                digest=digest,
                received_week=week_of(today),
                invalid=False,
            )
        )
    except IntegrityError:  # the digest is unique: this exact envelope was stored before
        raise Invalid("this envelope was sent before", {"sealed": "replayed envelope"}) from None
    return digest.hex()[:20]
