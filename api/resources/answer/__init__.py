"""The recipient's two calls: read what to answer, send the sealed answer. No account."""

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from limits import parse
from marshmallow import ValidationError
from werkzeug.exceptions import TooManyRequests

from api import commit
from api.clock import utcnow
from api.extensions import Blueprint, ErrorOut, limiter, link_rate_key, session
from api.jobs.release import answers_arrived
from api.resources.answer import questionnaire
from api.resources.answer.schemas import AnswerPageOut, EnvelopeIn, ReceiptOut
from crypto.encoding import b64u_encode
from crypto.envelope import SUITE_NAME
from feedback import kinds
from feedback.errors import Invalid
from feedback.services import answers

blp = Blueprint("answer", __name__, url_prefix="/api/v1/answer", description="Answering a link (no account)")


def page(token: str) -> dict[str, Any]:
    opened = answers.open_link(session(), token, now=utcnow())
    return {
        "questionnaire": questionnaire.document(opened.questionnaire, kinds.path_of(opened.action.kind)),
        "action": opened.action,
        "key": {"kid": opened.kid, "suite": SUITE_NAME, "public_key": b64u_encode(opened.public_key)},
        "info": b64u_encode(opened.info),
        "pad_to": opened.questionnaire.pad_to,
    }


@blp.route("/<token>", methods=["GET"])
@blp.response(200, AnswerPageOut)
@blp.alt_response(404, schema=ErrorOut, description="No such link")
@blp.alt_response(410, schema=ErrorOut, description="The link was used or has expired")
@limiter.limit("60/minute", key_func=link_rate_key)
def read(token: str) -> Any:
    """What the ally did, the questionnaire, and the key to seal the answer to"""
    return page(token)


def _documented(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Document the submit in the OpenAPI document as flask-smorest documents every route,
    without its wrappers at run time: the view parses its own body with the same schema and
    shapes its own replies, and this call runs for every answer of a campaign. flask-smorest
    reads a route's documentation from the attributes its decorators leave on the view."""
    shown = blp.arguments(EnvelopeIn)(
        blp.response(202, ReceiptOut)(
            blp.alt_response(404, schema=ErrorOut, description="No such link")(
                blp.alt_response(410, schema=ErrorOut, description="The link was used or has expired")(
                    blp.alt_response(413, schema=ErrorOut, description="The body is too large")(
                        blp.alt_response(429, schema=ErrorOut, description="Too many refused envelopes for this link")(
                            view
                        )
                    )
                )
            )
        )
    )
    view._apidoc = shown._apidoc  # type: ignore[attr-defined]
    return view


@blp.route("/<token>", methods=["POST"])
@_documented
def submit(token: str) -> ResponseReturnValue:
    """Send the sealed answer; the link is spent"""
    try:
        body = _envelope()
        check = functools.partial(
            answers.check_sealed,
            token=token,
            kid=body["kid"],
            sealed=body["sealed"],
            now=utcnow(),
            people_key=current_app.config["RECIPIENT_KEY"],
        )
        receipt = commit.store_answer(check)  # committed and synced when it returns (P7)
    except Invalid:
        _count_refusal(token)
        raise
    answers_arrived()
    return jsonify(receipt=receipt), 202


_ENVELOPE_IN = EnvelopeIn()


def _envelope() -> dict[str, str]:
    """The body, checked by the schema the OpenAPI document shows; 400 with the fields named."""
    try:
        data = json.loads(request.get_data(cache=False))  # 413 past MAX_CONTENT_LENGTH
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested absurdly deep
        raise Invalid("the body is not valid JSON", {"_body": "send a JSON object"}) from None
    try:
        return _ENVELOPE_IN.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        messages = exc.messages_dict.items()
        fields = {name: " ".join(map(str, m)) if isinstance(m, list) else str(m) for name, m in messages}
        raise Invalid("some fields are not valid", fields) from None


LINK_LIMIT = parse("10/minute")


def _count_refusal(token: str) -> None:
    """Refused envelopes count toward their link's limit, and past it the answer is 429.

    Only refusals count: a stored answer spends the link (every later call is 410, which
    costs one read), so the success path never touches the limiter's storage (Redis, when
    there is one) and a guessed token (404) leaves nothing in it.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    try:
        allowed = limiter.limiter.hit(LINK_LIMIT, "answer-submit", link_rate_key())
    except Exception:  # noqa: BLE001 - the limits' storage is away: the refusal stands, uncounted
        return
    if not allowed:
        raise TooManyRequests("too many refused envelopes for this link; try again in a minute")
