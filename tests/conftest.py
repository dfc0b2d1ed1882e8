"""Shared fixtures: a real app on a real SQLite file (or PostgreSQL via TEST_DATABASE_URL),
a client, and helpers that act like the people who use Allyloop."""

import dataclasses
import email.policy
import itertools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from api import create_app
from api.clock import utcnow
from api.config import Settings, database_url
from api.extensions import db
from api.jobs.deliver import send_letters_now
from crypto import keyring
from crypto.encoding import b64u_decode, b64u_encode
from feedback.models import Followup
from feedback.services import accounts, keys
from tests.servers import SmtpSink

KEK = keyring.new_kek()
MAILBOX = "tests.mailbox"  # app.extensions key: how a test reads the mail its app sent
SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
_emails = itertools.count(1)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=database_url(os.environ.get("TEST_DATABASE_URL"), str(tmp_path)),
        redis_url=None,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        public_base_url="http://allyloop.test",
        release_min_responses=5,
        port=5000,
        key_encryption_key=keyring.parse_kek(KEK),
        password_cost=2**4,  # cheap hashing in tests only
        testing=True,
        jobs_inline=True,  # releases happen right after the answer that completes a cohort
    )
    return dataclasses.replace(base, **overrides)


Mailbox = Callable[[], list[EmailMessage]]


def build_app(tmp_path: Path, *, mailbox: Mailbox | None = None, **overrides: Any) -> Flask:
    """The app on a fresh database. With MAIL_URL set, ``mailbox`` reads what its mail server
    received, so that the helpers below find each person's emails there."""
    app = create_app(make_settings(tmp_path, **overrides), instance_path=str(tmp_path / "instance"))
    _BUILT.append(app)
    if mailbox is not None:
        app.extensions[MAILBOX] = mailbox
    with app.app_context():
        db.drop_all()
        db.create_all()
        keys.rotate(db.session, keyring.parse_kek(KEK), now=utcnow())
        db.session.commit()
    return app


_BUILT: list[Flask] = []  # every app this test built: its connections are closed when it ends


@pytest.fixture(autouse=True)
def connections_closed_after_each_test() -> Iterator[None]:
    """An app dropped with its pool still open leaves connections for the garbage collector to
    find during some later test, whose run then fails on PostgreSQL's ResourceWarning."""
    yield
    while _BUILT:
        app = _BUILT.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _background_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("allyloop-")}


@pytest.fixture(autouse=True)
def no_background_work_outlives_its_test() -> Iterator[None]:
    """A test that leaves a release thread running fails: on PostgreSQL every test shares one
    database, and a stray thread would release other tests' answers in cohorts of its own timing."""
    before = _background_threads()
    yield
    left = sorted(t.name for t in _background_threads() - before)
    assert not left, f"background threads still running after the test: {left}; stop them before it ends"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """build_app with settings of the test's choosing, each app on a database of its own;
    their connections are closed after the test."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        made.append(build_app(tmp_path / str(len(made)), **settings))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Person:
    """Someone with an account, talking to the API with a bearer token."""

    def __init__(self, client: FlaskClient, name: str) -> None:
        self.client = client
        self.email = f"{name.lower()}{next(_emails)}@example.org"
        self.password = "correct horse battery"
        created = client.post("/api/v1/accounts", json={"email": self.email, "password": self.password, "name": name})
        assert created.status_code == 202, created.get_json()
        (token,) = inbox(client.application, self.email, "verify")  # as they would, from their email
        assert client.post("/api/v1/accounts/verify", json={"token": token}).status_code == 200
        self.sign_in()
        self.id = self.get("/api/v1/me").get_json()["id"]

    def sign_in(self) -> None:
        token = self.client.post("/api/v1/tokens", json={"email": self.email, "password": self.password})
        assert token.status_code == 201, token.get_json()
        self.headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers)

    def create_group(self, name: str = "Women in Engineering") -> int:
        response = self.post("/api/v1/groups", {"name": name})
        assert response.status_code == 201
        return int(response.get_json()["id"])

    def add(self, group_id: int, other: "Person", role: str = "ally") -> None:
        """Invite ``other``, who accepts from the invitation email, signed in as themselves."""
        response = self.post(f"/api/v1/groups/{group_id}/members", {"email": other.email, "role": role})
        assert response.status_code == 202, response.get_json()
        token = inbox(self.client.application, other.email, "invitations")[-1]
        joined = other.post(f"/api/v1/invitations/{token}", {})
        assert joined.status_code == 200, joined.get_json()

    def log_action(
        self, group_id: int, kind: str = "credit", visibility: str = "public", summary: str | None = None
    ) -> int:
        body = {
            "group_id": group_id,
            "kind": kind,
            "summary": summary or "Credited Sam's design in the review",
            "occurred_on": date.today().isoformat(),
            "visibility": visibility,
        }
        response = self.post("/api/v1/actions", body)
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def ask(self, action_id: int, stage: str = "immediate", count: int = 5) -> list[str]:
        """Ask ``count`` new colleagues by email (P8: their answers count toward k) and return
        the tokens their emails carry, as each recipient would find theirs."""
        colleagues = [f"colleague{next(_emails)}@example.org" for _ in range(count)]
        return self.ask_by_email(action_id, colleagues, stage)

    def ask_by_email(self, action_id: int, colleagues: list[str], stage: str = "immediate") -> list[str]:
        response = self.post(f"/api/v1/actions/{action_id}/requests", {"stage": stage, "recipients": colleagues})
        assert response.status_code == 201, response.get_json()
        assert "links" not in response.get_json()
        return [inbox(self.client.application, to)[-1] for to in colleagues]

    def share_links(self, action_id: int, stage: str = "immediate", count: int = 5) -> list[str]:
        """Links the ally holds and shares by hand: their answers count toward no k (P8)."""
        response = self.post(f"/api/v1/actions/{action_id}/requests", {"stage": stage, "count": count})
        assert response.status_code == 201, response.get_json()
        return [link["url"].rsplit("/r/", 1)[1] for link in response.get_json()["links"]]


class Recipient:
    """Answers a link the way a browser would: fetch, seal to the given key, post the envelope."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def envelope(self, token: str, answers: dict[str, Any], comment: dict[str, str] | None = None) -> dict[str, str]:
        def padded(pad_to: int) -> bytes:
            body = {"v": 1, "answers": answers, "comment": comment, "pad": ""}
            bare = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
            body["pad"] = " " * (pad_to - bare)
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

        return self.seal(token, padded)

    def seal(self, token: str, plaintext: Callable[[int], bytes]) -> dict[str, str]:
        """Seal whatever ``plaintext(pad_to)`` returns, exactly as the link's page says to."""
        page = self.client.get(f"/api/v1/answer/{token}")
        assert page.status_code == 200, page.get_json()
        data = page.get_json()
        public = X25519PublicKey.from_public_bytes(b64u_decode(data["key"]["public_key"]))
        sealed = SUITE.encrypt(plaintext(data["pad_to"]), public, b64u_decode(data["info"]))
        return {"kid": data["key"]["kid"], "sealed": b64u_encode(sealed)}

    def answer(self, token: str, answers: dict[str, Any], comment: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/v1/answer/{token}", json=self.envelope(token, answers, comment))


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """A real SMTP server in its own process (see tests.servers.SmtpSink), stopped after the test."""
    sink = SmtpSink(tmp_path / "smtp")
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def lead(client: FlaskClient) -> Person:
    return Person(client, "Lee")


@pytest.fixture
def ally(client: FlaskClient) -> Person:
    return Person(client, "Alex")


@pytest.fixture
def recipient(client: FlaskClient) -> Recipient:
    return Recipient(client)


def outbox(app: Flask) -> list[EmailMessage]:
    """Every email the app has sent, oldest first. Emails with links still waiting (the web
    tier queued them for an RQ worker) are sent first, as the worker would."""
    with app.app_context():
        send_letters_now()
        db.session.remove()
    if MAILBOX in app.extensions:
        return list(app.extensions[MAILBOX]())
    folder = Path(app.instance_path) / "outbox"
    files = sorted(folder.glob("*.eml"), key=lambda path: (path.stat().st_mtime_ns, path.name))
    return [
        BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())  # type: ignore[misc]
        for path in files
    ]


