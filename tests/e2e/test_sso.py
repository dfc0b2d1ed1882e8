"""Single sign-on in a real browser, against a real OpenID Provider (oidc-provider, tests/oidc).

The provider's issuer is http://localhost:PORT and the app is on 127.0.0.1: two sites, so the
provider's redirect back is a cross-site navigation, and the app's SameSite=Lax session
cookie (which holds the flow's state, nonce and PKCE verifier) must still ride along.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from api.extensions import db
from feedback.models import Account
from tests.conftest import build_app
from tests.e2e.conftest import LiveServer, assert_accessible, screenshot
from tests.servers import OidcProvider

CLIENT_ID, CLIENT_SECRET = "allyloop", "allyloop-client-secret-0123456789"


@pytest.fixture
def provider(tmp_path: Path) -> OidcProvider:
    """The provider, not started yet: its client's redirect URI waits for the app's address."""
    return OidcProvider(tmp_path / "provider.log", [], host="localhost")


@pytest.fixture
def app(tmp_path: Path, provider: OidcProvider) -> Iterator[Flask]:
    app = build_app(
        tmp_path,
        oidc_issuer=provider.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        org_email_domains=("example.org",),
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def server(app: Flask, provider: OidcProvider) -> Iterator[LiveServer]:
    """The app served on a free port, which becomes its PUBLIC_BASE_URL and the client's
    registered redirect URI; then the provider starts."""
    with LiveServer(app) as live:
        app.config["ALLYLOOP"] = dataclasses.replace(app.config["ALLYLOOP"], public_base_url=live.url)
        provider.clients = [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [live.url + "/sso/callback"]}
        ]
        provider.start()
        try:
            yield live
        finally:
            provider.stop()


def sign_in_at_the_provider(page: Any, login: str) -> None:
    """The provider's development login page (any password), then its consent page."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def accounts(app: Flask) -> list[Account]:
    with app.app_context():
        found = list(db.session.scalars(select(Account)))
        db.session.expunge_all()
        return found


def test_a_colleague_signs_in_with_the_organisation_and_lands_signed_in(
    app: Flask, server: LiveServer, provider: OidcProvider, page: Any
) -> None:
    page.goto(server.url + "/sign-in")
    assert_accessible(page)
    page.get_by_role("link", name="Sign in with your organisation").click()
    assert page.url.startswith(provider.issuer + "/interaction/")
    sign_in_at_the_provider(page, "ana")
    page.get_by_role("button", name="Sign out").wait_for()
    assert page.url == server.url + "/"
    assert_accessible(page)
    (account,) = accounts(app)
    assert (account.email, account.verified, account.password_hash) == ("ana@example.org", True, None)
    assert account.sso_subject == f"{provider.issuer} ana"


def test_an_address_the_provider_has_not_verified_gets_a_page_that_says_why(
    app: Flask, server: LiveServer, page: Any
) -> None:
    page.goto(server.url + "/sso/start")
    sign_in_at_the_provider(page, "unverified")
    page.get_by_role("heading", name="Sign-in did not work").wait_for()
    assert page.get_by_text("has not verified your email address").is_visible()
    assert_accessible(page)
    screenshot(page, "sso-refused")
    assert accounts(app) == []
