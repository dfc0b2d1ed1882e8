"""Each request is one unit of work: what it wrote is kept when it answers well, and none of
it when it answers with an error; work waiting on the commit runs only after a kept one."""

from datetime import date

from flask import Flask
from sqlalchemy import func, select

from api.extensions import db, session
from api.unit import after_commit
from feedback.errors import Conflict
from feedback.models import Group

ran: list[str] = []


def _with_routes(app: Flask) -> Flask:
    def add(name: str) -> None:
        session().add(Group(name=name, created_on=date(2026, 1, 5)))
        session().flush()
        after_commit(lambda: ran.append(name))

    def kept() -> tuple[str, int]:
        add("kept")
        return "", 204

    def refused() -> tuple[str, int]:
        add("refused")
        raise Conflict("refused after writing")

    app.add_url_rule("/test/kept", "kept", kept, methods=["POST"])
    app.add_url_rule("/test/refused", "refused", refused, methods=["POST"])
    return app


def _groups(app: Flask) -> list[str]:
    with app.app_context():
        names = list(db.session.scalars(select(Group.name).order_by(Group.name)))
        assert db.session.scalar(select(func.count()).select_from(Group)) == len(names)
        db.session.remove()
    return names


def test_a_request_that_answers_well_keeps_its_writes_and_then_runs_what_waited(app: Flask) -> None:
    ran.clear()
    client = _with_routes(app).test_client()
    assert client.post("/test/kept").status_code == 204
    assert _groups(app) == ["kept"]
    assert ran == ["kept"]


def test_a_request_that_answers_with_an_error_keeps_nothing_and_runs_nothing(app: Flask) -> None:
    ran.clear()
    client = _with_routes(app).test_client()
    assert client.post("/test/refused").status_code == 409
    assert _groups(app) == []
    assert ran == []
