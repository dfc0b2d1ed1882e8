"""Pages for allies: their groups and actions, asking for feedback, pooled results, a private note.

Views are thin: they read a form with the pages' schemas (web/schemas.py), call one service, and render.
Asking is by email first (P8): Allyloop mails each named colleague their own link, and the
ally never sees one. Links the ally shares themselves are shown once, in the response to
the request that made them, and never again: only their hashes are stored. No page says
anything about a single link (P5).
"""

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import Schema, ValidationError, fields, validate

from api.clock import utcnow
from api.extensions import session
from api.i18n import in_words, ngettext
from api.jobs.adapters import delivery_keys, release_settings
from api.jobs.deliver import deliveries_waiting
from api.unit import after_commit
from crypto.atrest import derive_key
from feedback import followups, kinds, reading
from feedback.errors import Conflict, Invalid, NotFound
from feedback.services import actions, ally_results, groups, notes
from feedback.services.followup_offers import followup_offers
from web.auth import login_required, me, protect
from web.forms import addresses, errors_of, load
from web.labels import due_text, kind_text, moment_text
from web.schemas import ActionForm, DoneForm, RequestForm

bp = Blueprint("ally", __name__, url_prefix="/ally")
bp.before_request(protect)

_l = lazy_gettext

# The kind picker groups the kinds (feedback.kinds) by signaling and mitigation.
PATH_GROUPS = (
    ("signaling", _l("Signaling: helps them feel valued, seen and safe"), kinds.on_paths({kinds.SIGNALING})),
    (
        "mitigation",
        _l("Mitigation: removes a barrier between people or in the system, or opens access"),
        kinds.on_paths(kinds.MITIGATION_PATHS),
    ),
)


def _followup_days() -> tuple[int, int]:
    first, second = current_app.config["ALLYLOOP"].followup_days
    return first, second


