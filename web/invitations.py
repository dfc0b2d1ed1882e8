"""The invitation link a lead's email carries: /invitations/<token>.

Someone joins a group only by pressing Accept here, signed in with the verified address the
invitation was sent to (P8). GET only shows the page: mail scanners fetch links, and must
not accept for anyone. A signed-out visitor is sent to sign in or sign up and back here.
"""

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _

from api.clock import utcnow
from api.extensions import client_key, limiter, session
from feedback.errors import Forbidden, Gone, NotFound
from feedback.models import Invitation
from feedback.services import invitations
from feedback.services.accounts import normalise_email
from web.auth import current_account, protect

bp = Blueprint("invitations", __name__, url_prefix="/invitations")
bp.before_request(protect)


def _page(template: str, status: int = 200, **context: Any) -> Any:
    # The nav shows who is signed in: web.auth's context only knows the older blueprints.
    return render_template(template, me=current_account(), **context), status


def _problem(status: int, title: str, message: str) -> Any:
    return _page("invitations/problem.html", status, title=title, message=message)


def _link_problem(error: NotFound | Gone) -> Any:
    """The page saying why the link does not work, and what to do."""
    if isinstance(error, Gone):
        message = _("Invitations last 14 days. Ask the group's lead to invite you again: they get a new link.")
        return _problem(410, _("This invitation has expired"), message)
    message = _(
        "It was withdrawn, or it was not copied whole. If you still want to join, ask the group's lead "
        "to invite you again."
    )
    return _problem(404, _("This invitation does not work"), message)


def _wrong_address(invitation: Invitation, token: str) -> Any:
    here = url_for("invitations.show", token=token)
    return _page("invitations/wrong_address.html", 403, invited=invitation.email, next=here)


@bp.get("/<token>")
def show(token: str) -> Any:
    try:
        invitation, group = invitations.look(session(), token, now=utcnow())
    except (NotFound, Gone) as exc:
        return _link_problem(exc)
    account = current_account()
    if account is None:
        here = url_for("invitations.show", token=token)
        return _page("invitations/sign_in.html", invitation=invitation, group=group, next=here)
    if normalise_email(account.email) != invitation.email:
        return _wrong_address(invitation, token)
    joined = invitation.accepted_by == account.id
    return _page("invitations/accept.html", invitation=invitation, group=group, joined=joined, token=token)


@bp.post("/<token>")
@limiter.limit("30/hour", key_func=client_key)
def accept(token: str) -> Any:
    account = current_account()
    if account is None:
        return redirect(url_for("home.sign_in_page", next=url_for("invitations.show", token=token)))
    try:
        invitation, _group = invitations.look(session(), token, now=utcnow())
        invitations.accept(session(), account, token, now=utcnow())
    except (NotFound, Gone) as exc:
        return _link_problem(exc)
    except Forbidden:
        return _wrong_address(invitation, token)
    return redirect(url_for("ally.home"))
