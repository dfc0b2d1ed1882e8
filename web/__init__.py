"""Server-rendered pages: the recipient page (no account, no cookie) and the pages that allies
and leads sign in to (cookie session, CSRF on every form). Strings go through gettext."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect
from jinja2.runtime import Context
from jinja2.utils import pass_context

from api.i18n import (
    TRANSLATIONS,
    Count,
    day_text,
    decimal_text,
    number_text,
    percent_text,
    reader_language,
    translated,
)

# Owns the templates and static files that the page blueprints share.
assets = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
babel = Babel()
csrf = CSRFProtect()


# Where recipients answer: the recipient page (web/recipient.py) and the answer API (api/resources/answer).
ANSWER_PATHS = ("/r/", "/api/v1/answer/")


class SessionOutsideAnswers(SecureCookieSessionInterface):
    """The cookie session of allies and leads, kept out of every answer request (P1).

    Someone who is signed in and opens a link in the same browser is not read as their
    account, and any code that tried to write a session there would fail loudly rather than
    send a cookie. Flask opens the session before it matches the URL, hence the path prefixes.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(ANSWER_PATHS):
            return None  # Flask uses a null session: it reads no cookie and saves none
        return super().open_session(app, request)


def register(app: Flask) -> None:
    from web import account, ally, home, invitations, lead, outbox, recipient, sso
    from web.auth import signed_in_context

    settings = app.config["ALLYLOOP"]
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # A cookie only when the session changes (signing in or out, a first CSRF token), not
        # on every request: an answer page's scripts and icon would otherwise get one (P1).
        SESSION_REFRESH_EACH_REQUEST=False,
        # CSRF is checked only on the signed-in blueprints (web.auth.protect); the JSON API
        # uses bearer tokens and the recipient page has no session to ride on.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        # Over HTTPS Flask-WTF would also demand a same-site Referer, which browsers never send
        # here (Referrer-Policy: no-referrer). The token is bound to the session cookie, and
        # that cookie is SameSite=Lax: a form posted from another site carries neither.
        WTF_CSRF_SSL_STRICT=False,
    )
    app.session_interface = SessionOutsideAnswers()
    babel.init_app(app, locale_selector=reader_language, default_translation_directories=str(TRANSLATIONS))
    app.after_request(_varies_by_language)
    csrf.init_app(app)
    app.context_processor(signed_in_context)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["translated"] = translated
    # Days, percentages, means and counts as the reader's language writes them ("1er décembre",
    # "67 %", "3,5", "1 234"); this dateformat takes the place of Flask-Babel's, which writes
    # "1 décembre".
    app.jinja_env.filters.update(dateformat=day_text, percent=percent_text, decimal=decimal_text, number=number_text)
    _count_in_words(app)
    app.register_blueprint(assets)
    # outbox: 404 outside development (web/outbox.py)
    for module in (recipient, home, ally, lead, invitations, account, outbox, sso):
        app.register_blueprint(module.bp)


def _count_in_words(app: Flask) -> None:
    """Templates' ngettext writes its count as the reader's language writes numbers ("1,234
    links", "1 234 liens"), as api.i18n.ngettext does for the views."""
    plain: Callable[..., Any] = app.jinja_env.globals["ngettext"]  # type: ignore[assignment]  # Jinja's newstyle ngettext

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        return str(plain(context, singular, plural, num, **{"num": Count(num), **variables}))

    app.jinja_env.globals["ngettext"] = ngettext


def _varies_by_language(response: Response) -> Response:
    """Pages and messages follow Accept-Language, so a cache must keep one copy per language."""
    if "Vary" in response.headers:
        response.vary.add("Accept-Language")
    else:  # most responses: parsing and writing back an empty header set cost every answer 10 us
        response.headers["Vary"] = "Accept-Language"
    return response
