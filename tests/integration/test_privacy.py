"""P1, P2, P4: no plaintext answer, token or client address is stored or logged."""

import logging
from pathlib import Path

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from api.extensions import db
from tests.conftest import Person, Recipient
from tests.integration.test_web_ally import WebAlly, group_with
from web import ANSWER_PATHS

CLIENT_IP = "203.0.113.77"
USER_AGENT = "SecretBrowser/9.9"


def files_containing(root: Path, needle: str) -> list[str]:
    """Every file under root (database, WAL, instance folder) whose bytes contain needle,
    but the development outbox: it stands for the recipients' own mailboxes, where their
    links belong (tests/integration/test_delivered.py checks the real SMTP path too)."""
    data = needle.encode()
    return [str(p) for p in root.rglob("*") if p.is_file() and p.parent.name != "outbox" and data in p.read_bytes()]


def answer_with_comment(recipient: Recipient, tokens: list[str], word: str, *, server_seals: bool) -> None:
    env = {"REMOTE_ADDR": CLIENT_IP}
    headers = {"User-Agent": USER_AGENT}
    for token in tokens:
        if server_seals:
            form = {"item-wanted": "yes", "comment": f"the {word} moment", "audience": "ally"}
            response = recipient.client.post(f"/r/{token}", data=form, environ_base=env, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
        else:
            envelope = recipient.envelope(token, {"wanted": "yes"}, {"text": f"the {word} moment", "audience": "ally"})
            response = recipient.client.post(
                f"/api/v1/answer/{token}", json=envelope, environ_base=env, headers=headers
            )
            assert response.status_code == 202


@pytest.mark.parametrize("server_seals", [False, True], ids=["sealed-in-browser", "sealed-on-arrival"])
def test_a_unique_comment_word_is_never_stored_or_logged_before_or_after_release(
    app: Flask,
    tmp_path: Path,
    lead: Person,
    ally: Person,
    recipient: Recipient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    server_seals: bool,
) -> None:
    caplog.set_level(logging.DEBUG)
    word = "zanzibarquokka"
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    answer_with_comment(recipient, tokens[:4], word, server_seals=server_seals)
    assert files_containing(tmp_path, word) == [], "pending answers are ciphertext only"
    answer_with_comment(recipient, tokens[4:], word, server_seals=server_seals)
    released = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert released["comments"] == [f"the {word} moment"] * 5, "the ally can read them once released"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    assert files_containing(tmp_path, word) == [], "released comments stay encrypted at rest"
    out, err = capfd.readouterr()
    assert word not in caplog.text + out + err


def test_no_token_client_address_or_user_agent_reaches_the_database_or_logs(
    app: Flask,
    tmp_path: Path,
    lead: Person,
    ally: Person,
    recipient: Recipient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=6)
    answer_with_comment(recipient, tokens[:3], "plain", server_seals=False)
    answer_with_comment(recipient, tokens[3:5], "plain", server_seals=True)
    recipient.client.post(
        f"/api/v1/answer/{tokens[0]}", json={"kid": "x", "sealed": "AA"}, environ_base={"REMOTE_ADDR": CLIENT_IP}
    )
    recipient.client.get(f"/r/{tokens[5]}", environ_base={"REMOTE_ADDR": CLIENT_IP})
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    for secret in [*tokens, CLIENT_IP, USER_AGENT]:
        assert files_containing(tmp_path, secret) == [], secret
        assert secret not in logged, secret


def test_no_table_has_a_place_for_addresses_agents_times_or_link_ids_on_answers(app: Flask) -> None:
    with app.app_context():
        inspector = inspect(db.engine)
        columns = {table: {c["name"] for c in inspector.get_columns(table)} for table in inspector.get_table_names()}
    everything = {name for names in columns.values() for name in names}
    assert not {name for name in everything if "ip" in name.split("_") or "agent" in name or "addr" in name}
    for table in ("response", "envelope"):
        assert not columns[table] & {"link_id", "request_id", "action_id", "token_hash"}, table
    assert not {name for name in columns["response"] | columns["envelope"] if "time" in name or "week" in name}


def test_answer_pages_set_no_cookie_and_leak_no_referrer(lead: Person, ally: Person, client: FlaskClient) -> None:
    group = lead.create_group()
    lead.add(group, ally)
    token = ally.ask(ally.log_action(group), count=1)[0]
    for response in (client.get(f"/r/{token}"), client.get(f"/api/v1/answer/{token}"), client.get("/r/unknown")):
        assert "Set-Cookie" not in response.headers
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_someone_signed_in_who_answers_in_the_same_browser_is_sent_no_cookie_nor_recognised(app: Flask) -> None:
    robin = WebAlly(app)
    _, tokens = robin.ask(robin.log_action(group_with(app, robin)), count=2)

    responses = [
        robin.get(f"/r/{tokens[0]}"),
        robin.get("/static/answer.js"),  # what the answer page loads, and the icon browsers ask for
        robin.get("/favicon.ico"),
        robin.get(f"/api/v1/answer/{tokens[0]}"),
        robin.client.post(f"/r/{tokens[0]}", data={"decline": "1"}),
        robin.client.post(f"/api/v1/answer/{tokens[1]}", json=Recipient(robin.client).envelope(tokens[1], {})),
        robin.get("/r/unknown"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 200, 202, 404]
    for response in responses:
        assert "Set-Cookie" not in response.headers, response.request.path
        response.close()
    with robin.client:
        robin.get(f"/r/{tokens[0]}")
        assert "account_id" not in flask.session, "the answer page does not see who is signed in"
        robin.get("/ally/")
        assert "account_id" in flask.session, "the ally's own pages do"


def test_every_answer_route_is_kept_out_of_the_session(app: Flask) -> None:
    answer_rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith(("recipient.", "answer."))]
    assert answer_rules
    assert all(rule.startswith(ANSWER_PATHS) for rule in answer_rules), answer_rules


def test_an_unexpected_error_shows_and_logs_no_details(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.route("/boom/<token>")
    def boom(token: str) -> str:
        raise RuntimeError(f"exploded with {token}")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_server_error"
    assert "AAAAAAAAAAAAAAAAAAAAAA" not in response.get_data(as_text=True)
    assert "unhandled RuntimeError in boom" in caplog.text
    assert "AAAAAAAAAAAAAAAAAAAAAA" not in caplog.text
