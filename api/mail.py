"""Sending email: SMTP with ``MAIL_URL``, the development outbox without it.

``transport(settings, instance_path)`` gives the ``feedback.mail.Send`` every service mails
with (delivered links, invitations, verification, resets, reminders).

SMTP: ``smtp://`` upgrades to TLS when the server offers STARTTLS; ``smtps://`` is TLS from
the first byte. Without TLS nothing is sent (no login, no message), except to a relay on
loopback (127.0.0.1, ::1, localhost), which never leaves the machine. A 5xx answer to the
recipient raises ``Refused``; anything else that stops a message (no connection, a timeout,
a 4xx, no TLS, a refused login) raises ``Unavailable``.

Outbox: each message becomes an ``.eml`` file in ``<instance>/outbox/``, named by time and a
random part, never by address; ``web.outbox`` shows them at /dev/outbox in development.

Mail carries link tokens and addresses, so nothing here logs an address, a body or a URL,
and the errors raised say only what went wrong and the server's status code.
"""

import contextlib
import hashlib
import logging
import os
import re
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from api.config import Settings
from api.config import is_loopback as is_loopback  # re-exported: the transport rules below use it
from feedback.mail import Mail, Refused, Send, Unavailable

TIMEOUT_SECONDS = 30
OUTBOX = "outbox"
# Outbox files: UTC time to the microsecond, then a random part; sorting by name sorts by time.
OUTBOX_NAME = re.compile(r"\A\d{8}-\d{6}-\d{6}-[0-9a-f]{16}\.eml\Z")
log = logging.getLogger("allyloop")


class PlainTextRefused(Unavailable):
    """The mail server offers no TLS and is not on loopback: the password and the email
    would cross the network in clear text, so nothing is sent."""


def check_transport(host: str, *, tls: bool) -> None:
    """Raise PlainTextRefused unless the connection is encrypted or stays on this machine."""
    if not tls and not is_loopback(host):
        raise PlainTextRefused("the mail server offers no TLS (STARTTLS); use smtps:// or a server with STARTTLS")


def _host(settings: Settings) -> str:
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    return f"[{host}]" if ":" in host else host  # an IPv6 address goes in brackets after an @


def _from_address(settings: Settings) -> str:
    if settings.mail_from:
        return settings.mail_from
    return f"Allyloop <noreply@{_host(settings)}>"


def message_id(key: str, settings: Settings) -> str:
    """The Message-ID of the mail named ``key``: the same each time it is sent, so a resend
    after a crash is one message to mail clients. A digest, so it shows no internal id."""
    digest = hashlib.sha256(b"allyloop-message-id\x00" + key.encode()).hexdigest()[:32]
    return f"<{digest}@{_host(settings)}>"


def message(mail: Mail, settings: Settings) -> EmailMessage:
    """The email as it is sent or filed: plain text, marked as automatic (no vacation replies)."""
    email = EmailMessage()
    email["From"] = _from_address(settings)
    email["To"] = mail.to
    email["Subject"] = mail.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(mail.key, settings)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(mail.body)
    return email


def transport(settings: Settings, instance_path: str) -> Send:
    """How mail is sent with these settings: SMTP with MAIL_URL, the outbox without it."""
    if settings.mail_url is None:
        return _outbox(settings, outbox_folder(instance_path))
    return _smtp(settings, settings.mail_url)


# --- SMTP ---------------------------------------------------------------------------------


def _smtp(settings: Settings, mail_url: str) -> Send:
    url = urlsplit(mail_url)
    host = url.hostname or "localhost"
    implicit_tls = url.scheme == "smtps"
    port = url.port or (465 if implicit_tls else 25)
    user = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password else ""

    def send(mail: Mail) -> None:
        email = message(mail, settings)
        try:
            context = ssl.create_default_context()
            smtp: smtplib.SMTP
            if implicit_tls:
                smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
            with smtp:
                smtp.ehlo()
                tls = implicit_tls
                if not implicit_tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                    tls = True
                check_transport(host, tls=tls)  # before the login: no password in clear text
                if user is not None:
                    smtp.login(user, password)
                smtp.send_message(email)
        # `from None` throughout: smtplib's errors quote addresses, and a logged traceback
        # would show them as the cause. PlainTextRefused is an Unavailable and passes as it is.
        except smtplib.SMTPRecipientsRefused as exc:
            code = min((code for code, _ in exc.recipients.values()), default=0)  # one recipient: its code
            if 500 <= code < 600:
                raise Refused(f"the mail server refused the recipient for good ({code})") from None
            raise Unavailable(f"the mail server refused the recipient for now ({code})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise Unavailable(f"the mail server refused the login in MAIL_URL ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise Unavailable(f"the mail server did not take the message ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, timed out, unreachable, TLS
            raise Unavailable(f"could not reach the mail server ({type(exc).__name__})") from None

    return send


# --- the development outbox ---------------------------------------------------------------


def outbox_folder(instance_path: str) -> Path:
    return Path(instance_path) / OUTBOX


def _outbox(settings: Settings, folder: Path) -> Send:
    def send(mail: Mail) -> None:
        email = message(mail, settings)
        name = f"{datetime.now(UTC):%Y%m%d-%H%M%S-%f}-{secrets.token_hex(8)}.eml"
        partial = folder / f".{name}.part"  # hidden from the outbox until complete
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Owner-only: the messages hold link tokens.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(email.as_bytes())
            partial.replace(folder / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise Unavailable(f"could not write to the development outbox ({type(exc).__name__})") from None
        log.info("an email went to the development outbox (MAIL_URL is unset); read it at /dev/outbox")

    return send
