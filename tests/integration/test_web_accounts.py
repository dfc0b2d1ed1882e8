"""The front door through the Flask test client: signing up with a verified address, signing
in, and setting a new password by a mailed link; no page tells whether an address has an
account, and no link from an email is spent by merely opening it."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from api.clock import utcnow
from api.extensions import db
from feedback.models import Account, AccountToken
from tests.conftest import Person, build_app, inbox, outbox

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long enough password"


def csrf(web: FlaskClient, url: str) -> str:
    found = CSRF.search(web.get(url).text)
    assert found, f"{url} has a form with a CSRF token"
    return found.group(1)


def post(web: FlaskClient, url: str, data: dict[str, str], form_page: str | None = None) -> Any:
    return web.post(url, data={"csrf_token": csrf(web, form_page or url), **data})


def sign_up(app: Flask, email: str, name: str = "Robin") -> FlaskClient:
    """A browser that filled in the sign-up form (the address is not confirmed yet)."""
    web = app.test_client()
    answered = post(web, "/sign-up", {"name": name, "email": email, "password": PASSWORD})
    assert answered.status_code == 302, answered.text
    return web


def confirm(app: Flask, web: FlaskClient, email: str) -> Any:
    """Open the newest verification link mailed to ``email`` and press its button."""
    token = inbox(app, email, "verify")[-1]
    return post(web, f"/verify/{token}", {})


def signed_in(app: Flask, email: str) -> FlaskClient:
    web = sign_up(app, email)
    assert confirm(app, web, email).status_code == 302
    return web


def without_csrf(text: str) -> str:
    return CSRF.sub('name="csrf_token" value=""', text)


def is_signed_in(web: FlaskClient) -> bool:
    return web.get("/ally/").status_code == 200


def expire_links(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()


def test_signing_up_answers_the_same_for_a_new_and_a_known_address(app: Flask, client: FlaskClient) -> None:
    known = Person(client, "Kim")
    pages = []
    for email in ("newcomer@example.org", known.email):
        web = app.test_client()
        answered = post(web, "/sign-up", {"name": "Someone", "email": email, "password": PASSWORD})
        landed = web.get(answered.headers["Location"])
        pages.append(
            (answered.status_code, answered.headers["Location"], landed.status_code, without_csrf(landed.text))
        )
    assert pages[0] == pages[1]
    assert pages[0][:3] == (302, "/sign-up/check-email", 200) and "Check your email" in pages[0][3]
    note = [m for m in outbox(app) if m["To"] == known.email][-1]
    assert note["Subject"] == "Your Allyloop account", "what differs goes by email, to the address's owner"


def test_opening_a_verification_link_confirms_nothing_until_its_button_is_pressed(app: Flask) -> None:
    web = sign_up(app, "robin@example.org")
    token = inbox(app, "robin@example.org", "verify")[-1]
    opened = web.get(f"/verify/{token}")  # what a mail scanner does
    assert opened.status_code == 200 and "Confirm my address" in opened.text
    with app.app_context():  # (signing in to find out would mail a new link, ending this one)
        assert db.session.scalars(select(Account.verified)).one() is False

    pressed = post(web, f"/verify/{token}", {}, f"/verify/{token}")
    assert pressed.status_code == 302 and pressed.headers["Location"] == "/"
    assert "You are not in a group yet" in web.get("/").text, "signed in, at their home"
    again = post(app.test_client(), f"/verify/{token}", {}, "/sign-in")
    assert again.status_code == 404 and "This link does not work" in again.text


def test_signing_in_unconfirmed_says_so_and_mails_a_new_link_that_works(app: Flask) -> None:
    sign_up(app, "robin@example.org")
    assert len(inbox(app, "robin@example.org", "verify")) == 1
    web = app.test_client()
    refused = post(web, "/sign-in", {"email": "robin@example.org", "password": PASSWORD})
    assert refused.status_code == 403
    assert "Confirm your address first: we emailed you a new link" in refused.text
    first, newest = inbox(app, "robin@example.org", "verify")
    assert post(web, f"/verify/{first}", {}, "/sign-in").status_code == 404, "only the newest link works"
    assert post(web, f"/verify/{newest}", {}, "/sign-in").status_code == 302
    assert is_signed_in(web)


def test_a_wrong_password_gets_the_usual_message_and_no_email(app: Flask) -> None:
    signed_in(app, "robin@example.org")
    sent = len(outbox(app))
    refused = post(app.test_client(), "/sign-in", {"email": "robin@example.org", "password": "not the password"})
    assert refused.status_code == 400 and "That email and password do not match an account." in refused.text
    assert len(outbox(app)) == sent


def test_an_expired_verification_link_gets_a_410_page_saying_to_sign_in(app: Flask) -> None:
    web = sign_up(app, "robin@example.org")
    token = inbox(app, "robin@example.org", "verify")[-1]
    expire_links(app)
    gone = post(web, f"/verify/{token}", {}, f"/verify/{token}")
    assert gone.status_code == 410 and "This link has expired" in gone.text and "Sign in" in gone.text
    assert not is_signed_in(web)


def test_sign_up_mistakes_are_explained_in_plain_words_and_the_form_kept(app: Flask) -> None:
    refused = post(app.test_client(), "/sign-up", {"name": "", "email": "not-an-address", "password": "short"})
    assert refused.status_code == 400
    text = refused.text
    assert "Write your name" in text and "like name@example.org" in text and "at least 10 characters" in text
    assert "Length must be" not in text and "Not a valid email" not in text
    assert 'value="not-an-address"' in text
    blank = post(
        app.test_client(), "/sign-up", {"name": " \u200b ", "email": "robin@example.org", "password": PASSWORD}
    )
    assert blank.status_code == 400 and "Write your name" in blank.text, "a name of invisible characters"


def test_sign_up_outside_the_organisation_is_refused_by_name_of_its_domains(tmp_path: Path) -> None:
    app = build_app(tmp_path, org_email_domains=("example.org",))
    refused = post(app.test_client(), "/sign-up", {"name": "Pat", "email": "pat@gmail.test", "password": PASSWORD})
    assert refused.status_code == 400 and "Use your work address: one ending in example.org." in refused.text
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_reset_link_sets_a_new_password_once_and_signs_out_everywhere(app: Flask) -> None:
    signed_in(app, "robin@example.org")
    elsewhere = app.test_client()  # signed in on another device before the reset
    assert post(elsewhere, "/sign-in", {"email": "robin@example.org", "password": PASSWORD}).status_code == 302
    web = app.test_client()
    asked = post(web, "/reset-password", {"email": "robin@example.org"})
    assert "If the address has an account, we emailed it a link" in web.get(asked.headers["Location"]).text
    token = inbox(app, "robin@example.org", "reset-password")[-1]
    assert "Choose a new password" in web.get(f"/reset-password/{token}").text

    done = post(web, f"/reset-password/{token}", {"password": "a brand new passphrase"})
    assert done.status_code == 302 and done.headers["Location"] == "/sign-in"
    assert "Your password is changed" in web.get("/sign-in").text
    assert not is_signed_in(elsewhere), "the other device was signed out"
    old = post(web, "/sign-in", {"email": "robin@example.org", "password": PASSWORD})
    assert old.status_code == 400
    assert (
        post(web, "/sign-in", {"email": "robin@example.org", "password": "a brand new passphrase"}).status_code == 302
    )

    again = post(app.test_client(), f"/reset-password/{token}", {"password": "yet another passphrase"}, "/sign-in")
    assert again.status_code == 404 and "Ask for a new link" in again.text


def test_an_expired_reset_link_gets_a_410_page_and_changes_nothing(app: Flask) -> None:
    signed_in(app, "robin@example.org")
    post(app.test_client(), "/reset-password", {"email": "robin@example.org"})
    token = inbox(app, "robin@example.org", "reset-password")[-1]
    expire_links(app)
    web = app.test_client()
    gone = post(web, f"/reset-password/{token}", {"password": "a brand new passphrase"}, "/sign-in")
    assert gone.status_code == 410 and "This link has expired" in gone.text
    assert post(web, "/sign-in", {"email": "robin@example.org", "password": PASSWORD}).status_code == 302


def test_asking_for_a_reset_answers_the_same_for_an_unknown_address(app: Flask) -> None:
    signed_in(app, "robin@example.org")
    pages = []
    for email in ("robin@example.org", "nobody@example.org"):
        web = app.test_client()
        asked = post(web, "/reset-password", {"email": email})
        landed = web.get(asked.headers["Location"])
        pages.append((asked.status_code, asked.headers["Location"], without_csrf(landed.text)))
    assert pages[0] == pages[1]


def test_signing_in_returns_to_a_page_of_this_site_only(app: Flask) -> None:
    signed_in(app, "robin@example.org")
    for given, expected in (
        ("/groups/", "/groups/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
    ):
        web = app.test_client()
        form = {"email": "robin@example.org", "password": PASSWORD, "next": given}
        answered = post(web, "/sign-in", form)
        assert answered.status_code == 302 and answered.headers["Location"] == expected, given