def inbox(app: Flask, to: str, path: str = "r") -> list[str]:
    """The tokens of the links (``/{path}/<token>``) in the emails sent to ``to``, oldest
    first; waits a little for one that a background thread is sending right now."""
    deadline = time.monotonic() + 10
    while True:
        found = [
            token
            for message in outbox(app)
            if message["To"] == to
            for token in re.findall(rf"/{path}/([A-Za-z0-9_-]{{22}})\b", message.get_content())
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def make_due(app: Flask, action_id: int, stage: str = "followup_30", on: date | None = None) -> None:
    """Let time pass for one follow-up: it came due on ``on`` (default today)."""
    with app.app_context():
        db.session.execute(
            update(Followup)
            .where(Followup.action_id == action_id, Followup.stage == stage)
            .values(due_on=on or utcnow().date())
        )
        db.session.commit()


YES: Sequence[dict[str, Any]] = ({"wanted": "yes"},) * 5


def group_answered(client: FlaskClient, allies: Sequence[str], answers: Sequence[dict[str, Any]] = YES) -> int:
    """A lead's group in which each of ``allies`` logs an action and asks five colleagues,
    who answer ``answers`` in turn, all accepted. Returns the group's id."""
    lead, recipient = Person(client, "Lee"), Recipient(client)
    group = lead.create_group()
    for name in allies:
        ally = Person(client, name)
        lead.add(group, ally)
        for token, answer in zip(ally.ask(ally.log_action(group), count=5), answers, strict=True):
            assert recipient.answer(token, answer).status_code == 202
    return group


def release_at_once(app: Flask) -> None:
    """Group answers are released as soon as the rules allow, as with GROUP_HOLD_DAYS=0: for
    tests of one cohort's own suppression, which the wait for a breakdown would postpone."""
    app.config["ALLYLOOP"] = dataclasses.replace(app.config["ALLYLOOP"], group_hold_days=0)


def sso_browser(app: Flask, email: str, name: str) -> FlaskClient:
    """A web client signed in as a new account that signs in only through the organisation's
    identity provider (it has no password), its session as the SSO callback leaves it."""
    with app.app_context():
        account = accounts.sso_account(
            db.session,
            subject=f"https://idp.example.org {email}",
            email=email,
            email_verified=True,
            name=name,
            today=utcnow().date(),
            domains=(),
        )
        db.session.commit()
        signed_in = {"account_id": account.id, "generation": account.session_generation}
    web = app.test_client()
    with web.session_transaction() as cookie:  # web.auth.sign_in
        cookie.update(signed_in)
    return web
