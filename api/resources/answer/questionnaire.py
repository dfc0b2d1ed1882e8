"""A questionnaire as the answer API describes it to a client (``QuestionnaireOut``)."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from feedback.questionnaires import AUDIENCES, Item, Questionnaire

AUDIENCE_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ally": "Only the person who sent you this link",
        "lead": "Only the group's ERG leads",
        "both": "Both the person who sent this link and the ERG leads",
        "none": "Nobody: keep my comment out of every report",
    }
)


def document(questionnaire: Questionnaire, path: str) -> dict[str, Any]:
    """Everything a client needs to render what this link asks about an action on ``path``."""
    return {
        "id": questionnaire.id,
        "stage": questionnaire.stage,
        "version": questionnaire.version,
        "title": questionnaire.title,
        "intro": questionnaire.intro,
        "items": [_item(item) for item in questionnaire.items_for(path)],
        "comment": {"prompt": questionnaire.comment_prompt, "max_chars": questionnaire.comment_max_chars},
        "audiences": [{"value": audience, "label": AUDIENCE_LABELS[audience]} for audience in AUDIENCES],
    }


def _item(item: Item) -> dict[str, Any]:
    public: dict[str, Any] = {"id": item.id, "construct": item.construct, "type": item.type, "prompt": item.prompt}
    if item.type == "scale":
        public.update(min=item.min, max=item.max, labels=dict(item.labels), allow_na=item.allow_na)
    else:
        public["options"] = [{"value": option.value, "label": option.label} for option in item.options]
    if item.type == "multi":
        public["exclusive"] = [value for value in item.option_values if value in item.exclusive]
    return public
