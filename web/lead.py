"""Pages for ERG leads: create a group, invite and manage its members, read its insights,
export CSV.

People join only by accepting an invitation mailed to them (web/invitations.py); inviting
answers the same whoever the addresses belong to, so no page tells a lead who has an account.
"""

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from api.clock import utcnow
from api.extensions import session
from api.i18n import in_words, ngettext
from api.jobs.adapters import letters, release_settings
from api.jobs.deliver import deliveries_waiting
from api.unit import after_commit
from feedback.errors import Forbidden, Invalid, NotFound
from feedback.figures import GroupInsights
from feedback.services import groups, invitations, results
from feedback.transactions import reading
from feedback.wording import N_, Wording
from web import insights
from web.auth import login_required, me, protect
from web.forms import addresses, errors_of, load
from web.schemas import GroupForm, OwnerForm, RoleForm

bp = Blueprint("lead", __name__, url_prefix="/groups")
bp.before_request(protect)

INVITE_FIELDS = {"role": _l("Choose a role: ally or co-lead.")}
_ADDRESS_FIELD = re.compile(r"email\.([0-9]+)")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


def _led_groups() -> list[Any]:
    return [group for group, role in groups.list_groups(session(), me()) if role == "lead"]


@bp.get("/")
@login_required
def index() -> Any:
    return render_template("lead/index.html", groups=_led_groups(), errors={}, form={})


@bp.post("/")
@login_required
def create() -> Any:
    try:
        body = load(GroupForm(), request.form)
        if not body["name"].strip():
            raise ValidationError({"name": [_("Give the group a name.")]})
    except ValidationError as exc:
        errors = errors_of(exc)
        if "name" in errors and "\x00" not in request.form.get("name", ""):  # the schema's words are English
            errors["name"] = _("Give the group a name of up to 120 characters.")
        return render_template("lead/index.html", groups=_led_groups(), errors=errors, form=request.form), 400
    group = groups.create_group(session(), me(), name=body["name"], today=utcnow().date())
    return redirect(url_for("lead.members", group_id=group.id))


def _members_page(
    group_id: int, errors: dict[str, str], form: Any, status: int = 200, address_errors: list[str] | None = None
) -> Any:
    group = groups.led_group(session(), me(), group_id)
    members = groups.list_members(session(), me(), group_id)
    page = render_template(
        "lead/members.html",
        group=group,
        members=members,
        leads=sum(1 for _account, role in members if role == "lead"),
        pending=invitations.pending(session(), me(), group_id, now=utcnow()),
        invited=get_flashed_messages(category_filter=["invited"]),
        errors=errors,
        address_errors=address_errors or [],
        form=form,
        me_id=me().id,
    )
    return page, status


def _refused(group_id: int, message: str) -> Any:
    """What a lead may not do here (the service refused, and nothing changed): a 403 page."""
    title = _("Only the group's owner can do that")
    return render_template("lead/refused.html", title=title, message=message, group_id=group_id), 403


def _owner_only(group_id: int) -> Any:
    return _refused(
        group_id,
        _(
            "A co-lead cannot remove the group's owner or change their role. "
            "The owner can hand the group over to another lead first."
        ),
    )


@bp.get("/<id:group_id>/members")
@login_required
def members(group_id: int) -> Any:
    return _members_page(group_id, {}, {})


def _invite_errors(fields: Mapping[str, str], typed: list[str]) -> tuple[dict[str, str], list[str]]:
    """The page's errors, and one line per address that cannot be invited, in the order typed.

    The service names each address and why (``email.N``; ``email`` when one was given)."""
    errors: dict[str, str] = {}
    per_address: list[tuple[int, str]] = []
    for name, message in fields.items():
        numbered = _ADDRESS_FIELD.fullmatch(name)
        if numbered:
            per_address.append((int(numbered.group(1)), in_words(message)))
        elif name == "email" and 1 <= len(typed) <= invitations.MAX_AT_ONCE:
            per_address.append((0, in_words(message)))
        elif name == "email":
            errors["emails"] = _("Write from 1 to %(n)s work addresses.", n=invitations.MAX_AT_ONCE)
        else:
            errors[name] = str(INVITE_FIELDS.get(name, in_words(message)))
    if per_address:
        errors["emails"] = ngettext(
            "%(num)s address cannot be invited, so nobody was invited. Correct it or take it out, and invite again.",
            "%(num)s addresses cannot be invited, so nobody was invited. "
            "Correct them or take them out, and invite again.",
            len(per_address),
        )
    return errors, [message for _index, message in sorted(per_address)]


@bp.post("/<id:group_id>/members")
@login_required
def invite(group_id: int) -> Any:
    groups.led_group(session(), me(), group_id)  # 403 before reading the form
    typed = addresses(request.form.get("emails", ""))
    try:
        body = load(RoleForm(), request.form)  # also refuses a NUL in any field, the addresses too
        invited = invitations.invite(
            session(),
            me(),
            group_id,
            emails=typed,
            role=body["role"],
            now=utcnow(),
            domains=current_app.config["ALLYLOOP"].org_email_domains,
            letters=letters(),
        )
    except ValidationError as exc:
        errors = errors_of(exc)
        if not any("\x00" in value for value in request.form.values()):  # that message says what it is
            errors = {name: str(INVITE_FIELDS.get(name, message)) for name, message in errors.items()}
        return _members_page(group_id, errors, request.form, 400)
    except Invalid as exc:
        errors, address_errors = _invite_errors(exc.fields, typed)
        return _members_page(group_id, errors, request.form, 400, address_errors)
    after_commit(deliveries_waiting)
    # The same words whoever the addresses belong to: nothing says who has an account.
    flash(ngettext("Invited %(num)s person.", "Invited %(num)s people.", invited), "invited")
    return redirect(url_for("lead.members", group_id=group_id, _anchor="pending"))


