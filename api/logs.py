"""Log hygiene: no client IP, user agent or link token ever reaches a log line (P1)."""

import ipaddress
import logging
import re
import traceback
from types import TracebackType

# Link tokens travel in paths (/r/<token>, /api/v1/answer/<token>); IPs in server messages.
# Every path that carries a token: answer links, and the links of account and invitation emails.
_TOKEN_PATH = re.compile(r"(/r/|/answer/|/verify/|/reset-password/|/password-resets/|/invitations/)[^\s/?\"']+")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?![\w])")
# The development server prefixes each request line with the client address and a date.
_ACCESS_LINE = " - - ["


def redact(text: str) -> str:
    text = _TOKEN_PATH.sub(r"\1<token>", text)
    text = _IPV4.sub("<ip>", text)
    return _IPV6_CANDIDATE.sub(_ipv6_or_keep, text)


def _ipv6_or_keep(match: re.Match[str]) -> str:
    """Replace only real IPv6 addresses, so clock times like 10:15:30 survive."""
    text = match.group(0)
    # A colon right after an address belongs to the sentence ("from ::1: bad header").
    candidate, tail = (text[:-1], ":") if text.endswith(":") and not text.endswith("::") else (text, "")
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return text
    return "<ip>" + tail


class PrivacyFilter(logging.Filter):
    """Drops per-request access lines and scrubs tokens and addresses from the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _ACCESS_LINE in message:
            return False
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            # Tracebacks carry exception messages, which may quote a path or an address.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# Filters on a logger do not reach its children's records, so each one is named.
_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access", "flask.app", "allyloop", "allyloop.jobs", "rq.worker")


def install() -> None:
    """Attach the filter to every logger that may see request data. Safe to call twice."""
    for name in (
        "werkzeug",
        "gunicorn.error",
        "gunicorn.access",
        "flask.app",
        "allyloop",
        "allyloop.jobs",
        "rq.worker",
    ):
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
