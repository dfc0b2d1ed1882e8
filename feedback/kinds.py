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
STAGES: Final = ("advice", "immediate", "followup_30", "followup_90")


def path_of(kind: str) -> str:
    return KIND_PATHS[kind]
