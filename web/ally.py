"""Pages for allies: their groups and actions, asking for feedback, pooled results, a private note.

Views are thin: they read a form with the API's schemas, call one service, and render.
Links are shown once, in the response to the request that made them, and never again:
only their hashes are stored. No page says anything about a single link (P5).
"""

import re
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import Schema, ValidationError, fields, validate

from api.actions.schemas import ActionIn, RequestIn
from api.clock import utcnow
from api.extensions import session
from api.jobs import release_settings
from crypto.atrest import derive_key
from feedback import followups, kinds, reading
from feedback.errors import Conflict, Invalid, NotFound
from feedback.services import actions, ally_results, groups, notes
from feedback.services.followup_offers import followup_offers
from web.auth import login_required, me, protect
from web.forms import errors_of, load
from web.labels import kind_text

bp = Blueprint("ally", __name__, url_prefix="/ally")
bp.before_request(protect)

_l = lazy_gettext

# The kind picker groups the kinds (web.labels) by signaling and mitigation.
PATH_GROUPS = (
    ("signaling", _l("Signaling: helps them feel valued, seen and safe"), ("amplify", "credit", "other")),
    (
        "mitigation",
        _l("Mitigation: removes a barrier between people or in the system, or opens access"),
        ("confront_bias", "mentor", "share_resource", "sponsor", "connect", "change_process"),
    ),
)
STAGE_TEXT = {
    "advice": (_l("Ask for advice"), _l("Before you act: what would they want from you?")),
    "immediate": (_l("Ask whether it helped"), _l("Right after: was it wanted, did it help?")),
    "followup_30": (_l("Follow up after a month"), _l("About 30 days later: did it make a lasting difference?")),
    "followup_90": (_l("Follow up after three months"), _l("About 90 days later: did it last?")),
}
VISIBILITY_TEXT = {"public": _l("In public (others saw it)"), "private": _l("In private (one to one)")}
NEXT_STEP_TEXT = {
    reading.ASK_FIRST: _l(
        "Some people did not want this kind of help. Before acting next time, ask what they would prefer: "
        "an advice request does that anonymously."
    ),
    reading.TRY_MITIGATION: _l(
        "Mostly affirmation so far. That matters, and it fades: consider an introduction, a sponsorship "
        "or a process fix next time."
    ),
    reading.BEYOND_SIGNALING: _l(
        "People felt recognised, but few said it changed how they are treated or opened a door. "
        "Consider going one step further: an introduction, sponsorship, or fixing the process behind it."
    ),
    reading.FOLLOW_UP: _l(
        "You know how it felt at the time. A follow-up in a month or three tells you whether it lasted."
    ),
}
# Did it last? The moments compared, and the overall reading of the latest follow-up.
MOMENT_TEXT = {
    "immediate": _l("Right after"),
    "followup_30": _l("After about 30 days"),
    "followup_90": _l("After about 90 days"),
}
DUE_TEXT = {"followup_30": _l("30-day follow-up"), "followup_90": _l("90-day follow-up")}
VERDICT_TEXT = {
    reading.HELD: _l("It lasted: people said it still made a real difference weeks later."),
    reading.MIXED: _l("Partly: some of the difference lasted, some of it faded."),
    reading.FADED: _l(
        "It faded: few said it made a lasting difference. Mitigation (an introduction, a sponsorship "
        "or a process fix) tends to last longer than affirmation."
    ),
    reading.TOO_EARLY: _l(
        "Not known yet. Follow up 30 and 90 days after you ask whether it helped: "
        "the answers show here once enough people have answered."
    ),
}
# Field messages in the page's words; marshmallow's own ("Missing data for required field.") do not say which field.
ACTION_FIELDS = {
    "group_id": _l("Choose the group this happened in."),
    "kind": _l("Choose what kind of help it was."),
    "summary": _l("Describe what you did in one line, up to 200 characters."),
    "occurred_on": _l("Give the day it happened, not in the future."),
    "visibility": _l("Choose whether it happened in public or in private."),
}
REQUEST_FIELDS = {
    "stage": _l("Choose what to ask for."),
    "count": _l("Choose how many links to make: a whole number from 1 to 50."),
}
NOTE_FIELDS = {"text": _l("Keep the note to %(n)s characters or fewer.", n=notes.MAX_CHARS)}
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


class NoteIn(Schema):
    text = fields.String(load_default="", validate=validate.Length(max=notes.MAX_CHARS * 2))


def _form(*integers: str) -> dict[str, Any]:
    """The posted form, with whole-number fields as ints (the API's schemas are strict)."""
    data: dict[str, Any] = request.form.to_dict()
    for name in integers:
        value = str(data.get(name, "")).strip()
        if _WHOLE_NUMBER.fullmatch(value):
            data[name] = int(value)
    return data


def _in_words(errors: dict[str, str], words: dict[str, Any]) -> dict[str, str]:
    return {name: str(words.get(name, message)) for name, message in errors.items()}


def _note_key() -> bytes:
    return derive_key(current_app.config["SECRET_KEY"], notes.KEY_PURPOSE)


@bp.get("/")
@login_required
def home() -> Any:
    return render_template(
        "ally/home.html",
        groups=groups.list_groups(session(), me()),
        actions=actions.list_actions(session(), me()),
        due=followups.due_followups(session(), me(), utcnow().date()),
        due_text=DUE_TEXT,
        kind_text=kind_text(),
    )


