"""The front door for allies and leads: sign up, confirm the address, sign in, reset a
forgotten password, sign out, and the home of someone in no group yet.

No page here tells whether an address has an account: signing up and asking for a reset
answer the same either way, and what differs goes by email. Links from emails only show a
page on GET, with one button that POSTs: mail scanners fetch links, and must not spend them.
"""

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from api.clock import utcnow
from api.extensions import client_key, limiter, session
from api.jobs.adapters import letters
from api.jobs.deliver import deliveries_waiting
from api.unit import after_commit
from crypto.tokens import is_link_token, rate_key
from feedback.errors import Gone, Invalid, NotFound, Unauthenticated, Unverified
from feedback.services import accounts, groups
from web.auth import current_account, protect, sign_in, sign_out
from web.forms import errors_of, load
from web.schemas import NewPasswordForm, ResetForm, SignInForm, SignUpForm

bp = Blueprint("home", __name__)
bp.before_request(protect)

AFTER_VERIFY = "after_verify"  # where to go once the address is confirmed (an invitation)
SIGN_UP_FIELDS = {
    "name": _l("Write your name: up to 120 characters."),
    "email": _l("Write your work email address, like name@example.org."),
    "password": _l("Choose a password of at least 10 characters (and at most 200)."),
}
SIGN_IN_FIELDS = {
    "email": _l("Write the email address you signed up with."),
    "password": _l("Write your password."),
}
RESET_FIELDS = {"email": _l("Write the email address you signed up with.")}
PASSWORD_FIELDS = {"password": SIGN_UP_FIELDS["password"]}


def _email_key() -> str:
    return "web-login:" + rate_key("login", request.form.get("email", "").strip().lower())


def _settings() -> Any:
    return current_app.config["ALLYLOOP"]


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (where to go after signing in), else None: a
    ``next`` parameter must never send anyone to another site."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return None  # browsers read "/\evil.example" as another host
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _next() -> str | None:
    return local_path(request.values.get("next"))


def _remember_next() -> None:
    """Keep where to go once the emailed link confirms the address (opened in this browser)."""
    after = _next()
    if after:
        cookie[AFTER_VERIFY] = after
    else:
        cookie.pop(AFTER_VERIFY, None)  # not an earlier sign-up's


def _in_words(error: ValidationError, words: dict[str, Any]) -> dict[str, str]:
    """The schema's messages ("Length must be between 1 and 120.") in people's words. A
    character that cannot be stored keeps its own message: the words would not explain it."""
    errors = errors_of(error)
    if any("\x00" in value for value in request.form.values()):
        return errors
    return {name: str(words.get(name, message)) for name, message in errors.items()}


def _passwords_on() -> None:
    """With PASSWORD_SIGN_IN off, people sign in only through the organisation (web/sso.py):
    the pages that take or set a password do not exist."""
    if not _settings().password_sign_in:
        abort(404)


def _problem(status: int, title: str, message: str, links: list[tuple[str, str]]) -> Any:
    """A page for a link that does not work: what happened, and what to do (nothing changed)."""
    return render_template("home/problem.html", title=title, message=message, links=links), status


@bp.get("/")
def index() -> Any:
    account = current_account()
    if account is None:
        return render_template("home/index.html")
    if groups.list_groups(session(), account):
        return redirect(url_for("ally.home"))
    return render_template("home/no_group.html", errors={}, form={})


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit("5/hour", key_func=_email_key, methods=["POST"])
@limiter.limit("30/hour", key_func=client_key, methods=["POST"])
def sign_up() -> Any:
    _passwords_on()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(SignUpForm(), request.form)
            cfg = _settings()
            accounts.sign_up(
                session(),
                now=utcnow(),
                password_cost=cfg.password_cost,
                domains=cfg.org_email_domains,
                letters=letters(),
                **body,
            )
        except ValidationError as exc:
            errors = _in_words(exc, SIGN_UP_FIELDS)
        except Invalid as exc:  # an address outside the organisation, or a name of invisible characters
            errors = {name: str(SIGN_UP_FIELDS.get(name, message)) for name, message in exc.fields.items()}
            if "email" in exc.fields:
                domains = ", ".join(_settings().org_email_domains)
                errors["email"] = _("Use your work address: one ending in %(domains)s.", domains=domains)
        else:
            after_commit(deliveries_waiting)
            _remember_next()
            # The same answer for a new and a known address: the email says which it was.
            return redirect(url_for("home.check_email"))
    status = 400 if errors else 200
    return render_template("home/sign_up.html", errors=errors, form=request.form, next=_next()), status


