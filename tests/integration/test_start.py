"""A wrong setting stops every kind of process at start with one line naming it, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api import create_app
from api.extensions import db
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "flask"), "db", "upgrade"],
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", "127.0.0.1:0", "api:create_app()"],
    ],
    ids=["flask", "gunicorn"],
)
def test_a_wrong_setting_stops_the_process_with_its_message(command: list[str], tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "FLASK_APP": "api:create_app",
        "SECRET_KEY": "too short",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}",
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "Allyloop will not start: SECRET_KEY must be set" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "never.sqlite3").exists()


def test_a_database_never_migrated_is_named_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("a fresh SQLite file is the case: make run migrates it, a hand-started server may not")
    app = create_app(make_settings(tmp_path), instance_path=str(tmp_path / "instance"))
    try:
        response = app.test_client().post("/api/v1/tokens", json={"email": "a@example.org", "password": "whatever"})
        assert response.status_code == 503
        assert "run 'flask db upgrade'" in caplog.text
    finally:
        with app.app_context():
            db.engine.dispose()
