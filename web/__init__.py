"""Server-rendered pages. For now: the recipient page that works without JavaScript."""

from typing import Any

from flask import Blueprint, Response, render_template, request

from api.answer import link_rate_key
from api.clock import utcnow
from api.extensions import limiter, session
from api.jobs import answers_arrived
from feedback import kinds, questionnaires
from feedback.errors import Gone, Invalid, NotFound
from feedback.services import answers

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


@bp.route("/r/<token>", methods=["GET"])
@limiter.limit("60/minute", key_func=link_rate_key)
def answer_page(token: str) -> Any:
    try:
        opened = answers.open_link(session(), token, now=utcnow())
    except NotFound:
        return _render("link_missing.html", 404)
    except Gone:
        return _render("link_gone.html", 410)
    return _render(
        "answer.html", action=opened.action, q=opened.questionnaire, path=kinds.path_of(opened.action.kind), errors={}
    )


@bp.route("/r/<token>", methods=["POST"])
@limiter.limit("10/minute", key_func=link_rate_key)
def answer_submit(token: str) -> Any:
    try:
        opened = answers.open_link(session(), token, now=utcnow())
        q = opened.questionnaire
        try:
            parsed_answers, comment = q.parse_form(request.form.to_dict(flat=False))
        except questionnaires.InvalidAnswers as exc:  # show the form again, with the problems
            return _render(
                "answer.html", 400, action=opened.action, q=q, path=kinds.path_of(opened.action.kind), errors=exc.fields
            )
        receipt = answers.submit_plain(session(), token, answers=parsed_answers, comment=comment, now=utcnow())
        session().commit()
    except NotFound:
        return _render("link_missing.html", 404)
    except Gone:
        return _render("link_gone.html", 410)
    except Invalid as exc:
        return _render("link_gone.html", 400, problem=exc.message)
    answers_arrived()
    return _render("receipt.html", receipt=receipt)


@bp.after_request
def _no_cookies(response: Response) -> Response:
    # Recipient pages never set a cookie (P1).
    response.headers.pop("Set-Cookie", None)
    return response
