"""Mail through api.mail.transport to a real SMTP server: what arrives, and how sending fails."""

from pathlib import Path

import pytest

from api import mail
from feedback.mail import Mail, Refused, Send, Unavailable
from tests.conftest import make_settings
from tests.servers import SmtpSink

LINK = Mail(
    to="sam@example.org",
    subject="Did Alex's support help? Zwei Minuten, anonym",
    body="Hello Sam,\n\nYour own link, für dich allein:\n\nhttp://localhost:5000/r/abcdefghijklmnopqrstuv\n",
    key="delivery-42",
)


def transport(tmp_path: Path, sink: SmtpSink) -> Send:
    settings = make_settings(tmp_path, mail_url=sink.url, public_base_url="http://localhost:5000")
    return mail.transport(settings, str(tmp_path / "instance"))


def test_a_mail_arrives_with_its_subject_recipient_and_body(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    transport(tmp_path, smtp_sink)(LINK)
    [got] = smtp_sink.messages()
    assert (got["To"], got["Subject"]) == (LINK.to, LINK.subject)
    assert got.get_content().replace("\r\n", "\n") == LINK.body, "the text and its link arrive as written"
    assert got["From"] == "Allyloop <noreply@localhost>" and got["Auto-Submitted"] == "auto-generated"
    assert not (tmp_path / "instance" / "outbox").exists(), "with MAIL_URL nothing goes to the outbox"


def test_a_mail_sent_again_after_a_crash_carries_the_same_message_id(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    send = transport(tmp_path, smtp_sink)
    send(LINK)
    send(LINK)  # the server took it, but we crashed before noting so
    send(Mail(to=LINK.to, subject=LINK.subject, body=LINK.body, key="delivery-43"))
    first, again, other = (m["Message-ID"] for m in smtp_sink.messages())
    assert first == again != other
    assert first.endswith("@localhost>")


def test_a_recipient_the_server_refuses_for_good_raises_refused(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    with pytest.raises(Refused) as refused:
        transport(tmp_path, smtp_sink)(Mail(to="refuse-me@example.org", subject="s", body="b", key="delivery-1"))
    assert "550" in str(refused.value) and "refuse-me" not in str(refused.value), "no address in what may be logged"
    assert smtp_sink.messages() == []


def test_a_recipient_refused_for_now_raises_unavailable(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    with pytest.raises(Unavailable) as later:
        transport(tmp_path, smtp_sink)(Mail(to="busy@example.org", subject="s", body="b", key="delivery-1"))
    assert not isinstance(later.value, Refused) and "busy@" not in str(later.value)


def test_a_stopped_server_raises_unavailable_and_sending_works_once_it_is_back(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    send = transport(tmp_path, smtp_sink)
    smtp_sink.stop()
    with pytest.raises(Unavailable) as down:
        send(LINK)
    assert "127.0.0.1" not in str(down.value) and str(smtp_sink.port) not in str(down.value)
    smtp_sink.start()
    send(LINK)
    assert [m["To"] for m in smtp_sink.messages()] == [LINK.to]
