"""Single sign-on against a real OpenID Provider (oidc-provider, tests/oidc), driven over HTTP.

The provider sits behind a relay: a man in the middle on the app's way to the provider, which
passes everything through unless a test has it swap the next token response for another
one the provider really issued. That is how an ID token for another client, or from another
sign-in, reaches the app with a valid signature: Authlib's own checks must refuse it.
"""

import base64
import hashlib
import html
import http.client
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.extensions import db
from crypto import passwords
from feedback.models import Account
from tests.servers import OidcProvider, free_port

APP_URL = "http://allyloop.test"  # the tests' PUBLIC_BASE_URL (tests/conftest.make_settings)
ALLYLOOP = {
    "client_id": "allyloop",
    "client_secret": "allyloop-client-secret-0123456789",
    "redirect_uris": [APP_URL + "/sso/callback"],
}
OTHER_APP = {
    "client_id": "other-app",
    "client_secret": "other-app-client-secret-0123456789",
    "redirect_uris": ["http://other.test/callback"],
}
HOPS = ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "content-length", "accept-encoding")


class Relay:
    """Passes every request on to the provider and its answer back, as the network would;
    ``swap_next_token_response`` makes the next successful token response another one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.target = 0  # the provider's port, once it is known
        self.next_token_response: bytes | None = None
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                relay.forward(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows the test's own output

        self.handler = Handler
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def swap_next_token_response(self, body: bytes) -> None:
        self.next_token_response = body

    def forward(self, incoming: BaseHTTPRequestHandler) -> None:
        length = int(incoming.headers.get("Content-Length") or 0)
        body = incoming.rfile.read(length) if length else None
        headers = {name: value for name, value in incoming.headers.items() if name.lower() not in HOPS}
        upstream = http.client.HTTPConnection("127.0.0.1", self.target, timeout=10)
        try:
            upstream.request(incoming.command, incoming.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        swapping = incoming.command == "POST" and incoming.path == "/token" and answer.status == 200
        if swapping and self.next_token_response is not None:
            data, self.next_token_response = self.next_token_response, None
        incoming.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOPS:
                incoming.send_header(name, value)
        incoming.send_header("Content-Length", str(len(data)))
        incoming.end_headers()
        incoming.wfile.write(data)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    """The provider, reached only through the relay: its issuer is the relay's URL."""
    relay = Relay()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    provider = OidcProvider(log, [ALLYLOOP, OTHER_APP], issuer=relay.url)
    relay.target = provider.port
    provider.start()
    relay.start()
    yield relay
    relay.stop()
    provider.stop()


def oidc(issuer: str, **overrides: Any) -> dict[str, Any]:
    """The settings of an app that signs in with the provider at ``issuer``."""
    settings = {
        "oidc_issuer": issuer,
        "oidc_client_id": ALLYLOOP["client_id"],
        "oidc_client_secret": ALLYLOOP["client_secret"],
        "org_email_domains": ("example.org",),
    }
    return {**settings, **overrides}


@pytest.fixture
def app(make_app: Callable[..., Flask], relay: Relay) -> Flask:
    return make_app(**oidc(relay.url))


def all_accounts(app: Flask) -> list[Account]:
    with app.app_context():
        found = list(db.session.scalars(select(Account)))
        db.session.expunge_all()
        return found


class ProviderUser:
    """Someone at the provider's development login and consent pages, with their own cookies."""

    def __init__(self, login: str) -> None:
        self.login = login
        self.http = requests.Session()

    def authorize(self, url: str) -> str:
        """Follow the authorization request to its end: the redirect back to the client."""
        return self._until_redirected_back(self.http.get(url, allow_redirects=False, timeout=10))

    def cancel(self, url: str) -> str:
        """Start the authorization request, then press the login page's "Cancel"."""
        page = self.http.get(url, allow_redirects=True, timeout=10)
        (abort,) = re.findall(r'<a href="([^"]+)">\[ Cancel \]', page.text)
        return self._until_redirected_back(self.http.get(urljoin(page.url, abort), allow_redirects=False, timeout=10))

    def _until_redirected_back(self, response: requests.Response) -> str:
        for _ in range(10):
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                if urlsplit(target).netloc != urlsplit(response.url).netloc:
                    return target  # off the provider's site: back to the client
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            assert response.status_code == 200, response.text[-800:]
            (prompt,) = re.findall(r'name="prompt" value="(\w+)"', response.text)
            (action,) = re.findall(r'<form autocomplete="off" action="([^"]+)"', response.text)
            form = (
                {"prompt": prompt, "login": self.login, "password": "any"} if prompt == "login" else {"prompt": prompt}
            )
            response = self.http.post(urljoin(response.url, action), data=form, allow_redirects=False, timeout=10)
        raise AssertionError("the provider never sent the browser back")


def start(client: FlaskClient, next_path: str | None = None) -> str:
    response = client.get("/sso/start", query_string={"next": next_path} if next_path else {})
    assert response.status_code == 302, text(response)
    return response.headers["Location"]


