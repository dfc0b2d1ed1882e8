"""Accounts through the API: verified addresses, no account oracle, recovery, tokens that end."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api.extensions import db
from feedback.models import Account, AccountToken, ApiToken
from tests.conftest import Person, build_app, inbox, outbox

PASSWORD = "a long passphrase"


def sign_up(client: FlaskClient, email: str, name: str = "Sam") -> Any:
    return client.post("/api/v1/accounts", json={"email": email, "password": PASSWORD, "name": name})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/tokens", json={"email": email, "password": password})


def bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- verified accounts --------------------------------------------------------------------


def test_an_unverified_account_gets_no_token_and_a_fresh_link_by_email(app: Flask, client: FlaskClient) -> None:
    assert sign_up(client, "sam@example.org").status_code == 202
    refused = sign_in(client, "sam@example.org")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "unverified"
    assert len(inbox(app, "sam@example.org", "verify")) == 2, "the sign-up's link, then a fresh one"
    assert sign_in(client, "sam@example.org", "a wrong passphrase").status_code == 401, "no hint without the password"


def test_the_mailed_link_verifies_once(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "sam@example.org")
    (token,) = inbox(app, "sam@example.org", "verify")
    assert client.post("/api/v1/accounts/verify", json={"token": token}).status_code == 200
    assert client.post("/api/v1/accounts/verify", json={"token": token}).status_code == 404, "used"
    headers = bearer(sign_in(client, "sam@example.org"))
    assert client.get("/api/v1/me", headers=headers).get_json()["email"] == "sam@example.org"


def test_an_expired_verification_link_is_gone_and_verifies_nothing(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "sam@example.org")
    (token,) = inbox(app, "sam@example.org", "verify")
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=datetime(2000, 1, 1)))
        db.session.commit()
    assert client.post("/api/v1/accounts/verify", json={"token": token}).status_code == 410
    assert sign_in(client, "sam@example.org").status_code == 403


def test_sign_up_is_refused_outside_the_organisations_domains(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org",))
    try:
        client = app.test_client()
        refused = sign_up(client, "sam@elsewhere.example")
        assert refused.status_code == 400 and "email" in refused.get_json()["error"]["fields"]
        assert sign_up(client, "Sam@Example.org").status_code == 202
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- no account oracle ----------------------------------------------------------------------


def test_a_sign_in_costs_one_password_hash_for_a_known_or_an_unknown_address(
    ally: Person, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prober timing sign-ins sees the same work either way (before, an unknown address
    cost two hashes: 155-194 ms against 80-110)."""
    sign_in(client, "nobody@example.org", "warm the cache")
    hashes: list[int] = []
    derive = Scrypt.derive

    def counted(self: Scrypt, data: bytes) -> bytes:
        hashes.append(1)
        return derive(self, data)

    monkeypatch.setattr(Scrypt, "derive", counted)
    costs = []
    for email in (ally.email, "nobody@example.org", ally.email, "someone.else@example.org"):
        hashes.clear()
        assert sign_in(client, email, "a wrong passphrase").status_code == 401
        costs.append(len(hashes))
    assert costs == [1, 1, 1, 1]


def test_spraying_sign_ins_across_many_addresses_is_stopped_per_client(tmp_path: Path) -> None:
    """Each address is tried once, so the per-address limit never trips; the per-client one
    does, keyed by a keyed hash of the client's address, never the address."""
    app = build_app(tmp_path, ratelimit_enabled=True)
    try:
        client = app.test_client()
        codes = [sign_in(client, f"guess{n}@example.org", "Password123!").status_code for n in range(70)]
        assert codes[:60] == [401] * 60 and 429 in codes[60:]
        other = app.test_client()
        assert (
            other.post(
                "/api/v1/tokens",
                json={"email": "guess0@example.org", "password": "x"},
                environ_base={"REMOTE_ADDR": "198.51.100.7"},
            ).status_code
            == 401
        ), "another client is not held back"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_reset_request_answers_the_same_for_a_known_and_an_unknown_address(
    app: Flask, client: FlaskClient, ally: Person
) -> None:
    known = client.post("/api/v1/password-resets", json={"email": ally.email})
    unknown = client.post("/api/v1/password-resets", json={"email": "nobody@example.org"})
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 202
    assert len(inbox(app, ally.email, "reset-password")) == 1
    assert not [m for m in outbox(app) if m["To"] == "nobody@example.org"]


