"""Action kinds and the path each one takes: signaling, or one of the mitigation paths."""

from typing import Final

SIGNALING: Final = "signaling"
INTERPERSONAL: Final = "interpersonal"
ACCESS: Final = "access"
STRUCTURAL: Final = "structural"

PATHS: Final = (SIGNALING, INTERPERSONAL, ACCESS, STRUCTURAL)
MITIGATION_PATHS: Final = frozenset({INTERPERSONAL, ACCESS, STRUCTURAL})

# kind -> path. Signaling helps the person feel valued; the others remove a barrier.
KIND_PATHS: Final[dict[str, str]] = {
    "amplify": SIGNALING,
    "credit": SIGNALING,
    "share_resource": ACCESS,
    "confront_bias": INTERPERSONAL,
    "mentor": INTERPERSONAL,
    "sponsor": ACCESS,
    "connect": ACCESS,
    "change_process": STRUCTURAL,
    "other": SIGNALING,
}

KINDS: Final = tuple(KIND_PATHS)
VISIBILITIES: Final = ("public", "private")


def N_(text: str) -> str:
    """Marks English text for the translation catalogue (`make messages`); whoever shows it
    translates it then: the pages with Flask-Babel, reminder emails with the gettext given."""
    return text


# How each kind reads, on every page and in reminder emails: one table, translated when shown.
KIND_NAMES: Final = {
    "amplify": N_("Amplify"),
    "credit": N_("Credit"),
    "share_resource": N_("Share a resource"),
    "confront_bias": N_("Confront bias"),
    "mentor": N_("Mentor"),
    "sponsor": N_("Sponsor"),
    "connect": N_("Introduce"),
    "change_process": N_("Change a process"),
    "other": N_("Something else"),
}


def kind_name(kind: str) -> str:
    """The kind's English name (kinds from older data that are no longer known read as they are)."""
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


def path_of(kind: str) -> str:
    return KIND_PATHS[kind]
