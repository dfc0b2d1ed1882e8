"""The account page: changing the password and signing out everywhere end every session and
API token; an API token made on the page (for people who sign in with SSO) works until revoked."""

import html
import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.clock import utcnow
from feedback.services import accounts
from tests.conftest import Person, sso_browser

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r"Authorization: Bearer ([A-Za-z0-9_-]+)")
NEW_PASSWORD = "a brand new passphrase"


def csrf(web: FlaskClient, url: str) -> str:
    found = CSRF.search(web.get(url).get_data(as_text=True))
    assert found, f"{url} has a form with a CSRF token"
    return found.group(1)


def browser_for(app: Flask, person: Person, password: str | None = None) -> FlaskClient:
    """A browser signed in as the person through the sign-in form."""
    web = app.test_client()
    form = {"csrf_token": csrf(web, "/sign-in"), "email": person.email, "password": password or person.password}
    signed = web.post("/sign-in", data=form)
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return web


def post(web: FlaskClient, url: str, data: dict[str, str] | None = None) -> Any:
    return web.post(url, data={"csrf_token": csrf(web, "/account/"), **(data or {})})


def is_signed_in(web: FlaskClient) -> bool:
    return web.get("/account/").status_code == 200


def test_changing_the_password_ends_every_session_and_old_api_token(app: Flask, ally: Person) -> None:
    here, elsewhere = browser_for(app, ally), browser_for(app, ally)
    changed = post(here, "/account/password", {"current_password": ally.password, "password": NEW_PASSWORD})
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/sign-in")
    notice = html.unescape(here.get("/sign-in").get_data(as_text=True))
    assert "Your password is changed, and you are signed out everywhere." in notice
    assert not is_signed_in(here) and not is_signed_in(elsewhere)
    assert ally.get("/api/v1/me").status_code == 401
    assert is_signed_in(browser_for(app, ally, NEW_PASSWORD))


def test_a_wrong_current_password_changes_nothing(app: Flask, ally: Person) -> None:
    web = browser_for(app, ally)
    refused = post(web, "/account/password", {"current_password": "not the password", "password": NEW_PASSWORD})
    assert refused.status_code == 400 and "That is not your password." in refused.get_data(as_text=True)
    assert is_signed_in(web) and ally.get("/api/v1/me").status_code == 200


def test_signing_out_everywhere_kills_an_api_token(app: Flask, ally: Person) -> None:
    web, elsewhere = browser_for(app, ally), browser_for(app, ally)
    done = post(web, "/account/sign-out-everywhere")
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    assert ally.get("/api/v1/me").status_code == 401
    assert not is_signed_in(web) and not is_signed_in(elsewhere)


def test_an_api_token_made_on_the_page_is_shown_once_and_works_until_revoked(
    app: Flask, client: FlaskClient, ally: Person
) -> None:
    web = browser_for(app, ally)
    made = post(web, "/account/tokens")
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    expiry = re.search(r"It works until ([A-Z][a-z]+ \d{1,2}, \d{4})", page)
    assert expiry, "the page says when the token stops working, as English writes a day"
    lifetime = datetime.strptime(expiry.group(1), "%B %d, %Y").date() - utcnow().date()
    assert lifetime in (accounts.TOKEN_LIFETIME, accounts.TOKEN_LIFETIME - timedelta(days=1))  # made before midnight
    found = TOKEN.search(page)
    assert found, "the page shows the token"
    bearer = {"Authorization": f"Bearer {found.group(1)}"}
    assert client.get("/api/v1/me", headers=bearer).get_json()["email"] == ally.email
    assert found.group(1) not in web.get("/account/").get_data(as_text=True), "shown only once"
    assert client.delete("/api/v1/tokens/current", headers=bearer).status_code == 204
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert ally.get("/api/v1/me").status_code == 200, "other tokens are left alone"


def test_someone_who_signs_in_with_sso_is_offered_a_token_not_a_password_form(app: Flask) -> None:
    """Allyloop holds no password of theirs: the page says where to change it."""
    web = sso_browser(app, "sso.person@example.org", "Sso Person")
    page = html.unescape(web.get("/account/").get_data(as_text=True))
    assert 'name="current_password"' not in page and "change it there" in page
    assert TOKEN.search(post(web, "/account/tokens").get_data(as_text=True))