def stage_text() -> dict[str, tuple[str, str]]:
    """Each stage's button and hint, in the order they are asked; follow-ups say FOLLOWUP_DAYS."""
    first, second = _followup_days()
    return {
        "advice": (gettext("Ask for advice"), gettext("Before you act: what would they want from you?")),
        "immediate": (gettext("Ask whether it helped"), gettext("Right after: was it wanted, did it help?")),
        "followup_30": (
            gettext("Follow up after %(days)s days", days=first),
            gettext("About %(days)s days later: did it make a lasting difference?", days=first),
        ),
        "followup_90": (
            gettext("Follow up after %(days)s days", days=second),
            gettext("About %(days)s days later: did it last?", days=second),
        ),
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
# Did it last? The overall reading of the latest follow-up (the moments: web.labels.moment_text).


def progress_text() -> dict[str, str]:
    first, second = _followup_days()
    return {
        "advice": gettext("Advice, before acting"),
        "immediate": gettext("Right after acting"),
        "followup": gettext("Follow-ups, %(first)s and %(second)s days later", first=first, second=second),
    }


VERDICT_TEXT = {
    reading.HELD: _l("It lasted: people said it still made a real difference weeks later."),
    reading.MIXED: _l("Partly: some of the difference lasted, some of it faded."),
    reading.FADED: _l(
        "It faded: few said it made a lasting difference. Mitigation (an introduction, a sponsorship "
        "or a process fix) tends to last longer than affirmation."
    ),
}


def verdict_text() -> dict[str, str]:
    first, second = _followup_days()
    too_early = gettext(
        "Not known yet. Follow up %(first)s and %(second)s days after you ask whether it helped: "
        "the answers show here once enough people have answered.",
        first=first,
        second=second,
    )
    return {**{verdict: str(text) for verdict, text in VERDICT_TEXT.items()}, reading.TOO_EARLY: too_early}


# Field messages in the page's words; marshmallow's own ("Missing data for required field.") do not say which field.
ACTION_FIELDS = {
    "group_id": _l("Choose the group this happened in."),
    "kind": _l("Choose what kind of help it was."),
    "summary": _l("Describe what you did in one line, up to 200 characters."),
    "occurred_on": _l("Give the day it happened, not in the future."),
    "when": _l("Choose whether you did it already or are thinking of doing it."),
    "visibility": _l("Choose whether it happened in public or in private."),
}
REQUEST_FIELDS = {
    "stage": _l("Choose what to ask for."),
    "count": _l("Choose how many links to make: a whole number from 1 to 50."),
    "recipients": _l("Write the work address of each colleague to ask: from 1 to 50 addresses."),
}
NOTE_FIELDS = {"text": _l("Keep the note to %(n)s characters or fewer.", n=notes.MAX_CHARS)}
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
_ADDRESS_FIELD = re.compile(r"recipients\.([0-9]+)")


DONE_FIELDS = {"occurred_on": _l("Give the day you did it: not in the future, nor before you planned it.")}


class NoteIn(Schema):
    text = fields.String(load_default="", validate=validate.Length(max=notes.MAX_CHARS * 2))


def _form(*integers: str) -> dict[str, Any]:
    """The posted form, with whole-number fields as ints (the schemas take whole numbers strictly)."""
    data: dict[str, Any] = request.form.to_dict()
    for name in integers:
        value = str(data.get(name, "")).strip()
        if _WHOLE_NUMBER.fullmatch(value):
            data[name] = int(value)
    return data


def _in_words(errors: dict[str, str], words: dict[str, Any]) -> dict[str, str]:
    return {name: str(words.get(name, message)) for name, message in errors.items()}


def _address_errors(fields: Mapping[str, Any], typed: list[str]) -> tuple[dict[str, str], list[str]]:
    """The page's errors, and one line per address that cannot be asked, in the order typed.

    The service names each address and why (``recipients.N``); the schema only says which
    was too long to read (``recipients: {N: [...]}``).
    """
    errors: dict[str, str] = {}
    per_address: list[tuple[int, str]] = []
    for name, message in fields.items():
        numbered = _ADDRESS_FIELD.fullmatch(str(name))
        if numbered:
            per_address.append((int(numbered.group(1)), in_words(message)))
        elif name == "recipients" and isinstance(message, Mapping):
            per_address.extend(
                (int(index), gettext("%(address)s… is too long to be an email address.", address=typed[index][:40]))
                for index in message
            )
        else:
            said = " ".join(map(str, message)) if isinstance(message, list) else str(message)
            errors[str(name)] = str(REQUEST_FIELDS.get(str(name), said))
    if per_address:
        errors["recipients"] = ngettext(
            "%(num)s address cannot be asked, so nobody was emailed. Correct it or take it out, and ask again.",
            "%(num)s addresses cannot be asked, so nobody was emailed. Correct them or take them out, and ask again.",
            len(per_address),
        )
    return errors, [message for _, message in sorted(per_address)]


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
        due_text=due_text(),
        kind_text=kind_text(),
        k=current_app.config["ALLYLOOP"].release_min_responses,
    )


