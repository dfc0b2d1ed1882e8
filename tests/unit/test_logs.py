"""Log hygiene (P1): no link token or client address reaches a log line."""

import io
import logging
from collections.abc import Iterator

import pytest

from api import logs

TOKEN = "AAECAwQFBgcICQoLDA0ODw"


class Captured:
    def __init__(self, logger: logging.Logger, stream: io.StringIO) -> None:
        self.logger = logger
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()


def _attach(logger: logging.Logger) -> Iterator[Captured]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield Captured(logger, stream)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


@pytest.fixture
def werkzeug_log() -> Iterator[Captured]:
    """The development server's real logger, with the app's filters installed."""
    logs.install()
    yield from _attach(logging.getLogger("werkzeug"))


@pytest.fixture
def app_log() -> Iterator[Captured]:
    """The app's own logger ('allyloop'), with the app's filters installed."""
    logs.install()
    yield from _attach(logging.getLogger("allyloop"))


@pytest.fixture
def filtered() -> Iterator[Captured]:
    """A standalone logger with only the privacy filter."""
    logger = logging.Logger("test-privacy")
    logger.addFilter(logs.PrivacyFilter())
    yield from _attach(logger)


def _access_line(client: str, request: str, status: int = 200) -> str:
    # Exactly what werkzeug's WSGIRequestHandler.log hands to the "werkzeug" logger.
    return f'{client} - - [01/May/2025 10:00:00] "{request}" {status} -'


# --- Access lines ---


@pytest.mark.parametrize(
    ("client", "request_line"),
    [
        ("127.0.0.1", f"GET /r/{TOKEN} HTTP/1.1"),
        ("127.0.0.1", f"POST /r/{TOKEN} HTTP/1.1"),
        ("10.1.2.3", f"GET /api/v1/answer/{TOKEN} HTTP/1.1"),
        ("::1", f"POST /api/v1/answer/{TOKEN} HTTP/1.1"),
        ("192.168.0.9", "GET /static/app.js HTTP/1.1"),
    ],
)
def test_development_server_access_lines_are_dropped(werkzeug_log: Captured, client: str, request_line: str) -> None:
    werkzeug_log.logger.info(_access_line(client, request_line))
    assert werkzeug_log.text == ""


def test_access_line_built_from_format_args_is_dropped(werkzeug_log: Captured) -> None:
    werkzeug_log.logger.info('%s - - [%s] "%s" %s -', "127.0.0.1", "01/May/2025 10:00:00", f"GET /r/{TOKEN}", 200)
    assert werkzeug_log.text == ""


def test_other_server_messages_still_get_through(werkzeug_log: Captured) -> None:
    """Dropping access lines does not silence the server's startup messages."""
    werkzeug_log.logger.info("Press CTRL+C to quit")
    assert "Press CTRL+C to quit" in werkzeug_log.text


def test_install_twice_still_logs_each_message_once(werkzeug_log: Captured) -> None:
    logs.install()
    werkzeug_log.logger.warning("restarting with stat")
    assert werkzeug_log.text.count("restarting with stat") == 1


# --- Scrubbing other records ---


@pytest.mark.parametrize(
    "path",
    [
        f"/r/{TOKEN}",
        f"/api/v1/answer/{TOKEN}",
        f"/r/{TOKEN}?lang=en",
        f"/api/v1/answer/{TOKEN}/",
        f"/verify/{TOKEN}",
        f"/reset-password/{TOKEN}",
        f"/api/v1/password-resets/{TOKEN}",
        f"/invitations/{TOKEN}",
        f"/api/v1/invitations/{TOKEN}",
    ],
)
def test_link_tokens_in_paths_are_scrubbed(app_log: Captured, path: str) -> None:
    app_log.logger.error("Exception on %s [POST]", path)
    assert TOKEN not in app_log.text
    assert "<token>" in app_log.text
    assert "Exception on" in app_log.text


def test_token_in_a_quoted_url_is_scrubbed(filtered: Captured) -> None:
    filtered.logger.warning(f"redirecting to 'https://allyloop.example.org/r/{TOKEN}'")
    assert TOKEN not in filtered.text
    assert "https://allyloop.example.org/r/<token>'" in filtered.text


def test_query_string_after_a_token_is_kept(filtered: Captured) -> None:
    filtered.logger.info(f"GET /r/{TOKEN}?lang=en failed")
    assert filtered.text.strip() == "GET /r/<token>?lang=en failed"


def test_several_tokens_in_one_message_are_all_scrubbed(filtered: Captured) -> None:
    other = "_____________________w"
    filtered.logger.info(f"/r/{TOKEN} then /api/v1/answer/{other}")
    assert TOKEN not in filtered.text
    assert other not in filtered.text


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "203.0.113.77", "255.255.255.255"])
def test_ipv4_addresses_are_scrubbed(filtered: Captured, address: str) -> None:
    filtered.logger.warning("Invalid request from ip=%s: bad header", address)
    assert address not in filtered.text
    assert "<ip>" in filtered.text


@pytest.mark.parametrize("address", ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8:0:0:1:0:0:1"])
def test_full_ipv6_addresses_are_scrubbed(filtered: Captured, address: str) -> None:
    filtered.logger.warning("Invalid request from ip=%s: bad header", address)
    assert filtered.text.strip() == "Invalid request from ip=<ip>: bad header"


@pytest.mark.parametrize("address", ["::1", "fe80::1", "2001:db8::1", "2001:db8::8a2e:370:7334"])
def test_compressed_ipv6_addresses_are_scrubbed(filtered: Captured, address: str) -> None:
    filtered.logger.warning("Invalid request from ip=%s: bad header", address)
    assert filtered.text.strip() == "Invalid request from ip=<ip>: bad header"


def test_ipv4_mapped_ipv6_address_loses_its_ipv4_part(filtered: Captured) -> None:
    filtered.logger.warning("connection from ::ffff:198.51.100.4 reset")
    assert "198.51.100.4" not in filtered.text


def test_address_and_token_in_format_args_are_scrubbed(app_log: Captured) -> None:
    """Scrubbing applies to the final message, not just the format string."""
    app_log.logger.warning("rate limited %s on %s", "198.51.100.4", f"/r/{TOKEN}")
    assert "198.51.100.4" not in app_log.text
    assert TOKEN not in app_log.text
    assert "rate limited <ip> on /r/<token>" in app_log.text


def test_ordinary_messages_pass_through_unchanged(app_log: Captured) -> None:
    app_log.logger.info("released cohort %d with %d responses", 12, 5)
    assert app_log.text.strip() == "released cohort 12 with 5 responses"


def test_messages_with_percent_signs_and_no_args_survive(filtered: Captured) -> None:
    filtered.logger.info(f"100% done for /r/{TOKEN}")
    assert filtered.text.strip() == "100% done for /r/<token>"


def test_clock_times_in_messages_are_kept(filtered: Captured) -> None:
    filtered.logger.info("reminders due at 10:15:30 sent")
    assert "10:15:30" in filtered.text


def test_tokens_and_addresses_in_tracebacks_are_scrubbed(app_log: Captured) -> None:
    try:
        raise LookupError(f"no link for /r/{TOKEN} from 10.0.0.7")
    except LookupError:
        app_log.logger.exception("answer failed")
    assert "answer failed" in app_log.text
    assert TOKEN not in app_log.text
    assert "10.0.0.7" not in app_log.text
