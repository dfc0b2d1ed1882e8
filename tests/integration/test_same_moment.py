"""Two requests that write the same thing at the same moment: one wins, the other gets the
answer it would get a moment later, never a 500. On PostgreSQL the second insert waits on
the unique index until the first commits; on SQLite the second writer waits for the lock."""

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.extensions import db
from crypto import atrest
from feedback.errors import Conflict
from feedback.models import Account, Delivery, Membership
from feedback.services import accounts, groups, invitations
from feedback.services.accounts import Letters

EMAIL = "sam@example.org"


LETTERS = Letters(key=b"k" * 32, app_url="http://allyloop.test", gettext=str)


def sign_up(session: Session) -> None:
    accounts.sign_up(
        session,
        email=EMAIL,
        password="a long enough password",
        name="Sam",
        now=datetime.now(UTC).replace(tzinfo=None),
        password_cost=2**4,
        domains=(),
        letters=LETTERS,
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


def test_two_sign_ups_with_one_email_at_once_make_one_account_and_the_same_answer(app: Flask) -> None:
    assert while_first_is_uncommitted(app, sign_up, sign_up) == "done"
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Account.email == EMAIL)) == 1


def test_two_accepts_of_one_invitation_at_once_make_one_membership(app: Flask) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with app.app_context():
        lead = Account(email="lee@example.org", name="Lee", password_hash=None, created_on=now.date(), verified=True)
        sam = Account(email=EMAIL, name="Sam", password_hash=None, created_on=now.date(), verified=True)
        db.session.add_all([lead, sam])
        db.session.flush()
        group_id = groups.create_group(db.session, lead, name="Women in Engineering", today=now.date()).id
        invitations.invite(
            db.session, lead, group_id, emails=[EMAIL], role="lead", now=now, domains=(), letters=LETTERS
        )
        sam_id = sam.id
        db.session.commit()
        # The token is only in the email: read it back as the invitee would.
        sealed = db.session.scalars(select(Delivery.sealed)).one()
    body = json.loads(atrest.decrypt(LETTERS.key, sealed, b"allyloop/delivery/account"))["body"]
    token = body.split("/invitations/")[1].split()[0]

    def accept(session: Session) -> object:
        return invitations.accept(session, session.get_one(Account, sam_id), token, now=now)

    assert while_first_is_uncommitted(app, accept, accept) == "done"
    with app.app_context():
        roles = db.session.scalars(select(Membership.role).where(Membership.account_id == sam_id)).all()
        assert roles == ["lead"]
