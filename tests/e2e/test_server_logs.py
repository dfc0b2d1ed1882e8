"""P1 in the servers we ship with: no link token or client address in any log line."""

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.extensions import db
from crypto import keyring
from tests.conftest import Mailbox, build_app, outbox
from tests.servers import SmtpSink

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback test server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def verification_token(mail: Mailbox, to: str) -> str:
    """The token of the verification link emailed to ``to``, once it has arrived."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in mail():
            found = re.search(r"/verify/([A-Za-z0-9_-]{22})", message.get_content())
            if message["To"] == to and found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no verification email reached {to}")


def make_link(base: str, mail: Mailbox) -> str:
    """Sign up (verifying from the email), make a group and an action, and ask for one link, all over HTTP."""
    import json

    def call(path: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        request = urllib.request.Request(base + path, json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
        with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback test server
            return dict(json.loads(response.read()))

    call("/api/v1/accounts", {"email": "a@example.org", "password": "a long passphrase", "name": "A"})
    call("/api/v1/accounts/verify", {"token": verification_token(mail, "a@example.org")})
    token = str(call("/api/v1/tokens", {"email": "a@example.org", "password": "a long passphrase"})["token"])
    group = call("/api/v1/groups", {"name": "G"}, token)["id"]
    action = {"group_id": group, "kind": "credit", "summary": "s", "occurred_on": "2026-01-05", "visibility": "public"}
    action_id = call("/api/v1/actions", action, token)["id"]
    links = call(f"/api/v1/actions/{action_id}/requests", {"stage": "immediate", "count": 1}, token)["links"]
    return str(links[0]["url"]).rsplit("/r/", 1)[1]  # type: ignore[index]


def test_the_development_server_logs_no_token_or_address(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = build_app(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        token = make_link(base, lambda: outbox(app))
        assert fetch(f"{base}/r/{token}") == 200
        assert fetch(f"{base}/api/v1/answer/{token}") == 200
        assert fetch(f"{base}/r/AAAAAAAAAAAAAAAAAAAAAA") == 404
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()
    assert token not in caplog.text and "127.0.0.1" not in caplog.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gunicorn_as_the_procfile_runs_it_logs_no_token_or_address(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MAIL_URL": smtp_sink.url,  # the web process's own mail thread sends the verification
        "SECRET_KEY": "s" * 40,
        "KEY_ENCRYPTION_KEY": keyring.new_kek(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FLASK_APP": "api:create_app",
        "PORT": str(port),
    }
    bindir = Path(sys.executable).parent
    for command in (["db", "upgrade"], ["keys", "init"]):
        subprocess.run([bindir / "flask", *command], env=env, cwd=ROOT, check=True, capture_output=True)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(  # the Procfile's web line, on a loopback port
            [bindir / "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "api:create_app()"],
            env=env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    fetch(base + "/api/openapi.json")
                    break
                except OSError:
                    time.sleep(0.1)
            token = make_link(base, smtp_sink.messages)
            assert fetch(f"{base}/r/{token}") == 200
            assert fetch(f"{base}/api/v1/answer/{token}") == 200
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    assert "Booting worker" in text, "the log was captured"
    assert token not in text and "127.0.0.1" not in text, text
