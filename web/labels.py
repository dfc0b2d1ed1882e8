"""How action kinds and stages read on every page, translated: a kind's name from feedback.kinds
and a one-line hint; a stage's label from feedback.stages, with the follow-up days configured."""

from flask import current_app
from flask_babel import gettext

from feedback import stages
from feedback.kinds import ALL, kind_name


def kind_label(kind: str) -> str:
    """The kind's name as the pages show it, in the reader's language."""
    return str(gettext(kind_name(kind)))


def kind_text() -> dict[str, tuple[str, str]]:
    """Each kind's name and hint, translated, for the templates."""
    return {kind.id: (kind_label(kind.id), str(gettext(kind.hint))) for kind in ALL}


def moment_text() -> dict[str, str]:
    """How "does it last?" names its moments: right after, then each follow-up with its days."""
    days = current_app.config["ALLYLOOP"].followup_days
    return {stage: stages.label(stage, days, gettext) for stage in stages.LASTING}


def due_text() -> dict[str, str]:
    """How a sentence names a follow-up that came due ("your 30-day follow-up")."""
    days = current_app.config["ALLYLOOP"].followup_days
    return {stage: stages.due_label(stage, days, gettext) for stage in stages.FOLLOWUPS}
