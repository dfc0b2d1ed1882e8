"""Sending mail: no password and no email over the network in clear text; the outbox
without MAIL_URL; one Message-ID per message, however often it is sent."""

from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from api import mail
from api.config import Settings
from crypto import keyring
from feedback import followups
from feedback.mail import Mail, Unavailable

REMINDER = followups.compose(
    followups.Reminder(
        ally_id=7,
        to="alex@example.org",
        name="Alex",
        items=(followups.ReminderItem("followup_30", "credit", date(2027, 3, 10), date(2027, 4, 9)),),
        on=date(2027, 4, 9),
    ),
    "https://allyloop.example.org/ally/",
)


def settings(tmp_path: Path, mail_url: str | None = None, **env: str) -> Settings:
    env = {"SECRET_KEY": "s" * 32, "KEY_ENCRYPTION_KEY": keyring.new_kek(), **env}
    if mail_url is not None:
        env["MAIL_URL"] = mail_url
    return Settings.from_env(env, str(tmp_path))


@pytest.mark.parametrize("host", ["mail.example.org", "192.0.2.7", "2001:db8::25", "localhost.example.org"])
def test_a_server_elsewhere_without_tls_is_refused(host: str) -> None:
    with pytest.raises(mail.PlainTextRefused) as refused:
        mail.check_transport(host, tls=False)
    assert host not in str(refused.value), "the error (it may reach a log) names no host"


@pytest.mark.parametrize("host", ["mail.example.org", "192.0.2.7", "127.0.0.1"])
def test_a_server_with_tls_is_used(host: str) -> None:
    mail.check_transport(host, tls=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "LOCALHOST"])
def test_a_relay_on_this_machine_may_go_without_tls(host: str) -> None:
    mail.check_transport(host, tls=False)


class NoTlsServer:
    """A fake SMTP connection to a server that does not offer STARTTLS; it records what it is sent."""

    seen: ClassVar[list[str]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.seen.append(f"connect {host}:{port}")

    def __enter__(self) -> "NoTlsServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.seen.append("quit")

    def ehlo(self) -> None:
        self.seen.append("ehlo")

    def has_extn(self, name: str) -> bool:
        return False

    def login(self, user: str, password: str) -> None:
        self.seen.append(f"login {user} {password}")

    def send_message(self, message: Any) -> None:
        self.seen.append("message")


def test_without_starttls_the_sender_neither_logs_in_nor_sends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    NoTlsServer.seen = []
    monkeypatch.setattr(mail.smtplib, "SMTP", NoTlsServer)
    send = mail.transport(settings(tmp_path, "smtp://user:secret@mail.example.org:587"), str(tmp_path))
    with pytest.raises(Unavailable) as refused:
        send(REMINDER)
    assert isinstance(refused.value, mail.PlainTextRefused), "a server without TLS is for later, not for good"
    assert NoTlsServer.seen == ["connect mail.example.org:587", "ehlo", "quit"], "no password, no email"
    assert "secret" not in str(refused.value) and "mail.example.org" not in str(refused.value)


def outbox(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "outbox"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_without_mail_url_each_email_lands_whole_in_the_outbox_named_by_time_not_address(tmp_path: Path) -> None:
    send = mail.transport(settings(tmp_path), str(tmp_path))
    send(REMINDER)
    send(Mail(to="sam@example.org", subject="Grüße", body="Hallo Sam, schön\n", key="delivery-1"))
    files = outbox(tmp_path)
    assert [f.suffix for f in files] == [".eml", ".eml"], "no half-written file is left behind"
    assert not any("alex" in f.name or "sam" in f.name for f in files)
    filed = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    assert [(m["To"], m["Subject"]) for m in filed] == [
        ("alex@example.org", "Time to follow up"),
        ("sam@example.org", "Grüße"),
    ], "oldest first by name"
    assert filed[1].get_content() == "Hallo Sam, schön\n"
    assert "https://allyloop.example.org/ally/" in filed[0].get_content()
    assert filed[0]["From"] == "Allyloop <noreply@localhost>" and filed[0]["Auto-Submitted"] == "auto-generated"


def test_a_message_sent_again_keeps_its_message_id_and_another_message_gets_another(tmp_path: Path) -> None:
    configured = settings(tmp_path)
    first = mail.message(REMINDER, configured)
    again = mail.message(REMINDER, configured)
    other = mail.message(Mail(to=REMINDER.to, subject="s", body="b", key="reminder-7-2027-04-10"), configured)
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].endswith("@localhost>")
    assert "reminder-7" not in first["Message-ID"], "no internal id shows to the mail server"


def test_a_mail_with_a_line_break_in_a_header_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="one line"):
        Mail(to="sam@example.org", subject="Hi\r\nBcc: eve@example.org", body="b", key="k")
