"""The recipient page's no-JavaScript form, read into the answers a browser would seal.

Items are fields named ``item-<id>`` (several values for a multi item, scale values as
decimal strings or ``"na"``); the comment is ``comment`` with its ``audience``. Blank values
mean skipped; fields with other names are ignored. A form with a ``decline`` field ("I'd
rather not answer") gives ``({}, None)``. What is read then passes the questionnaire's own
checks, the same as an opened envelope's answers.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from feedback.questionnaires import Answers, Comment, InvalidAnswers, Questionnaire
from feedback.text import clean
from feedback.wording import N_

ITEM_PREFIX: Final = "item-"
_INTEGER = re.compile(r"-?[0-9]{1,9}")


def parse_form(questionnaire: Questionnaire, form: Mapping[str, Sequence[str]]) -> tuple[Answers, Comment | None]:
    """Validated ``(answers, comment)``, or ``InvalidAnswers`` naming every field at fault."""
    if "decline" in form:
        return {}, None
    errors: dict[str, str] = {}
    raw: dict[str, object] = {}
    for name, submitted in form.items():
        if not name.startswith(ITEM_PREFIX):
            continue
        item_id = name.removeprefix(ITEM_PREFIX)
        values = _non_blank(submitted)
        if not values:
            continue
        try:
            item = questionnaire.item(item_id)
        except KeyError:
            raw[item_id] = values  # validate_answers names the unknown item
            continue
        if item.type == "multi":
            raw[item_id] = values
        elif len(values) > 1:
            errors[item_id] = N_("Choose only one answer.")
        else:
            (value,) = values
            raw[item_id] = int(value) if item.type == "scale" and _INTEGER.fullmatch(value) else value
    answers: Answers = {}
    try:
        answers = questionnaire.validate_answers({key: value for key, value in raw.items() if key not in errors})
    except InvalidAnswers as exc:
        errors.update(exc.fields)
    comment: Comment | None = None
    try:
        comment = _comment(questionnaire, form)
    except InvalidAnswers as exc:
        errors.update(exc.fields)
    if errors:
        raise InvalidAnswers(errors)
    return answers, comment


def _comment(questionnaire: Questionnaire, form: Mapping[str, Sequence[str]]) -> Comment | None:
    # A box holding only invisible characters was left blank: no comment, as when empty.
    texts = [text for text in _non_blank(form.get("comment", ())) if clean(text, multiline=True)]
    if not texts:
        return None
    audiences = _non_blank(form.get("audience", ()))
    if len(texts) > 1 or len(audiences) > 1:
        raise InvalidAnswers({"comment": N_("Send one comment with one audience.")})
    return questionnaire.validate_comment({"text": texts[0], "audience": audiences[0] if audiences else None})


def _non_blank(submitted: str | Sequence[str]) -> list[str]:
    values: Iterable[object] = [submitted] if isinstance(submitted, str) else submitted
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]