@bp.route("/actions/new", methods=["GET", "POST"])
@login_required
def new_action() -> Any:
    mine = groups.list_groups(session(), me())
    errors: dict[str, str] = {}
    form: dict[str, Any] = {"occurred_on": utcnow().date().isoformat(), "when": "done"}
    if request.method == "POST":
        form = request.form.to_dict()
        data = _form("group_id")
        # A planned action has no day yet: the ally asks for advice first, and marks it done later.
        when = data.pop("when", "done")  # clients that predate planned actions send no "when"
        if when == "planned":
            data.pop("occurred_on", None)
        missing = {}  # said together with the schema's: every problem at once
        if when not in ("done", "planned"):
            missing["when"] = str(ACTION_FIELDS["when"])
        if when == "done" and not str(data.get("occurred_on", "")).strip():
            missing["occurred_on"] = str(ACTION_FIELDS["occurred_on"])
            data.pop("occurred_on", None)
        try:
            body = load(ActionForm(), data)
            if missing:
                raise Invalid("the action is not valid", missing)
            action = actions.log_action(session(), me(), today=utcnow().date(), **body)
        except ValidationError as exc:
            errors = {**_in_words(errors_of(exc), ACTION_FIELDS), **missing}
        except Invalid as exc:
            errors = _in_words(exc.fields, ACTION_FIELDS)
        except NotFound:  # a group they are not in
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
    """The action, the ask forms and the requests so far. ``which`` names the form posted
    ("email" or "share") when it comes back with ``errors``."""
    action = actions.own_action(session(), me(), action_id)  # another ally's action: 404
    offers = followup_offers(session(), me(), action_id, today=utcnow().date())
    # A follow-up is offered on its due day, not before (asking early is refused with its due day);
    # a planned action asks only for advice until it is marked done.
    open_stages = [
        s for s in stage_text() if (s not in offers or offers[s].open) and (s == "advice" or not action.planned)
    ]
    wanted = request.args.get("stage", "")  # the reminder's link preselects the follow-up that is due
    context.setdefault("errors", {})
    context.setdefault("which", "email")
    context.setdefault("address_errors", [])
    default = "advice" if action.planned else "immediate"
    context.setdefault("form", {"stage": wanted if wanted in open_stages else default, "count": "1"})
    context.setdefault("done_errors", {})
    context.setdefault("today", utcnow().date().isoformat())
    if status >= 400:  # an error's page: its refused write goes first, the reading below is kept
        session().rollback()
    page = render_template(
        "ally/action.html",
        action=action,
        path=kinds.path_of(action.kind),
        offers=offers,
        open_stages=open_stages,
        requests=actions.request_statuses(session(), me(), action_id, key=delivery_keys().at_rest),
        asked=get_flashed_messages(category_filter=["asked"]),
        kind_text=kind_text(),
        stage_text=stage_text(),
        visibility_text=VISIBILITY_TEXT,
        k=current_app.config["ALLYLOOP"].release_min_responses,
        **context,
    )
    if status >= 400:  # the unit rolls back an error's writes, but the refusals shown are forgotten: each is shown once
        session().commit()
    return page, status


@bp.get("/actions/<id:action_id>")
@login_required
def action(action_id: int) -> Any:
    return _action_page(action_id)


@bp.post("/actions/<id:action_id>/done")
@login_required
def mark_done(action_id: int) -> Any:
    """The planned action happened: from now on the ally can ask whether it helped."""
    try:
        body = load(DoneForm(), request.form.to_dict())
        actions.mark_done(session(), me(), action_id, occurred_on=body["occurred_on"], today=utcnow().date())
    except ValidationError as exc:
        return _action_page(action_id, 400, done_errors=_in_words(errors_of(exc), DONE_FIELDS))
    except Invalid as exc:
        return _action_page(action_id, 400, done_errors=_in_words(exc.fields, DONE_FIELDS))
    return redirect(url_for("ally.action", action_id=action_id))


@bp.get("/actions/<id:action_id>/links")
@bp.get("/actions/<id:action_id>/requests")
@login_required
def links_gone(action_id: int) -> Any:
    """Links are shown only in the answer to the request that made them: back to the action."""
    return redirect(url_for("ally.action", action_id=action_id))


