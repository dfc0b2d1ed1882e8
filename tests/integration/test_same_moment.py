"""Two requests that write the same thing at the same moment: one wins, the other gets the
answer it would get a moment later, never a 500. On PostgreSQL the second insert waits on
the unique index until the first commits; on SQLite the second writer waits for the lock."""

import threading
import time
from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.extensions import db
from feedback.errors import Conflict
from feedback.models import Account, Membership
from feedback.services import accounts, groups

EMAIL = "sam@example.org"


def sign_up(session: Session) -> Account:
    return accounts.create_account(
        session, email=EMAIL, password="a long enough password", name="Sam", today=date.today(), password_cost=2**4
    )


def while_first_is_uncommitted(
    app: Flask, first: Callable[[Session], object], second: Callable[[Session], object]
) -> str:
    """Run ``first`` and leave it uncommitted while ``second`` runs on another connection and
    reaches the database; then commit ``first``. Returns how ``second`` ended."""
    outcome: list[str] = []

    def run_second() -> None:
        with app.app_context(), Session(db.engine) as other:
            try:
                second(other)
                other.commit()
                outcome.append("done")
            except Conflict:
                outcome.append("conflict")
            except Exception as exc:  # noqa: BLE001 - the test reports what escaped
                outcome.append(f"unhandled {type(exc).__name__}")

    with app.app_context(), Session(db.engine) as session:
        first(session)
        racer = threading.Thread(target=run_second)
        racer.start()
        time.sleep(0.5)  # the second is now waiting on the database
        session.commit()
        racer.join(30)
    assert not racer.is_alive()
    return outcome[0]


def test_two_sign_ups_with_one_email_at_once_make_one_account_and_one_conflict(app: Flask) -> None:
    assert while_first_is_uncommitted(app, sign_up, sign_up) == "conflict"
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Account.email == EMAIL)) == 1


def test_two_leads_adding_one_member_at_once_make_one_membership(app: Flask) -> None:
    with app.app_context():
        lead = accounts.create_account(
            db.session,
            email="lee@example.org",
            password="a long enough password",
            name="Lee",
            today=date.today(),
            password_cost=2**4,
        )
        group_id = groups.create_group(db.session, lead, name="Women in Engineering", today=date.today()).id
        sign_up(db.session)
        lead_id = lead.id
        db.session.commit()

    def add(role: str) -> Callable[[Session], object]:
        return lambda session: groups.add_member(
            session, session.get_one(Account, lead_id), group_id, email=EMAIL, role=role
        )

    assert while_first_is_uncommitted(app, add("ally"), add("lead")) == "done"
    with app.app_context():
        roles = db.session.scalars(select(Membership.role).join(Account).where(Account.email == EMAIL)).all()
        assert roles == ["lead"]  # the later request's role, as if it had come a moment after
