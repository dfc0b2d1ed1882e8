"""A client written against the public contract only: HTTP, JSON and `cryptography`.

The server runs for real on a loopback port; nothing below the HTTP line is imported
by the client part of this test.
"""

import base64
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from werkzeug.serving import make_server

from api.extensions import db
from tests.conftest import build_app
from tests.servers import SmtpSink


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[SmtpSink]:
    """The organisation's mail server: a real SMTP server process, read as a mailbox."""
    sink = SmtpSink(tmp_path / "mail")
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def base_url(tmp_path: Path, mailbox: SmtpSink) -> Iterator[str]:
    app = build_app(tmp_path, mail_url=mailbox.url, mailbox=mailbox.messages)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    with app.app_context():
        db.engine.dispose()


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url, self.token = base_url, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback test server
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def sign_up(self, email: str, name: str, mailbox: SmtpSink) -> "Client":
        status, _ = self.call(
            "POST", "/api/v1/accounts", {"email": email, "password": "a long passphrase", "name": name}
        )
        assert status == 202
        status, _ = self.call("POST", "/api/v1/accounts/verify", {"token": token_mailed_to(mailbox, email, "verify")})
        assert status == 200
        status, body = self.call("POST", "/api/v1/tokens", {"email": email, "password": "a long passphrase"})
        assert status == 201
        return Client(self.base_url, body["token"])


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal_answer(page: dict[str, Any], answers: dict[str, Any], comment: dict[str, str] | None) -> dict[str, str]:
    """Seal exactly as DESIGN §4 says: pad to pad_to, HPKE base mode to the given key and info."""
    assert page["key"]["suite"] == "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM"
    body = {"v": 1, "answers": answers, "comment": comment, "pad": ""}
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    body["pad"] = " " * (page["pad_to"] - size)
    plaintext = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(plaintext) == page["pad_to"]
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    public = X25519PublicKey.from_public_bytes(unb64u(page["key"]["public_key"]))
    return {"kid": page["key"]["kid"], "sealed": b64u(suite.encrypt(plaintext, public, unb64u(page["info"])))}


def token_mailed_to(mailbox: SmtpSink, address: str, path: str) -> str:
    """The token of the last ``/{path}/<token>`` link emailed to this address, as its owner reads it."""
    for _ in range(200):
        found = [
            match.group(1)
            for m in mailbox.messages()
            if m["To"] == address
            for match in [re.search(rf"/{path}/([A-Za-z0-9_-]{{22}})", m.get_content())]
            if match
        ]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no /{path}/ link reached {address}")


def link_mailed_to(mailbox: SmtpSink, address: str) -> str:
    """The answer link in the one email this colleague received."""
    (mail,) = [m for m in mailbox.messages() if m["To"] == address]
    return str(re.search(r"https?://\S+/r/[A-Za-z0-9_-]{22}", mail.get_content()).group(0))  # type: ignore[union-attr]


def test_a_third_party_client_walks_the_whole_loop(base_url: str, mailbox: SmtpSink) -> None:
    anonymous = Client(base_url)
    lead = anonymous.sign_up("lead@example.org", "Lee", mailbox)
    allies = [anonymous.sign_up(f"ally{i}@example.org", f"Ally {i}", mailbox) for i in range(3)]

    status, group = lead.call("POST", "/api/v1/groups", {"name": "Black Engineers Network"})
    assert status == 201
    emails = [f"ally{i}@example.org" for i in range(3)]
    status, invited = lead.call("POST", f"/api/v1/groups/{group['id']}/members", {"emails": emails, "role": "ally"})
    assert status == 202 and invited == {"status": "invited", "invited": 3}
    for email, ally in zip(emails, allies, strict=True):  # each accepts from their own email
        status, joined = ally.call("POST", f"/api/v1/invitations/{token_mailed_to(mailbox, email, 'invitations')}")
        assert status == 200 and joined == {"group_id": group["id"], "role": "ally"}

    for n, ally in enumerate(allies):
        action = {
            "group_id": group["id"],
            "kind": ("share_resource", "sponsor", "connect")[n],
            "summary": "Named the interruption in the design review",
            "occurred_on": date.today().isoformat(),
            "visibility": "public",
        }
        status, created = ally.call("POST", "/api/v1/actions", action)
        assert status == 201
        colleagues = [f"colleague{n}.{i}@example.org" for i in range(5)]
        status, request = ally.call(
            "POST", f"/api/v1/actions/{created['id']}/requests", {"stage": "immediate", "recipients": colleagues}
        )
        assert status == 201 and request["delivered"] == 5 and "links" not in request
        for i, colleague in enumerate(colleagues):  # each colleague opens their own email
            token_path = "/api/v1/answer/" + link_mailed_to(mailbox, colleague).rsplit("/r/", 1)[1]
            status, page = anonymous.call("GET", token_path)
            assert status == 200
            assert page["action"]["summary"] == "Named the interruption in the design review"
            item_ids = {item["id"] for item in page["questionnaire"]["items"]}
            # Questions follow the action's path: all three kinds here open access.
            assert "wanted" in item_ids and len(item_ids) <= 7
            assert not item_ids & {"felt_recognised", "seen_capable", "safer_to_speak"}
            answers: dict[str, Any] = {"wanted": "yes" if i % 2 == 0 else "partly"}
            if "changed_treatment" in item_ids:
                answers["changed_treatment"] = 4
            comment = {"text": f"ally {n} comment {i}", "audience": "both"} if i < 2 else None
            status, receipt = anonymous.call("POST", token_path, seal_answer(page, answers, comment))
            assert status == 202 and receipt["receipt"]
            status, _ = anonymous.call("POST", token_path, seal_answer(page, answers, comment))
            assert status == 410, "a link answers once"

    status, mine = allies[0].call("GET", "/api/v1/me/feedback")
    assert status == 200 and mine["k"] == 5
    assert mine["released"]["responses"] == 5 and mine["released"]["cohorts"] == 1
    assert mine["released"]["items"]["immediate.v1"]["wanted"]["counts"] == {"yes": 3, "partly": 2}
    assert sorted(mine["released"]["comments"]) == ["ally 0 comment 0", "ally 0 comment 1"]

    status, insights = lead.call("GET", f"/api/v1/groups/{group['id']}/insights")
    assert status == 200
    # The group cohort forms once k answers from two allies remain whoever's share is taken
    # away: at the third ally's first answer (5 + 5 + 1). Its one path shows at once, so it
    # does not wait (GROUP_HOLD_DAYS); each kind is one ally's: hidden.
    assert insights["released"]["responses"] == 11
    slices = insights["released"]["questionnaires"]["immediate.v1"]["slices"]
    assert set(slices["path"]) == {"access"} and slices["path"]["access"]["responses"] == 11
    assert set(slices["kind"]) == {"share_resource", "sponsor", "connect"}
    assert all(cell == {"suppressed": True} for cell in slices["kind"].values())
    assert len(insights["released"]["comments"]) == 5

    status, _ = allies[0].call("GET", f"/api/v1/groups/{group['id']}/insights")
    assert status == 403


def test_the_openapi_document_describes_the_contract(base_url: str) -> None:
    status, spec = Client(base_url).call("GET", "/api/openapi.json")
    assert status == 200
    for path in (
        "/api/v1/accounts",
        "/api/v1/tokens",
        "/api/v1/groups",
        "/api/v1/answer/{token}",
        "/api/v1/me/feedback",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/answer/{token}"]["post"]["summary"]