@bp.post("/actions/<id:action_id>/requests")
@login_required
def ask(action_id: int) -> Any:
    """Ask colleagues by email (P8): Allyloop mails each their own link, and only their
    answers count toward results. The ally sees how many were emailed, never a link."""
    cfg = current_app.config["ALLYLOOP"]
    typed = addresses(request.form.get("recipients", ""))
    data: dict[str, Any] = {"recipients": typed}
    if "stage" in request.form:
        data["stage"] = request.form["stage"]
    try:
        body = load(RequestForm(), data)
        emailed = actions.deliver_request(
            session(),
            me(),
            action_id,
            stage=body["stage"],
            recipients=body["recipients"],
            now=utcnow(),
            link_days=cfg.link_days,
            followup_days=cfg.followup_days,
            domains=cfg.org_email_domains,
            keys=delivery_keys(),
        )  # NotFound for another ally's action: the 404 page
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"recipients": exc.messages}
        return _asked_badly(action_id, fields, typed)
    except Invalid as exc:
        return _asked_badly(action_id, exc.fields, typed)
    except Conflict as exc:  # a follow-up asked for before it is due, or with nothing to follow up
        return _action_page(action_id, 409, errors={"stage": exc.message}, form=request.form)
    after_commit(deliveries_waiting)  # the emails wait in the database before they go: none is lost
    flash(
        ngettext(
            "Allyloop is emailing %(num)s colleague a link of their own. You will not see it, "
            "and you will not know whether they answered.",
            "Allyloop is emailing %(num)s colleagues a link of their own. You will not see these links, "
            "and you will not know who answered.",
            len(emailed),
        ),
        "asked",
    )
    return redirect(url_for("ally.action", action_id=action_id, _anchor="asked"))


def _asked_badly(action_id: int, fields: Mapping[str, Any], typed: list[str]) -> Any:
    errors, address_errors = _address_errors(fields, typed)
    return _action_page(action_id, 400, errors=errors, address_errors=address_errors, form=request.form)


@bp.post("/actions/<id:action_id>/links")
@login_required
def share_links(action_id: int) -> Any:
    """Links the ally shares themselves, for people without a work address: shown once, and
    their answers never count toward results on their own (P8)."""
    cfg = current_app.config["ALLYLOOP"]
    # Only this form's fields, and always a count: the schema takes either addresses or a count.
    data = {name: value for name, value in _form("count").items() if name in ("stage", "count")}
    data.setdefault("count", "")
    try:
        body = load(RequestForm(), data)
        links = actions.create_request(
            session(),
            me(),
            action_id,
            now=utcnow(),
            link_days=cfg.link_days,
            followup_days=cfg.followup_days,
            **body,
        )  # NotFound for another ally's action: the 404 page
    except ValidationError as exc:
        errors = _in_words(errors_of(exc), REQUEST_FIELDS)
        return _action_page(action_id, 400, errors=errors, which="share", form=request.form)
    except Invalid as exc:
        errors = _in_words(exc.fields, REQUEST_FIELDS)
        return _action_page(action_id, 400, errors=errors, which="share", form=request.form)
    except Conflict as exc:  # a follow-up asked for before it is due, or with nothing to follow up
        return _action_page(action_id, 409, errors={"stage": exc.message}, which="share", form=request.form)
    action = actions.own_action(session(), me(), action_id)
    return render_template(
        "ally/links.html",
        action=action,
        stage=body["stage"],
        stage_text=stage_text(),
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
    view, progress = ally_results.pooled_reading(session(), me(), k=rules.k, comment_key=rules.comment_key)
    return render_template(
        "ally/results.html",
        r=view,
        progress=progress,
        progress_text=progress_text(),
        followup_days=_followup_days(),
        release_minutes=max(1, current_app.config["ALLYLOOP"].release_interval_seconds // 60),
        next_step_text=NEXT_STEP_TEXT,
        moment_text=moment_text(),
        verdict_text=verdict_text(),
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
        except ValidationError as exc:
            errors = _in_words(errors_of(exc), NOTE_FIELDS)
        except Invalid as exc:
            errors = _in_words(exc.fields, NOTE_FIELDS)
        else:
            return redirect(url_for("ally.note", saved=1))
        current = notes.Note(text=request.form.get("text", ""), updated_on=None)
    else:
        current = notes.read_note(session(), me(), key=_note_key())
    return render_template(
        "ally/note.html", note=current, errors=errors, saved="saved" in request.args, max_chars=notes.MAX_CHARS
    ), (400 if errors else 200)
