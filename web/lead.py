"""Pages for ERG leads: create a group, manage its members, read its insights, export CSV."""

import csv
import io
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from api.clock import utcnow
from api.extensions import session
from api.groups.schemas import GroupIn, MemberIn
from api.jobs import release_settings
from feedback.errors import Invalid, NotFound
from feedback.services import groups, results
from web import insights
from web.auth import login_required, me, protect
from web.forms import errors_of, load

bp = Blueprint("lead", __name__, url_prefix="/groups")
bp.before_request(protect)


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
        body = load(GroupIn(), request.form)
        if not body["name"].strip():
            raise ValidationError({"name": [_("Give the group a name.")]})
    except ValidationError as exc:
        errors = errors_of(exc)
        return render_template("lead/index.html", groups=_led_groups(), errors=errors, form=request.form), 400
    group = groups.create_group(session(), me(), name=body["name"], today=utcnow().date())
    session().commit()
    return redirect(url_for("lead.members", group_id=group.id))


def _members_page(group_id: int, errors: dict[str, str], form: Any, status: int = 200) -> Any:
    group = groups.led_group(session(), me(), group_id)
    members = groups.list_members(session(), me(), group_id)
    leads = sum(1 for _account, role in members if role == "lead")
    page = render_template(
        "lead/members.html", group=group, members=members, leads=leads, errors=errors, form=form, me_id=me().id
    )
    return page, status


@bp.get("/<id:group_id>/members")
@login_required
def members(group_id: int) -> Any:
    return _members_page(group_id, {}, {})


@bp.post("/<id:group_id>/members")
@login_required
def add_member(group_id: int) -> Any:
    groups.led_group(session(), me(), group_id)  # 403 before reading the form
    try:
        body = load(MemberIn(), request.form)
        groups.add_member(session(), me(), group_id, email=body["email"], role=body["role"])
    except ValidationError as exc:
        return _members_page(group_id, errors_of(exc), request.form, 400)
    except NotFound:
        session().rollback()
        message = _("There is no account with that email address. Ask them to create one first, then add them.")
        return _members_page(group_id, {"email": message}, request.form, 404)
    except Invalid as exc:
        session().rollback()
        return _members_page(group_id, {"role": exc.fields.get("role", exc.message)}, request.form, 400)
    session().commit()
    return redirect(url_for("lead.members", group_id=group_id))


@bp.post("/<id:group_id>/members/<id:account_id>/remove")
@login_required
def remove_member(group_id: int, account_id: int) -> Any:
    groups.led_group(session(), me(), group_id)
    try:
        groups.remove_member(session(), me(), group_id, account_id)
    except Invalid:
        session().rollback()
        message = _("A group needs at least one lead. Add another lead before removing this one.")
        return _members_page(group_id, {"remove": message}, {}, 400)
    session().commit()
    if account_id == me().id:  # a co-lead who removed themselves no longer leads this group
        return redirect(url_for("lead.index"))
    return redirect(url_for("lead.members", group_id=group_id))


def _insights(group_id: int) -> Any:
    rules = release_settings(current_app)
    return results.group_insights(
        session(), me(), group_id, k=rules.k, comment_key=rules.comment_key, today=utcnow().date()
    )


@bp.get("/<id:group_id>")
@login_required
def group(group_id: int) -> Any:
    found = groups.led_group(session(), me(), group_id)
    view = insights.build(_insights(group_id))
    return render_template("lead/insights.html", group=found, view=view)


@bp.get("/<id:group_id>/insights.csv")
@login_required
def export(group_id: int) -> Any:
    found = groups.led_group(session(), me(), group_id)
    view = insights.build(_insights(group_id))
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
