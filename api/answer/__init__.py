"""The recipient's two calls: read what to answer, send the sealed answer. No account."""

from typing import Any

from flask import current_app, request

from api.answer.schemas import AnswerPageOut, EnvelopeIn, ReceiptOut
from api.clock import utcnow
from api.extensions import Blueprint, ErrorOut, limiter, session
from api.jobs import answers_arrived
from crypto.encoding import b64u_encode
from crypto.envelope import SUITE_NAME
from crypto.tokens import rate_key
from feedback.services import answers

blp = Blueprint("answer", __name__, url_prefix="/api/v1/answer", description="Answering a link (no account)")


def link_rate_key() -> str:
    """Answer calls are limited per link, keyed by a hash of it: no client address is used."""
    token = (request.view_args or {}).get("token", "")
    return "link:" + rate_key("link", str(token))


def page(token: str) -> dict[str, Any]:
    opened = answers.open_link(session(), token, now=utcnow())
    return {
        "questionnaire": opened.questionnaire.to_public_dict(),
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


@blp.route("/<token>", methods=["POST"])
@blp.arguments(EnvelopeIn)
@blp.response(202, ReceiptOut)
@blp.alt_response(404, schema=ErrorOut, description="No such link")
@blp.alt_response(410, schema=ErrorOut, description="The link was used or has expired")
@blp.alt_response(413, schema=ErrorOut, description="The body is too large")
@limiter.limit("10/minute", key_func=link_rate_key)
def submit(body: dict[str, Any], token: str) -> Any:
    """Send the sealed answer; the link is spent"""
    receipt = answers.submit_sealed(
        session(),
        token,
        kid=body["kid"],
        sealed=body["sealed"],
        now=utcnow(),
        people_key=current_app.config["RECIPIENT_KEY"],
    )
    session().commit()  # committed before the 202 (P7)
    answers_arrived()
    return {"receipt": receipt}
