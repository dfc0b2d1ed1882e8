"""With REDIS_URL set, the web tier only queues work; a real RQ worker (the Procfile's
line) opens and releases the answers. The web tier never holds the key-encryption key."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from api.extensions import db
from tests.conftest import KEK, Person, Recipient, build_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """The Redis CI exports (TEST_REDIS_URL, emptied first), else a redis-server of our own."""
    shared = os.environ.get("TEST_REDIS_URL")
    if shared:
        client = Redis.from_url(shared)
        client.flushdb()
        client.close()
        yield shared
        return
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed; .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI runs this test")
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_a_real_rq_worker_releases_what_the_web_tier_queued(tmp_path: Path, redis_url: str) -> None:
    app = build_app(tmp_path, redis_url=redis_url, key_encryption_key=None)  # web tier: public keys only
    client = app.test_client()
    lead, ally, recipient = Person(client, "Lee"), Person(client, "Alex"), Recipient(client)
    group = lead.create_group()
    lead.add(group, ally)
    for token in ally.ask(ally.log_action(group), count=5):
        assert recipient.answer(token, {"wanted": "yes"}, {"text": "thank you", "audience": "ally"}).status_code == 202
    assert ally.get("/api/v1/me/feedback").get_json()["released"]["responses"] == 0, "the web tier opens nothing"

    settings = app.config["ALLYLOOP"]
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.secret_key,
        "KEY_ENCRYPTION_KEY": KEK,
    }
    worker = subprocess.run(  # the Procfile's worker line, in burst mode so it stops when the queue is empty
        [
            Path(sys.executable).parent / "rq",
            "worker",
            "--worker-class",
            "api.jobs.schedule.Worker",
            "--url",
            redis_url,
            "--burst",
            "allyloop",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    released = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert released["responses"] == 5 and released["comments"] == ["thank you"] * 5
    with app.app_context():
        db.engine.dispose()
