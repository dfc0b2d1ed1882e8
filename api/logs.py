"""Log hygiene: no client IP, user agent or link token ever reaches a log line (P1)."""

import logging
import re
import traceback
from types import TracebackType

# Link tokens travel in paths (/r/<token>, /api/v1/answer/<token>); IPs in server messages.
_TOKEN_PATH = re.compile(r"(/r/|/answer/)[^\s/?\"']+")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}\b")
# The development server prefixes each request line with the client address and a date.
_ACCESS_LINE = " - - ["


def redact(text: str) -> str:
    text = _TOKEN_PATH.sub(r"\1<token>", text)
    text = _IPV4.sub("<ip>", text)
    return _IPV6.sub("<ip>", text)


class PrivacyFilter(logging.Filter):
    """Drops per-request access lines and scrubs tokens and addresses from the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _ACCESS_LINE in message:
            return False
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Attach the filter to every logger that may see request data. Safe to call twice."""
    for name in ("werkzeug", "gunicorn.error", "gunicorn.access", "flask.app", "allyloop", "rq.worker"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, PrivacyFilter) for f in logger.filters):
            logger.addFilter(PrivacyFilter())


def log_exception(
    logger: logging.Logger,
    endpoint: str | None,
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None],
) -> None:
    """Log an unhandled error by its type and stack only: messages can carry request data."""
    kind, _, tb = exc_info
    stack = "".join(traceback.format_tb(tb)) if tb is not None else ""
    logger.error("unhandled %s in %s\n%s", kind.__name__ if kind else "error", endpoint or "?", stack)