@bp.get("/sign-up/check-email")
def check_email() -> Any:
    return render_template("home/check_email.html")


@bp.get("/verify/<token>")
def verify_page(token: str) -> Any:
    if not is_link_token(token):
        return _link_unknown()
    return render_template("home/verify.html", token=token)


@bp.post("/verify/<token>")
@limiter.limit("30/hour", key_func=client_key)
def verify(token: str) -> Any:
    try:
        account = accounts.verify(session(), token, now=utcnow())
    except NotFound:
        return _link_unknown()
    except Gone:
        message = _(
            "Links to confirm an address work for three days. Sign in with your email and password: "
            "we email you a new link."
        )
        return _problem(410, _("This link has expired"), message, [(url_for("home.sign_in_page"), _("Sign in"))])
    after = local_path(cookie.get(AFTER_VERIFY))
    sign_in(account)  # the link proved the mailbox; a fresh session either way
    return redirect(after or url_for("home.index"))


def _link_unknown() -> Any:
    message = _(
        "It was used already, or it was not copied whole. If you confirmed your address already, sign in; "
        "otherwise signing in emails you a new link."
    )
    return _problem(404, _("This link does not work"), message, [(url_for("home.sign_in_page"), _("Sign in"))])


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10/minute", key_func=_email_key, methods=["POST"])
def sign_in_page() -> Any:
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        _passwords_on()
        try:
            body = load(SignInForm(), request.form)
            account = accounts.authenticate(
                session(),
                email=body["email"],
                password=body["password"],
                password_cost=_settings().password_cost,
                now=utcnow(),
                letters=letters(),
            )
        except ValidationError as exc:
            errors, status = _in_words(exc, SIGN_IN_FIELDS), 400
        except Unverified:
            session().commit()  # the fresh verification email is kept though the answer is a 403
            deliveries_waiting()
            _remember_next()
            errors = {"_form": _("Confirm your address first: we emailed you a new link. Open it to sign in.")}
            status = 403
        except Unauthenticated:
            errors, status = {"_form": _("That email and password do not match an account.")}, 400
        else:
            after = _next()
            sign_in(account)
            return redirect(after or url_for("home.index"))
    notices = get_flashed_messages(category_filter=["signed-out"])
    page = render_template("home/sign_in.html", errors=errors, form=request.form, next=_next(), notices=notices)
    return page, status


@bp.post("/sign-out")
def sign_out_page() -> Any:
    after = _next()
    sign_out()
    if after:  # signing out to come back as someone else (an invitation for another address)
        return redirect(url_for("home.sign_in_page", next=after))
    return redirect(url_for("home.index"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("5/hour", key_func=_email_key, methods=["POST"])
@limiter.limit("30/hour", key_func=client_key, methods=["POST"])
def reset_request() -> Any:
    _passwords_on()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(ResetForm(), request.form)
        except ValidationError as exc:
            errors = _in_words(exc, RESET_FIELDS)
        else:
            accounts.request_reset(session(), email=body["email"], now=utcnow(), letters=letters())
            after_commit(deliveries_waiting)
            return redirect(url_for("home.reset_sent"))
    status = 400 if errors else 200
    return render_template("home/reset_request.html", errors=errors, form=request.form), status


@bp.get("/reset-password/sent")
def reset_sent() -> Any:
    return render_template("home/reset_sent.html")


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("30/hour", key_func=client_key, methods=["POST"])
def reset_password(token: str) -> Any:
    _passwords_on()
    if not is_link_token(token):
        return _reset_unknown()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(NewPasswordForm(), request.form)
            accounts.reset_password(
                session(), token, password=body["password"], now=utcnow(), password_cost=_settings().password_cost
            )
        except ValidationError as exc:
            errors = _in_words(exc, PASSWORD_FIELDS)
        except NotFound:
            return _reset_unknown()
        except Gone:
            message = _("Links to set a new password work for two hours. Ask for a new one.")
            links = [(url_for("home.reset_request"), _("Ask for a new link"))]
            return _problem(410, _("This link has expired"), message, links)
        else:
            cookie.clear()  # every session of the account ended, this browser's too
            flash(_("Your password is changed, and you are signed out everywhere. Sign in with it."), "signed-out")
            return redirect(url_for("home.sign_in_page"))
    status = 400 if errors else 200
    return render_template("home/reset_password.html", errors=errors, token=token), status


def _reset_unknown() -> Any:
    message = _("It was used already, or it was not copied whole. Ask for a new one.")
    links = [(url_for("home.reset_request"), _("Ask for a new link"))]
    return _problem(404, _("This link does not work"), message, links)