@bp.route("/actions/new", methods=["GET", "POST"])
@login_required
def new_action() -> Any:
    mine = groups.list_groups(session(), me())
    errors: dict[str, str] = {}
    form: dict[str, Any] = {"occurred_on": utcnow().date().isoformat()}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            body = load(ActionIn(), _form("group_id"))
            action = actions.log_action(session(), me(), today=utcnow().date(), **body)
            session().commit()
        except ValidationError as exc:
            errors = _in_words(errors_of(exc), ACTION_FIELDS)
        except Invalid as exc:
            session().rollback()
            errors = _in_words(exc.fields, ACTION_FIELDS)
        except NotFound:  # a group they are not in
            session().rollback()
            errors = {"group_id": str(ACTION_FIELDS["group_id"])}
        else:
            return redirect(url_for("ally.action", action_id=action.id))
    return render_template(
        "ally/new_action.html",
        groups=mine,
        form=form,
        errors=errors,
        path_groups=PATH_GROUPS,
        kind_text=kind_text(),
        visibility_text=VISIBILITY_TEXT,
    ), (400 if errors else 200)


def _action_page(action_id: int, status: int = 200, **context: Any) -> Any:
    action = actions.own_action(session(), me(), action_id)  # another ally's action: 404
    offers = followup_offers(session(), me(), action_id, today=utcnow().date())
    # A follow-up is offered on its due day, not before (asking early is refused with its due day).
    open_stages = [s for s in STAGE_TEXT if s not in offers or offers[s].open]
    wanted = request.args.get("stage", "")  # the reminder's link preselects the follow-up that is due
    context.setdefault("errors", {})
    context.setdefault("form", {"stage": wanted if wanted in open_stages else "immediate", "count": "5"})
    return render_template(
        "ally/action.html",
        action=action,
        path=kinds.path_of(action.kind),
        offers=offers,
        open_stages=open_stages,
        requests=actions.requests_for(session(), me(), action_id),
        kind_text=kind_text(),
        stage_text=STAGE_TEXT,
        visibility_text=VISIBILITY_TEXT,
        k=current_app.config["ALLYLOOP"].release_min_responses,
        **context,
    ), status


@bp.get("/actions/<id:action_id>")
@login_required
def action(action_id: int) -> Any:
    return _action_page(action_id)


@bp.get("/actions/<id:action_id>/links")
@login_required
def links_gone(action_id: int) -> Any:
    """Links are shown only in the answer to the request that made them: back to the action."""
    return redirect(url_for("ally.action", action_id=action_id))


@bp.post("/actions/<id:action_id>/links")
@login_required
def ask(action_id: int) -> Any:
    cfg = current_app.config["ALLYLOOP"]
    try:
        body = load(RequestIn(), _form("count"))
        links = actions.create_request(
            session(),
            me(),
            action_id,
            now=utcnow(),
            link_days=cfg.link_days,
            followup_days=cfg.followup_days,
            **body,
        )  # NotFound for another ally's action: the 404 page
        session().commit()
    except ValidationError as exc:
        return _action_page(action_id, 400, errors=_in_words(errors_of(exc), REQUEST_FIELDS), form=request.form)
    except Invalid as exc:
        session().rollback()
        return _action_page(action_id, 400, errors=_in_words(exc.fields, REQUEST_FIELDS), form=request.form)
    except Conflict as exc:  # a follow-up asked for before it is due, or with nothing to follow up
        session().rollback()
        return _action_page(action_id, 409, errors={"stage": exc.message}, form=request.form)
    action = actions.own_action(session(), me(), action_id)
    return render_template(
        "ally/links.html",
        action=action,
        stage=body["stage"],
        stage_text=STAGE_TEXT,
        urls=[f"{cfg.public_base_url}/r/{link.token}" for link in links],
        expires_on=links[0].expires_at.date(),
        message=_message(body["stage"]),
    )


def _message(stage: str) -> str:
    if stage == "advice":
        return str(
            gettext(
                "I'd like to support you in a way that suits you, so I'm asking before I act. "
                "If you like, tell me what you would prefer: it's anonymous, pooled with others' answers, "
                "and fine to skip."
            )
        )
    return str(
        gettext(
            "I'd like to learn whether what I did helped, so I can do better. "
            "Answer anonymously, or not at all: I only ever see answers pooled with others', never yours on its own."
        )
    )


@bp.get("/results")
@login_required
def results() -> Any:
    rules = release_settings(current_app)
    view = ally_results.pooled_reading(session(), me(), k=rules.k, comment_key=rules.comment_key)
    return render_template(
        "ally/results.html",
        r=view,
        next_step_text=NEXT_STEP_TEXT,
        moment_text=MOMENT_TEXT,
        verdict_text=VERDICT_TEXT,
        note=notes.read_note(session(), me(), key=_note_key()),
    )


@bp.route("/note", methods=["GET", "POST"])
@login_required
def note() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            body = load(NoteIn(), _form())
            notes.save_note(session(), me(), body["text"], key=_note_key(), today=utcnow().date())
            session().commit()
        except ValidationError as exc:
            errors = _in_words(errors_of(exc), NOTE_FIELDS)
        except Invalid as exc:
            session().rollback()
            errors = _in_words(exc.fields, NOTE_FIELDS)
        else:
            return redirect(url_for("ally.note", saved=1))
        current = notes.Note(text=request.form.get("text", ""), updated_on=None)
    else:
        current = notes.read_note(session(), me(), key=_note_key())
    return render_template(
        "ally/note.html", note=current, errors=errors, saved="saved" in request.args, max_chars=notes.MAX_CHARS
    ), (400 if errors else 200)
