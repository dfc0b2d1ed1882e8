"""One JSON error shape for every 4xx and 5xx: {"error": {"code", "message", "fields"}}."""

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from api.i18n import in_words
from feedback.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound, Unauthenticated, Unverified
from feedback.wording import Wording

CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict", 410: "gone"}
STATUS = {Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409, Gone: 410, Unverified: 403}
SPECIAL_CODES: dict[type[DomainError], str] = {
    Unverified: "unverified"
}  # a client acts on these (offer to resend the email)


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs nests messages by location and field; clients want field -> text."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key not in ("json", "form", "query", "view_args") else ""
            out.update(_flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_body"] = " ".join(messages)
    elif isinstance(messages, list):
        for value in messages:
            out.update(_flatten(value, prefix))
    else:
        out[prefix or "_body"] = str(messages)
    return out


def _is_page() -> bool:
    """Browsers asking for a page (not the API) get an HTML page with the same status."""
    return not request.path.startswith("/api/") and request.accept_mimetypes.accept_html


# What an error page says, in the reader's language (the JSON API keeps its English codes).
PAGE_WORDS = {
    400: (_l("This request could not be used"), _l("Something in it was missing or not valid. Go back and try again.")),
    401: (_l("Please sign in"), _l("This page is for signed-in members. Sign in, then try again.")),
    403: (_l("Not allowed"), _l("Your account cannot see or do this.")),
    404: (_l("Page not found"), _l("Nothing is here. If you followed a link, check that it was copied whole.")),
    405: (_l("This request could not be used"), _l("This address does not take that kind of request.")),
    409: (_l("This has changed meanwhile"), _l("Reload the page and try again.")),
    410: (_l("This is no longer available"), _l("It was used already, or it has expired.")),
    413: (_l("This request is too large"), _l("Send less at once and try again.")),
    429: (_l("Too many tries"), _l("Please wait a minute, then try again.")),
    500: (_l("Something went wrong"), _l("Nothing you did caused it. Please try again in a moment.")),
}


def _page(status: int, message: str | None = None) -> ResponseReturnValue:
    title, said = PAGE_WORDS.get(status, PAGE_WORDS[500 if status >= 500 else 400])
    return render_template("error.html", title=title, message=message or said), status


def handle_http(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if status >= 500:
        error = InternalServerError()
        status = 500
    if _is_page():
        return _page(status)
    data = getattr(error, "data", None) or {}
    fields = _flatten(data["messages"]) if "messages" in data else {}
    code = CODES.get(status) or (error.name or "error").lower().replace(" ", "_")
    message = "some fields are not valid" if fields else (error.description or error.name)
    response = jsonify(error_body(code, message, fields))
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response, status


def handle_domain(error: DomainError) -> ResponseReturnValue:
    status = STATUS.get(type(error), 400)
    code = SPECIAL_CODES.get(type(error), CODES[status])
    if _is_page():
        # A Wording is shown in the reader's language; other messages are the API's English,
        # so the page says what the status means instead.
        return _page(status, in_words(error.message) if isinstance(error.message, Wording) else None)
    return jsonify(error_body(code, error.message, error.fields)), status


def handle_database_unavailable(error: OperationalError) -> ResponseReturnValue:
    """The database is locked, restarting or unreachable: nothing was written; try again."""
    log = logging.getLogger("allyloop")
    reason = str(error.orig)
    if reason.startswith(("no such table", "no such column")):  # SQLite's words; they hold no data
        log.error("the database has no schema or an old one (%s): run 'flask db upgrade'; answered 503", reason)
    else:
        log.warning("database unavailable (%s); answered 503", type(error.orig).__name__)
    response = jsonify(error_body("unavailable", "the service is busy; nothing was saved, please try again"))
    response.headers["Retry-After"] = "5"
    return response, 503


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(OperationalError, handle_database_unavailable)
