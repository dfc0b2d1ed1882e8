"""Reminder email over SMTP, with the standard library only.

``sender(settings)`` gives the plain callable ``feedback.followups.dispatch_reminders``
sends with, or None when no ``MAIL_URL`` is set (reminders then stay in the app).
``smtp://`` upgrades to TLS when the server offers STARTTLS; ``smtps://`` is TLS from the
first byte. The message holds the ally's own due follow-ups and the app's address: no
link token and nothing about anyone who answered.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from api.config import Settings
from feedback.followups import Reminder, Send, compose

TIMEOUT_SECONDS = 30


def _from_address(settings: Settings) -> str:
    if settings.mail_from:
        return settings.mail_from
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    return f"Allyloop <noreply@{host}>"


def message(reminder: Reminder, settings: Settings) -> EmailMessage:
    subject, body = compose(reminder, settings.public_base_url + "/ally/")
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
            if not implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if user is not None:
                smtp.login(user, password)
            smtp.send_message(message(reminder, settings))

    return send
