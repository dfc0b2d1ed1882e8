"""Action kinds and the path each one takes: signaling, or one of the mitigation paths."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from feedback.wording import N_

SIGNALING: Final = "signaling"
INTERPERSONAL: Final = "interpersonal"
ACCESS: Final = "access"
STRUCTURAL: Final = "structural"

PATHS: Final = (SIGNALING, INTERPERSONAL, ACCESS, STRUCTURAL)
MITIGATION_PATHS: Final = frozenset({INTERPERSONAL, ACCESS, STRUCTURAL})


@dataclass(frozen=True)
class Kind:
    id: str
    path: str  # signaling helps the person feel valued; the others remove a barrier
    name: str  # English, marked for translation: on every page and in reminder emails
    hint: str  # one line under the name in the kind picker


# Every kind, once. The picker, the API's choices, the slices and the emails derive from this.
ALL: Final = (
    Kind("amplify", SIGNALING, N_("Amplify"), N_("Repeat or point back to their idea so it is heard")),
    Kind("credit", SIGNALING, N_("Credit"), N_("Name them as the source of their work or idea")),
    Kind(
        "share_resource",
        ACCESS,
        N_("Share a resource"),
        N_("Pass on information, tools or budget they lacked"),
    ),
    Kind("confront_bias", INTERPERSONAL, N_("Confront bias"), N_("Interrupt a biased remark or behaviour")),
    Kind("mentor", INTERPERSONAL, N_("Mentor"), N_("Share what you know so they can navigate the place")),
    Kind("sponsor", ACCESS, N_("Sponsor"), N_("Put their name forward for an opportunity")),
    Kind("connect", ACCESS, N_("Introduce"), N_("Connect them with someone who can open a door")),
    Kind(
        "change_process",
        STRUCTURAL,
        N_("Change a process"),
        N_("Fix the rule or habit that created the barrier"),
    ),
    Kind("other", SIGNALING, N_("Something else"), N_("Any other support")),
)
BY_ID: Final[Mapping[str, Kind]] = MappingProxyType({kind.id: kind for kind in ALL})
KIND_PATHS: Final[Mapping[str, str]] = MappingProxyType({kind.id: kind.path for kind in ALL})
KINDS: Final = tuple(KIND_PATHS)
KIND_NAMES: Final[Mapping[str, str]] = MappingProxyType({kind.id: kind.name for kind in ALL})
VISIBILITIES: Final = ("public", "private")


def on_paths(paths: Collection[str]) -> tuple[str, ...]:
    """The kinds that take one of these paths, path by path in PATHS order (the picker's)."""
    return tuple(kind.id for path in PATHS if path in paths for kind in ALL if kind.path == path)


def kind_name(kind: str) -> str:
    """The kind's English name (kinds from older data that are no longer known read as they are)."""
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


def path_of(kind: str) -> str:
    return KIND_PATHS[kind]
