"""How action kinds read on every page: one name and a one-line hint each, translated."""

from flask_babel import lazy_gettext as _l

KIND_TEXT = {
    "amplify": (_l("Amplify"), _l("Repeat or point back to their idea so it is heard")),
    "credit": (_l("Credit"), _l("Name them as the source of their work or idea")),
    "other": (_l("Something else"), _l("Any other support")),
    "confront_bias": (_l("Confront bias"), _l("Interrupt a biased remark or behaviour")),
    "mentor": (_l("Mentor"), _l("Share what you know so they can navigate the place")),
    "share_resource": (_l("Share a resource"), _l("Pass on information, tools or budget they lacked")),
    "sponsor": (_l("Sponsor"), _l("Put their name forward for an opportunity")),
    "connect": (_l("Introduce"), _l("Connect them with someone who can open a door")),
    "change_process": (_l("Change a process"), _l("Fix the rule or habit that created the barrier")),
}


def kind_label(kind: str) -> str:
    """The kind's name as the pages show it (unknown kinds from older data read as they are)."""
    text = KIND_TEXT.get(kind)
    return str(text[0]) if text else kind.replace("_", " ").capitalize()
