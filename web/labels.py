"""How action kinds read on every page: the name from feedback.kinds and a one-line hint, translated."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

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