# --- recovery and tokens ----------------------------------------------------------------


def test_a_password_reset_works_once_and_ends_every_token(app: Flask, client: FlaskClient, ally: Person) -> None:
    other_device = bearer(sign_in(client, ally.email, ally.password))
    client.post("/api/v1/password-resets", json={"email": ally.email})
    (token,) = inbox(app, ally.email, "reset-password")
    done = client.post(f"/api/v1/password-resets/{token}", json={"password": "a brand new passphrase"})
    assert done.status_code == 200
    again = client.post(f"/api/v1/password-resets/{token}", json={"password": "yet another passphrase"})
    assert again.status_code == 404
    for headers in (ally.headers, other_device):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert sign_in(client, ally.email, ally.password).status_code == 401
    assert sign_in(client, ally.email, "a brand new passphrase").status_code == 201


def test_an_expired_reset_link_changes_nothing(app: Flask, client: FlaskClient, ally: Person) -> None:
    client.post("/api/v1/password-resets", json={"email": ally.email})
    (token,) = inbox(app, ally.email, "reset-password")
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=datetime(2000, 1, 1)))
        db.session.commit()
    assert client.post(f"/api/v1/password-resets/{token}", json={"password": "a brand new one"}).status_code == 410
    assert client.get("/api/v1/me", headers=ally.headers).status_code == 200
    assert sign_in(client, ally.email, ally.password).status_code == 201


def test_changing_the_password_ends_every_token(client: FlaskClient, ally: Person) -> None:
    other_device = bearer(sign_in(client, ally.email, ally.password))
    wrong = ally.post("/api/v1/me/password", {"current_password": "not it at all", "password": "a brand new one"})
    assert wrong.status_code == 400 and client.get("/api/v1/me", headers=other_device).status_code == 200
    changed = ally.post("/api/v1/me/password", {"current_password": ally.password, "password": "a brand new one"})
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=other_device).status_code == 401
    assert client.get("/api/v1/me", headers=ally.headers).status_code == 401
    assert sign_in(client, ally.email, "a brand new one").status_code == 201


def test_revoking_the_current_token_leaves_the_others(client: FlaskClient, ally: Person) -> None:
    other_device = bearer(sign_in(client, ally.email, ally.password))
    assert client.delete("/api/v1/tokens/current", headers=ally.headers).status_code == 204
    assert client.get("/api/v1/me", headers=ally.headers).status_code == 401
    assert client.get("/api/v1/me", headers=other_device).status_code == 200


def test_signing_out_everywhere_ends_every_token(client: FlaskClient, ally: Person) -> None:
    other_device = bearer(sign_in(client, ally.email, ally.password))
    assert client.delete("/api/v1/tokens", headers=ally.headers).status_code == 204
    for headers in (ally.headers, other_device):
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_token_expires(app: Flask, client: FlaskClient, ally: Person) -> None:
    made = sign_in(client, ally.email, ally.password)
    expires = datetime.fromisoformat(made.get_json()["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires.replace(tzinfo=None) - datetime.utcnow() <= timedelta(days=30)
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=datetime(2000, 1, 1)))
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(made)).status_code == 401


def test_nothing_about_an_account_token_is_stored_in_clear(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "sam@example.org")
    (token,) = inbox(app, "sam@example.org", "verify")
    with app.app_context():
        stored = db.session.scalars(select(AccountToken.token_hash)).all()
        account = db.session.scalars(select(Account).where(Account.email == "sam@example.org")).one()
        assert not account.verified
    assert stored and all(token.encode() not in value for value in stored)
