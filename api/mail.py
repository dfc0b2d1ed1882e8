"""Reminder email over SMTP, with the standard library only.

``sender(settings)`` gives the plain callable ``feedback.followups.dispatch_reminders``
sends with, or None when no ``MAIL_URL`` is set (reminders then stay in the app).
``smtp://`` upgrades to TLS when the server offers STARTTLS; ``smtps://`` is TLS from the
first byte. Without TLS nothing is sent (no login, no message), except to a relay on
loopback (127.0.0.1, ::1, localhost), which never leaves the machine. The message says how
many follow-ups are due, their kinds and days, and the app's address: no summary, no link
token and nothing about anyone who answered.
"""

import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask_babel import gettext

from api.config import Settings
from feedback.followups import Reminder, Send, compose

TIMEOUT_SECONDS = 30


class PlainTextRefused(smtplib.SMTPException):
    """The mail server offers no TLS and is not on loopback: the password and the email
    would cross the network in clear text, so nothing is sent."""


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_transport(host: str, *, tls: bool) -> None:
    """Raise PlainTextRefused unless the connection is encrypted or stays on this machine."""
    if not tls and not is_loopback(host):
        raise PlainTextRefused("the mail server offers no TLS (STARTTLS); use smtps:// or a server with STARTTLS")


def _from_address(settings: Settings) -> str:
    if settings.mail_from:
        return settings.mail_from
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    return f"Allyloop <noreply@{host}>"


def message(reminder: Reminder, settings: Settings) -> EmailMessage:
    subject, body = compose(reminder, settings.public_base_url + "/ally/", gettext)
    mail = EmailMessage()
    mail["From"] = _from_address(settings)
    mail["To"] = reminder.to
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain=urlsplit(settings.public_base_url).hostname)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    return mail


def sender(settings: Settings) -> Send | None:
    """The reminder sender for these settings, or None without MAIL_URL."""
    if settings.mail_url is None:
        return None
    url = urlsplit(settings.mail_url)
    host = url.hostname or "localhost"
    implicit_tls = url.scheme == "smtps"
    port = url.port or (465 if implicit_tls else 25)
    user = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password else ""

    def send(reminder: Reminder) -> None:
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
            smtp.send_message(message(reminder, settings))

    return send
