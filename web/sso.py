"""Single sign-on with the organisation's OpenID Provider (OIDC_ISSUER, OIDC_CLIENT_ID,
OIDC_CLIENT_SECRET): the authorization code flow with PKCE (S256), state and nonce, through
Authlib's Flask client. Without those settings every page here is a 404.

Between /sso/start and /sso/callback, Authlib keeps the flow's state, nonce and PKCE verifier
in the cookie session. That cookie is SameSite=Lax, which browsers still send on the
provider's redirect back: a top-level GET navigation (the default response mode; form_post
would be a cross-site POST, which Lax cookies do not ride). /sso/ is not among the answer
paths that get a null session (web.ANSWER_PATHS).

Nobody is signed in until the provider's answer passes every check: the state, the ID
token's signature against the provider's published keys (JWKS), its issuer, audience, expiry
and nonce. Any failure shows a page saying what to do, and makes no account.
"""

import logging
from typing import Any, cast

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask import session as cookie
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from joserfc.errors import ClaimError, JoseError
from requests import RequestException

from api.clock import utcnow
from api.config import Settings
from api.extensions import client_key, limiter, session
from feedback.errors import Forbidden, Invalid
from feedback.services import accounts
from web.auth import current_account, sign_in
from web.home import local_path

bp = Blueprint("sso", __name__, url_prefix="/sso")
log = logging.getLogger("allyloop")  # its privacy filter does not reach child loggers

CLIENT = "allyloop.sso"  # app.extensions key of the registered Authlib client
NAME = "idp"  # Authlib's name for it: its session keys start with _state_idp_
AFTER = "sso_next"  # where to go once signed in (an invitation), kept across the round trip
SCOPE = "openid email profile"
TIMEOUT = 10  # seconds for each request to the provider: a hung provider must not hang a worker


class ProviderProblem(Exception):
    """The provider answered something no conforming provider would: a setting is wrong."""


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 §4: the issuer without a trailing slash, then the well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _set_up(state: BlueprintSetupState) -> None:
    settings: Settings = state.app.config["ALLYLOOP"]
    if not settings.sso_enabled:
        return
    oauth = OAuth(state.app)
    state.app.extensions[CLIENT] = oauth.register(
        NAME,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=discovery_url(settings.oidc_issuer or ""),
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT},
    )


bp.record_once(_set_up)


@bp.app_context_processor
def sign_in_options() -> dict[str, Any]:
    """What the sign-in page offers: the organisation's sign-in, the password form, or both."""
    settings: Settings = current_app.config["ALLYLOOP"]
    return {"sso_enabled": settings.sso_enabled, "password_sign_in": settings.password_sign_in}


def _settings() -> Settings:
    return cast(Settings, current_app.config["ALLYLOOP"])


def _client() -> Any:
    """The registered Authlib client; 404 when single sign-on is not set up."""
    client = current_app.extensions.get(CLIENT)
    if client is None:
        abort(404)
    return client


def _failed(status: int, message: str) -> tuple[str, int]:
    return render_template("sso/failed.html", message=message), status


def _provider_trouble(reason: str) -> tuple[str, int]:
    """The provider is away or answers what no conforming one would: the operator's to fix."""
    log.error("single sign-on: %s", reason)
    message = _("Allyloop could not reach your organisation's sign-in service. Try again in a few minutes.")
    return _failed(502, message)


def _metadata(client: Any) -> dict[str, Any]:
    """The provider's discovery document (fetched once, then kept). Its issuer must be the one
    configured, to the character (Discovery §4.3): otherwise its tokens would all be refused."""
    metadata = cast(dict[str, Any], client.load_server_metadata())
    if metadata.get("issuer") != _settings().oidc_issuer:
        raise ProviderProblem(
            "the provider's discovery document names another issuer than OIDC_ISSUER: set OIDC_ISSUER to"
            " exactly the 'issuer' of " + discovery_url(_settings().oidc_issuer or "")
        )
    return metadata


