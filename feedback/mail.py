"""Email as the domain sees it: a message, the callable that sends it, and how sending fails.

Services compose a ``Mail`` and hand it to a ``Send`` their caller gives them (``api.mail``
gives SMTP, or the development outbox without ``MAIL_URL``). Nothing here knows SMTP or
Flask. A send either returns (the server took the message), or raises ``Refused`` (this
address will never take it: stop trying) or ``Unavailable`` (try again later).

The messages of both errors may reach a log, so they never hold an address, a body, a
link or anything about the mail server but a status code.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Mail:
    """One plain-text email to one person.

    ``key`` names the message for good ("delivery-42"): its Message-ID is derived from it,
    so a message sent again after a crash is the same message to the reader's mail client.
    The address and the body stay out of ``repr``, which tracebacks and debuggers show.
    """

    to: str = field(repr=False)
    subject: str
    body: str = field(repr=False)
    key: str

    def __post_init__(self) -> None:
        # A line break in a header would start a header of the sender's choosing.
        for name in ("to", "subject", "key"):
            if any(c in getattr(self, name) for c in "\r\n"):
                raise ValueError(f"a mail's {name} must be one line")
        if not self.key:
            raise ValueError("a mail needs a key: its Message-ID is made from it")


class Refused(Exception):
    """The mail server refused this recipient for good (a 5xx answer to RCPT TO): sending
    again will not help."""


class Unavailable(Exception):
    """The mail could not be sent now (server unreachable, timeout, a 4xx answer, no TLS,
    login refused...): nothing was delivered, and a later try may work."""


Send = Callable[[Mail], None]


def _same(text: str) -> str:
    return text


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@dataclass(frozen=True)
class Words:
    """How an email reads in its reader's language: sentences translated whole (their
    ``%(name)s`` placeholders filled after, so a translation can move them), plurals chosen
    by the language's own rule, and dates written as its readers write them. The defaults
    are the English the code is written in."""

    gettext: Callable[[str], str] = _same
    ngettext: Callable[[str, str, int], str] = _english_plural
    day: Callable[[date], str] = date.isoformat


ENGLISH: Words = Words()

# The words of a language by its code ("fr"); None, or a language the app does not ship,
# gives the default language's.
Speak = Callable[[str | None], Words]


def english(_language: str | None) -> Words:
    return ENGLISH