@bp.post("/<id:group_id>/invitations/<id:invitation_id>/withdraw")
@login_required
def withdraw(group_id: int, invitation_id: int) -> Any:
    invitations.withdraw(session(), me(), group_id, invitation_id)  # 403 or 404: the error page
    return redirect(url_for("lead.members", group_id=group_id, _anchor="pending"))


@bp.post("/<id:group_id>/members/<id:account_id>/role")
@login_required
def set_role(group_id: int, account_id: int) -> Any:
    groups.led_group(session(), me(), group_id)
    try:
        body = load(RoleForm(), request.form)
        groups.set_role(session(), me(), group_id, account_id, role=body["role"])
    except ValidationError:
        return _members_page(group_id, {"members": str(INVITE_FIELDS["role"])}, {}, 400)
    except Forbidden:
        return _owner_only(group_id)
    except Invalid:
        message = _("A group needs at least one lead. Make someone else a co-lead first.")
        return _members_page(group_id, {"members": message}, {}, 400)
    if account_id == me().id and body["role"] != "lead":  # stepped down: no longer leads this group
        return redirect(url_for("lead.index"))
    return redirect(url_for("lead.members", group_id=group_id, _anchor=f"member-{account_id}"))


@bp.get("/<id:group_id>/members/<id:account_id>/remove")
@login_required
def confirm_remove(group_id: int, account_id: int) -> Any:
    """Who would be removed and what it means; the button POSTs to remove_member."""
    group = groups.led_group(session(), me(), group_id)
    members = groups.list_members(session(), me(), group_id)
    found = [(account, role) for account, role in members if account.id == account_id]
    if not found:
        raise NotFound(Wording(N_("This person is not a member of the group.")))
    (account, role) = found[0]
    if group.owner_id == account_id and account_id != me().id:
        return _owner_only(group_id)
    last_lead = role == "lead" and sum(1 for _account, r in members if r == "lead") <= 1
    return render_template(
        "lead/remove.html", group=group, member=account, role=role, last_lead=last_lead, me_id=me().id
    )


@bp.post("/<id:group_id>/members/<id:account_id>/remove")
@login_required
def remove_member(group_id: int, account_id: int) -> Any:
    groups.led_group(session(), me(), group_id)
    try:
        groups.remove_member(session(), me(), group_id, account_id)
    except Forbidden:
        return _owner_only(group_id)
    except Invalid:
        message = _("A group needs at least one lead. Make someone else a co-lead before removing this one.")
        return _members_page(group_id, {"members": message}, {}, 400)
    if account_id == me().id:  # a co-lead who removed themselves no longer leads this group
        return redirect(url_for("lead.index"))
    return redirect(url_for("lead.members", group_id=group_id))


@bp.post("/<id:group_id>/owner")
@login_required
def hand_over(group_id: int) -> Any:
    groups.led_group(session(), me(), group_id)
    chosen = request.form.get("account_id", "").strip()
    try:
        body = load(OwnerForm(), {"account_id": int(chosen) if _WHOLE_NUMBER.fullmatch(chosen) else chosen})
        groups.hand_over(session(), me(), group_id, body["account_id"])
    except (ValidationError, Invalid):
        return _members_page(group_id, {"owner": _("Choose one of the group's co-leads.")}, {}, 400)
    except Forbidden:
        return _refused(group_id, _("Only the group's owner can hand it over."))
    return redirect(url_for("lead.members", group_id=group_id))


def _insights(group_id: int, comments: int | None = results.COMMENTS_PAGE) -> GroupInsights:
    rules = release_settings(current_app)
    return results.group_insights(
        session(), me(), group_id, k=rules.k, comment_key=rules.comment_key, today=utcnow().date(), comments=comments
    )


@bp.get("/<id:group_id>")
@login_required
def group(group_id: int) -> Any:
    with reading(session()):  # a long read of a large group never holds SQLite's write lock
        found = groups.led_group(session(), me(), group_id)
        view = insights.build(_insights(group_id))
        return render_template(
            "lead/insights.html",
            group=found,
            view=view,
            followup_days=insights.followup_days(),
            hold_days=current_app.config["ALLYLOOP"].group_hold_days,
        )


@bp.get("/<id:group_id>/insights.csv")
@login_required
def export(group_id: int) -> Any:
    found = groups.led_group(session(), me(), group_id)
    view = insights.build(_insights(group_id, comments=0))  # comments stay out of the CSV
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(insights.CSV_HEADER)
    writer.writerows(insights.csv_rows(found.name, view))
    filename = f"allyloop-group-{found.id}-insights-{utcnow().date().isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
