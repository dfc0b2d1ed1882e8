"""The benchmark scripts still drive the real code (they are not run by `make test` otherwise)."""

import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from api.extensions import db
from api.jobs.release import run_due_now
from bench import floor, release
from tests.conftest import Person, Recipient


def test_the_release_benchmark_builds_and_releases_a_real_scope(tmp_path: Path) -> None:
    data = release.build(tmp_path, 12, keep=True, seed=3)
    _, _, released = release.release(data)
    assert released == 12
    assert release.raw_open(data) > 0
    with data.app.app_context():
        db.engine.dispose()


def test_the_floor_does_an_answers_whole_durable_work(
    app: Flask, lead: Person, ally: Person, recipient: Recipient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/floor.py is only a fair measure of what (a) could reach if what it stores is an
    answer Allyloop then releases like any other, and a spent link stays spent."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("the floor is written for the embedded default, SQLite")
    group = lead.create_group()
    lead.add(group, ally)
    tokens = ally.ask(ally.log_action(group), count=5)
    bodies = [recipient.envelope(token, {"wanted": "yes", "felt_recognised": 4}) for token in tokens]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{url.database}")
    monkeypatch.setenv("SECRET_KEY", app.config["ALLYLOOP"].secret_key)
    monkeypatch.setattr(floor, "_local", threading.local())
    bare = floor.create_app().test_client()
    try:
        for token, body in zip(tokens, bodies, strict=True):
            assert bare.post(f"/api/v1/answer/{token}", json=body).status_code == 202
        assert bare.post(f"/api/v1/answer/{tokens[0]}", json=bodies[0]).status_code == 404
    finally:
        floor.connection().close()

    with app.app_context():
        run_due_now()
    view = ally.get("/api/v1/me/feedback").get_json()["released"]
    assert view["responses"] == 5
    assert view["items"]["immediate.v1"]["felt_recognised"] == {"answered": 5, "counts": {"4": 5}}