@bp.get("/start")
@limiter.limit("30/minute", key_func=client_key)  # each start asks the provider's discovery document
def start() -> Any:
    """Off to the organisation's sign-in page, with a fresh state, nonce and PKCE challenge."""
    client = _client()
    try:
        _metadata(client)
        response = client.authorize_redirect(_settings().public_base_url + "/sso/callback")
    except ProviderProblem as exc:
        return _provider_trouble(str(exc))
    except (RequestException, ValueError) as exc:
        return _provider_trouble(f"discovery failed ({type(exc).__name__})")
    after = local_path(request.args.get("next"))
    if after:
        cookie[AFTER] = after
    return response


@bp.get("/callback")
@limiter.limit("30/minute", key_func=client_key)
def callback() -> Any:
    """Where the provider sends the person back: check everything, then sign them in."""
    client = _client()
    try:
        claims = _verified_claims(client)
    except MismatchingStateError:
        if current_account() is not None:  # the callback again (reloaded, or pressed twice): done already
            return redirect(url_for("home.index"))
        log.warning("single sign-on refused: the state is unknown, used or from another browser")
        return _failed(400, _("This sign-in has expired or was started in another browser. Please start again."))
    except AuthlibBaseError as exc:  # the provider said no (access_denied, ...) or refused the code
        log.warning("single sign-on refused by the provider: %s", _word(exc.error))
        return _failed(400, _("Your organisation's sign-in did not complete. Please start again."))
    except JoseError as exc:  # the ID token: signature, issuer, audience, expiry or nonce
        what = exc.claim if isinstance(exc, ClaimError) else exc.error
        log.warning("single sign-on refused: the ID token failed its %s check", _word(what))
        return _failed(400, _("The answer from your organisation's sign-in could not be verified. Please start again."))
    except ProviderProblem as exc:
        return _provider_trouble(str(exc))
    except (RequestException, ValueError) as exc:
        return _provider_trouble(f"a request to the provider failed ({type(exc).__name__})")
    try:
        account = accounts.sso_account(
            session(),
            subject=f"{_settings().oidc_issuer} {claims['sub']}",
            email=claims["email"],
            email_verified=claims["email_verified"],
            name=claims["name"],
            today=utcnow().date(),
            domains=_settings().org_email_domains,
        )
    except Forbidden:
        message = _("Your organisation's sign-in has not verified your email address, so Allyloop cannot use it.")
        return _failed(403, message + " " + _("Ask your IT team to verify it, then try again."))
    except Invalid:
        domains = ", ".join(_settings().org_email_domains)
        return _failed(403, _("Allyloop here is only for addresses at %(domains)s.", domains=domains))
    after = cookie.pop(AFTER, None)
    sign_in(account)
    return redirect(local_path(after) or url_for("home.index"))


def _verified_claims(client: Any) -> dict[str, Any]:
    """Trade the code for tokens and return the person's claims, once the ID token passed every
    check. Authlib checks the state and nonce it kept in the session, and the signature
    against the provider's JWKS; the options add the exact issuer and our client as audience."""
    settings = _settings()
    _metadata(client)
    token = client.authorize_access_token(
        claims_options={
            "iss": {"essential": True, "value": settings.oidc_issuer},
            "aud": {"essential": True, "value": settings.oidc_client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
        }
    )
    claims = dict(token.get("userinfo") or {})
    if not claims:  # Authlib validates an ID token only if there is one
        raise ProviderProblem("the token response has no ID token: does the client have the 'openid' scope?")
    if "email" not in claims:
        # Scope claims may come only from the UserInfo endpoint (OIDC Core §5.4), and count
        # only if they are about the same person as the ID token (§5.3.2).
        info = cast(dict[str, Any], client.userinfo(token=token))
        if info.get("sub") != claims["sub"]:
            raise ProviderProblem("the UserInfo endpoint answered for another subject than the ID token")
        claims.update({key: info[key] for key in ("email", "email_verified", "name") if key in info})
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise ProviderProblem("the provider sent no email address: does the client have the 'email' scope?")
    name = claims.get("name")
    return {
        "sub": str(claims["sub"]),
        "email": email,
        # Some providers send the JSON string "true"; anything else is not a verified address.
        "email_verified": claims.get("email_verified") in (True, "true"),
        "name": name if isinstance(name, str) else "",
    }


def _word(value: object) -> str:
    """An error code from the provider, fit for a log line (it arrives in a URL anyone can write)."""
    text = str(value)
    return text if len(text) <= 40 and text.replace("_", "").isalnum() else "(unreadable error code)"
