"""How action kinds and stages read on every page, translated: a kind's name from feedback.kinds
and a one-line hint; a stage's label from feedback.stages, with the follow-up days configured."""

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from feedback import stages
from feedback.kinds import KIND_NAMES, kind_name

KIND_HINTS = {
    "amplify": _l("Repeat or point back to their idea so it is heard"),
    "credit": _l("Name them as the source of their work or idea"),
    "other": _l("Any other support"),
    "confront_bias": _l("Interrupt a biased remark or behaviour"),
    "mentor": _l("Share what you know so they can navigate the place"),
    "share_resource": _l("Pass on information, tools or budget they lacked"),
    "sponsor": _l("Put their name forward for an opportunity"),
    "connect": _l("Connect them with someone who can open a door"),
    "change_process": _l("Fix the rule or habit that created the barrier"),
}


def kind_label(kind: str) -> str:
    """The kind's name as the pages show it, in the reader's language."""
    return str(gettext(kind_name(kind)))


def kind_text() -> dict[str, tuple[str, str]]:
    """Each kind's name and hint, translated, for the templates."""
    return {kind: (kind_label(kind), str(KIND_HINTS[kind])) for kind in KIND_NAMES}


def moment_text() -> dict[str, str]:
    """How "does it last?" names its moments: right after, then each follow-up with its days."""
    days = current_app.config["ALLYLOOP"].followup_days
    return {stage: stages.label(stage, days, gettext) for stage in stages.LASTING}


def due_text() -> dict[str, str]:
    """How a sentence names a follow-up that came due ("your 30-day follow-up")."""
    days = current_app.config["ALLYLOOP"].followup_days
    return {stage: stages.due_label(stage, days, gettext) for stage in stages.FOLLOWUPS}
