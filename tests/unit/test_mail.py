"""The reminder sender: no password and no email over the network in clear text."""

from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from api import mail
from api.config import Settings
from crypto import keyring
from feedback import followups

REMINDER = followups.Reminder(
    to="alex@example.org",
    name="Alex",
    items=(followups.ReminderItem("followup_30", "credit", date(2027, 3, 10), date(2027, 4, 9)),),
)


def settings(tmp_path: Path, mail_url: str) -> Settings:
    env = {"SECRET_KEY": "s" * 32, "KEY_ENCRYPTION_KEY": keyring.new_kek(), "MAIL_URL": mail_url}
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
    send = mail.sender(settings(tmp_path, "smtp://user:secret@mail.example.org:587"))
    assert send is not None
    with pytest.raises(mail.PlainTextRefused):
        send(REMINDER)
    assert NoTlsServer.seen == ["connect mail.example.org:587", "ehlo", "quit"], "no password, no email"
