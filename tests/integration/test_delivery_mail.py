"""Emails with delivered links through a real SMTP server process (aiosmtpd): each colleague
gets exactly one, with their own link, whatever crashes or outages come between."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from api.clock import utcnow
from api.extensions import db
from api.jobs.adapters import delivery_keys, mailer
from api.jobs.deliver import send_letters_now
from feedback import delivery
from feedback.mail import Mail
from feedback.models import Account, Delivery
from feedback.services import actions
from tests.conftest import KEK, Person, Recipient, build_app
from tests.servers import SmtpSink

TOKEN = re.compile(r"/r/([A-Za-z0-9_-]{22})\b")


@pytest.fixture
def mailed_app(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Flask]:
    app = build_app(tmp_path, mail_url=smtp_sink.url, mailbox=smtp_sink.messages)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def links(messages: list[EmailMessage]) -> list[EmailMessage]:
    """The emails that carry an answer link (the accounts' and invitations' go there too)."""
    return [message for message in messages if TOKEN.search(message.get_content())]


def to(messages: list[EmailMessage]) -> list[str]:
    """Who received an answer link, in order of address."""
    return sorted(str(message["To"]) for message in links(messages))


def token_in(message: EmailMessage) -> str:
    match = TOKEN.search(message.get_content())
    assert match, "the email carries the recipient's link"
    return match.group(1)


def team(app: Flask) -> tuple[Person, int]:
    client = app.test_client()
    lead, ally = Person(client, "Lee"), Person(client, "Alex")
    group = lead.create_group()
    lead.add(group, ally)
    return ally, ally.log_action(group)


def waiting(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Delivery)) or 0)


def test_each_colleague_gets_their_own_link_by_email_and_their_answers_release(
    mailed_app: Flask, smtp_sink: SmtpSink
) -> None:
    ally, action = team(mailed_app)
    colleagues = [f"colleague{n}@example.org" for n in range(5)]
    made = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "recipients": colleagues})
    assert made.status_code == 201
    assert made.get_json() == {
        "stage": "immediate",
        "delivered": 5,
        "recipients": [{"email": c, "status": "queued"} for c in colleagues],
    }
    messages = links(smtp_sink.messages())
    assert to(messages) == colleagues
    tokens = {token_in(message) for message in messages}
    assert len(tokens) == 5, "one link each"
    assert all("Alex" in message["Subject"] for message in messages), "the recipient sees who asked"
    assert all(message["Message-ID"] for message in messages)
    recipient = Recipient(mailed_app.test_client())
    for token in tokens:
        assert recipient.answer(token, {"wanted": "yes"}).status_code == 202
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 5
    status = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert [(r["delivered"], r["sent"], r["waiting"], r["refused"]) for r in status] == [(True, 5, 0, [])]
    assert waiting(mailed_app) == 0, "nothing of the addresses is kept once sent"


def test_an_address_the_mail_server_refuses_is_shown_to_the_ally_once(mailed_app: Flask, smtp_sink: SmtpSink) -> None:
    ally, action = team(mailed_app)
    body = {"stage": "immediate", "recipients": ["kim@example.org", "refuse.typo@example.org"]}
    assert ally.post(f"/api/v1/actions/{action}/requests", body).status_code == 201
    assert to(smtp_sink.messages()) == ["kim@example.org"]
    (first,) = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert (first["sent"], first["waiting"], first["refused"]) == (1, 0, ["refuse.typo@example.org"])
    (again,) = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert again["refused"] == [], "shown once, then forgotten"
    assert waiting(mailed_app) == 0


def test_emails_committed_before_a_crash_are_sent_once_by_the_next_run(mailed_app: Flask, smtp_sink: SmtpSink) -> None:
    """The web process commits the request and dies before it can send: `flask jobs run-due`
    (a process of its own, as cron would run it) sends each email once."""
    ally, action = team(mailed_app)
    with mailed_app.app_context():
        account = db.session.get(Account, ally.id)
        assert account is not None
        cfg = mailed_app.config["ALLYLOOP"]
        actions.deliver_request(
            db.session,
            account,
            action,
            stage="immediate",
            recipients=["ana@example.org", "ben@example.org"],
            now=utcnow(),
            link_days=cfg.link_days,
            followup_days=cfg.followup_days,
            domains=(),
            keys=delivery_keys(),
        )
        db.session.commit()  # ... and the process dies here, before deliveries_waiting()
    assert links(smtp_sink.messages()) == []
    settings = mailed_app.config["ALLYLOOP"]
    env = {
        **os.environ,
        "FLASK_APP": "api:create_app",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "KEY_ENCRYPTION_KEY": KEK,
        "MAIL_URL": smtp_sink.url,
        "PUBLIC_BASE_URL": "http://localhost:5000",
    }
    flask = [str(Path(sys.executable).parent / "flask"), "jobs", "run-due"]
    said = []
    for _ in range(2):
        done = subprocess.run(flask, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        said.append(done.stdout)
    assert "2 email(s) with links sent" in said[0] and "0 email(s) with links sent" in said[1]
    assert to(smtp_sink.messages()) == ["ana@example.org", "ben@example.org"]


def test_a_sender_that_dies_holding_an_email_leaves_it_to_be_sent_once_later(
    mailed_app: Flask, smtp_sink: SmtpSink
) -> None:
    """A sender takes an email (its hold is committed) and dies before sending: no one sends
    it while the hold lasts, and the first run after it sends it once."""
    ally, action = team(mailed_app)
    smtp_sink.stop()
    ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "recipients": ["kim@example.org"]})
    smtp_sink.start()
    now = utcnow() + timedelta(hours=2)  # past the back-off the outage caused

    def dies(_mail: Mail) -> None:
        raise KeyboardInterrupt  # stands for the process being killed mid-send

    with mailed_app.app_context():
        crashing = delivery.Mailer(**{**mailer(mailed_app).__dict__, "send": dies})
        with pytest.raises(KeyboardInterrupt):
            delivery.send_due(db.session, crashing, now=now)
        db.session.rollback()
        assert send_letters_now(now + timedelta(minutes=1)).sent == 0, "held by the sender that died"
        assert send_letters_now(now + delivery.HOLD + timedelta(seconds=1)).sent == 1
        assert send_letters_now(now + delivery.HOLD + timedelta(hours=1)).sent == 0
    assert to(smtp_sink.messages()) == ["kim@example.org"]


def test_while_the_mail_server_is_down_emails_wait_and_each_goes_once_when_it_is_back(
    mailed_app: Flask, smtp_sink: SmtpSink
) -> None:
    ally, action = team(mailed_app)
    smtp_sink.stop()
    colleagues = ["ana@example.org", "ben@example.org", "cam@example.org"]
    made = ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "recipients": colleagues})
    assert made.status_code == 201, "the request is taken while the mail server is away"
    (status,) = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert (status["sent"], status["waiting"]) == (0, 3)
    now = utcnow()
    with mailed_app.app_context():
        for minutes in (0, 1, 3):  # still down: each run backs off and keeps them
            assert send_letters_now(now + timedelta(minutes=minutes)).sent == 0
    smtp_sink.start()
    with mailed_app.app_context():
        later = now + timedelta(hours=2)
        assert send_letters_now(later).sent == 3
        assert send_letters_now(later + timedelta(hours=1)).sent == 0
    assert to(smtp_sink.messages()) == colleagues
    (status,) = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert (status["sent"], status["waiting"], status["expired"]) == (3, 0, [])


def test_an_email_the_mail_server_never_took_before_its_link_expired_is_reported(
    mailed_app: Flask, smtp_sink: SmtpSink
) -> None:
    ally, action = team(mailed_app)
    smtp_sink.stop()
    ally.post(f"/api/v1/actions/{action}/requests", {"stage": "immediate", "recipients": ["kim@example.org"]})
    smtp_sink.start()
    link_days = mailed_app.config["ALLYLOOP"].link_days
    with mailed_app.app_context():
        assert send_letters_now(utcnow() + timedelta(days=link_days, hours=1)).sent == 0
    assert links(smtp_sink.messages()) == []
    (status,) = ally.get(f"/api/v1/actions/{action}/requests").get_json()
    assert status["expired"] == ["kim@example.org"]