def back_at_app(client: FlaskClient, callback_url: str) -> Any:
    assert callback_url.startswith(APP_URL + "/sso/callback?"), callback_url
    return client.get(callback_url.removeprefix(APP_URL))


def sign_in(client: FlaskClient, login: str) -> Any:
    return back_at_app(client, ProviderUser(login).authorize(start(client)))


def token_response_by_hand(relay: Relay, client: dict[str, Any], user: ProviderUser, nonce: str) -> bytes:
    """A token response the provider really issues to ``client`` for ``user``, with ``nonce``."""
    metadata = requests.get(relay.url + "/.well-known/openid-configuration", timeout=10).json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": client["redirect_uris"][0],
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(16),
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    back = user.authorize(metadata["authorization_endpoint"] + "?" + urlencode(query))
    (code,) = parse_qs(urlsplit(back).query)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": query["redirect_uri"]}
    response = requests.post(
        metadata["token_endpoint"],
        data={**form, "code_verifier": verifier},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.content


def text(response: Any) -> str:
    """A page's text as a person reads it (Jinja escapes apostrophes)."""
    return html.unescape(response.get_data(as_text=True))


def id_token_claims(token_response: bytes) -> dict[str, Any]:
    payload = json.loads(token_response)["id_token"].split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


# --- The way in ---


def test_start_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(client: FlaskClient, relay: Relay) -> None:
    location = start(client)
    assert location.startswith(relay.url + "/auth?")
    query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "allyloop"
    assert query["redirect_uri"] == APP_URL + "/sso/callback"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20


def test_a_verified_colleague_gets_a_verified_account_without_a_password_on_first_sign_in(
    app: Flask, client: FlaskClient, relay: Relay
) -> None:
    response = sign_in(client, "ana")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    (account,) = all_accounts(app)
    assert (account.email, account.name, account.verified) == ("ana@example.org", "Ana Example", True)
    assert account.password_hash is None
    assert account.sso_subject == f"{relay.url} ana"


def test_the_account_is_signed_in_after_single_sign_on(client: FlaskClient) -> None:
    sign_in(client, "ana")
    assert "Ana Example" in client.get("/").get_data(as_text=True)


def test_signing_in_again_finds_the_same_account(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "ana")
    second = sign_in(app.test_client(), "ana")
    assert second.status_code == 302
    assert len(all_accounts(app)) == 1


def test_the_callback_again_after_signing_in_just_goes_home(app: Flask, client: FlaskClient) -> None:
    """A reload of the callback page, whose state is spent, is no error for someone signed in."""
    back = ProviderUser("ana").authorize(start(client))
    back_at_app(client, back)
    again = back_at_app(client, back)
    assert again.status_code == 302 and again.headers["Location"] == "/"
    assert len(all_accounts(app)) == 1


def test_after_sign_in_the_browser_goes_where_it_was_going(client: FlaskClient) -> None:
    """An invitation link sends people to sign in with ?next=; single sign-on brings them back."""
    response = back_at_app(client, ProviderUser("ana").authorize(start(client, "/invitations/abc")))
    assert response.headers["Location"] == "/invitations/abc"


def test_a_next_address_on_another_site_is_ignored(client: FlaskClient) -> None:
    response = back_at_app(client, ProviderUser("ana").authorize(start(client, "//evil.example/")))
    assert response.headers["Location"] == "/"


# --- Refusals: a clear page, and no account ---


def test_a_callback_with_another_state_is_refused(app: Flask, client: FlaskClient) -> None:
    back = ProviderUser("ana").authorize(start(client))
    forged = re.sub(r"state=[^&]+", "state=" + secrets.token_urlsafe(20), back)
    response = back_at_app(client, forged)
    assert response.status_code == 400
    assert "expired or was started in another browser" in text(response)
    assert all_accounts(app) == []


def test_a_callback_in_a_browser_that_never_started_is_refused(app: Flask, client: FlaskClient) -> None:
    """A sign-in link someone else started (login CSRF) cannot sign this browser in."""
    back = ProviderUser("ana").authorize(start(client))
    response = back_at_app(app.test_client(), back)
    assert response.status_code == 400
    assert all_accounts(app) == []


def test_a_sign_in_cancelled_at_the_provider_is_refused(app: Flask, client: FlaskClient) -> None:
    back = ProviderUser("ana").cancel(start(client))
    assert "error=access_denied" in back
    response = back_at_app(client, back)
    assert response.status_code == 400
    assert "did not complete" in text(response)
    assert all_accounts(app) == []


def test_an_address_the_provider_has_not_verified_is_refused(app: Flask, client: FlaskClient) -> None:
    response = sign_in(client, "unverified")
    assert response.status_code == 403
    assert "has not verified your email address" in text(response)
    assert all_accounts(app) == []


def test_an_address_outside_the_organisation_domains_is_refused(app: Flask, client: FlaskClient) -> None:
    response = sign_in(client, "outsider")
    assert response.status_code == 403
    assert "only for addresses at example.org" in text(response)
    assert all_accounts(app) == []


def test_an_id_token_for_another_client_is_refused(
    app: Flask, client: FlaskClient, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider's genuine, signed ID token for another app, with this sign-in's own nonce,
    swapped into the token response: only its audience is wrong, and that must be enough."""
    authorize_url = start(client)
    (nonce,) = parse_qs(urlsplit(authorize_url).query)["nonce"]
    user = ProviderUser("ana")
    foreign = token_response_by_hand(relay, OTHER_APP, user, nonce)
    assert id_token_claims(foreign)["aud"] == "other-app" and id_token_claims(foreign)["nonce"] == nonce
    relay.swap_next_token_response(foreign)
    with caplog.at_level(logging.WARNING, logger="allyloop"):
        response = back_at_app(client, user.authorize(authorize_url))
    assert response.status_code == 400
    assert "could not be verified" in text(response)
    assert "failed its aud check" in caplog.text
    assert all_accounts(app) == []


def test_an_id_token_from_another_sign_in_is_refused(
    app: Flask, client: FlaskClient, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    """A genuine ID token for this app, replayed from another sign-in: only its nonce is wrong."""
    authorize_url = start(client)
    user = ProviderUser("ana")
    replayed = token_response_by_hand(relay, ALLYLOOP, user, "the-nonce-of-an-earlier-sign-in")
    assert id_token_claims(replayed)["aud"] == "allyloop"
    relay.swap_next_token_response(replayed)
    with caplog.at_level(logging.WARNING, logger="allyloop"):
        response = back_at_app(client, user.authorize(authorize_url))
    assert response.status_code == 400
    assert "failed its nonce check" in caplog.text
    assert all_accounts(app) == []


def test_the_relay_alone_changes_nothing(app: Flask, client: FlaskClient) -> None:
    """The control for the two tests above: through the relay, an honest sign-in works."""
    assert sign_in(client, "bea").status_code == 302
    assert [account.email for account in all_accounts(app)] == ["bea@example.org"]


# --- Settings and a provider that is away ---


def test_without_oidc_settings_the_sso_pages_are_not_found(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get("/sso/start").status_code == 404
    assert client.get("/sso/callback?code=x&state=y").status_code == 404


def test_a_provider_that_names_another_issuer_is_not_followed(
    make_app: Callable[..., Flask], relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    """Discovery §4.3: the issuer in the discovery document must be the configured one exactly."""
    client = make_app(**oidc(relay.url + "/")).test_client()
    with caplog.at_level(logging.ERROR, logger="allyloop"):
        response = client.get("/sso/start")
    assert response.status_code == 502
    assert "set OIDC_ISSUER to exactly the 'issuer'" in caplog.text


def test_a_provider_that_is_away_gets_a_page_that_says_so(make_app: Callable[..., Flask]) -> None:
    client = make_app(**oidc(f"http://127.0.0.1:{free_port()}")).test_client()
    response = client.get("/sso/start")
    assert response.status_code == 502
    assert "could not reach your organisation's sign-in service" in text(response)


# --- What the sign-in page and the API offer (web/templates/home/sign_in.html, api/accounts) ---


def test_the_sign_in_page_offers_the_organisation_sign_in(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'href="/sso/start"' in page
    assert "Sign in with your organisation" in page


def test_with_password_sign_in_off_the_sign_in_page_has_no_password_form(
    make_app: Callable[..., Flask], relay: Relay
) -> None:
    page = make_app(**oidc(relay.url, password_sign_in=False)).test_client().get("/sign-in").get_data(as_text=True)
    assert 'type="password"' not in page
    assert 'href="/sso/start"' in page


def test_with_password_sign_in_off_the_api_refuses_even_a_right_password(
    make_app: Callable[..., Flask], relay: Relay
) -> None:
    app = make_app(**oidc(relay.url, password_sign_in=False))
    with app.app_context():
        password_hash = passwords.hash_password("correct horse battery", cost=app.config["ALLYLOOP"].password_cost)
        db.session.add(
            Account(
                email="ana@example.org",
                name="Ana",
                password_hash=password_hash,
                created_on=date.today(),
                verified=True,
            )
        )
        db.session.commit()
    response = app.test_client().post(
        "/api/v1/tokens", json={"email": "ana@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_with_password_sign_in_off_the_api_makes_and_resets_no_password(
    make_app: Callable[..., Flask], relay: Relay
) -> None:
    client = make_app(**oidc(relay.url, password_sign_in=False)).test_client()
    body = {"email": "ana@example.org", "password": "correct horse battery", "name": "Ana"}
    assert client.post("/api/v1/accounts", json=body).status_code == 403
    assert client.post("/api/v1/password-resets", json={"email": "ana@example.org"}).status_code == 403
    assert client.post("/api/v1/password-resets/AAAAAAAAAAAAAAAAAAAAAA", json={"password": "x" * 12}).status_code == 403
