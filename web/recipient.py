"""The recipient page: no account, no cookie.

With JavaScript the browser seals the answer itself (web/static/seal.js, answer.js) and
posts only the envelope to the JSON API; the key, HPKE info and padding it needs are
rendered into the form's data- attributes. Without JavaScript the plain form posts here
and the server seals it at once. A form sent back for a second look keeps what was
entered: the submitted values go back into the page and nowhere else.
"""

import functools
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from api import commit
from api.clock import utcnow
from api.extensions import limiter, link_rate_key, session
from api.i18n import in_words, localized
from api.jobs.release import answers_arrived
from crypto.encoding import b64u_encode
from feedback import kinds
from feedback.errors import Gone, Invalid, NotFound
from feedback.services import answers
from web.answer_form import parse_form

bp = Blueprint("recipient", __name__)


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@bp.route("/r/<token>", methods=["GET"])
@limiter.limit("60/minute", key_func=link_rate_key)
def answer_page(token: str) -> Any:
    return _answer_form(token)


@bp.route("/r/<token>", methods=["POST"])
@limiter.limit("10/minute", key_func=link_rate_key)
def answer_submit(token: str) -> Any:
    form = request.form.to_dict(flat=False)
    try:
        seal = functools.partial(
            answers.seal_form,
            token=token,
            read_form=functools.partial(parse_form, form=form),
            now=utcnow(),
            people_key=current_app.config["RECIPIENT_KEY"],
        )
        receipt = commit.store_answer(seal)  # the JSON API's store: committed and synced (P7)
    except Invalid as exc:  # show the form again, with what needs a second look
        return _answer_form(token, 400, exc.fields, form)
    except (NotFound, Gone) as exc:
        return _link_problem(exc)
    answers_arrived()
    return _render("recipient/receipt.html", receipt=receipt)


def _answer_form(
    token: str, status: int = 200, errors: dict[str, str] | None = None, submitted: dict[str, list[str]] | None = None
) -> Any:
    try:
        opened = answers.open_link(session(), token, now=utcnow())
    except (NotFound, Gone) as exc:
        return _link_problem(exc)
    questionnaire = localized(opened.questionnaire)  # its wording in the reader's language
    items = questionnaire.items_for(kinds.path_of(opened.action.kind))
    sealing = {
        "kid": opened.kid,
        "public_key": b64u_encode(opened.public_key),
        "info": b64u_encode(opened.info),
        "pad_to": opened.questionnaire.pad_to,
        "endpoint": url_for("answer.submit", token=token),
    }
    return _render(
        "recipient/answer.html",
        status,
        action=opened.action,
        q=questionnaire,
        items=items,
        item_prompts={item.id: item.prompt for item in items} | {"comment": questionnaire.comment_prompt},
        org_name=current_app.config["ORG_NAME"],
        sealing=sealing,
        errors={field: in_words(message) for field, message in (errors or {}).items()},
        submitted=submitted or {},
    )


def _link_problem(exc: NotFound | Gone) -> tuple[str, int]:
    return (
        _render("recipient/link_missing.html", 404)
        if isinstance(exc, NotFound)
        else _render("recipient/link_gone.html", 410)
    )
