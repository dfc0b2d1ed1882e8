"""The stages a request asks at, in order: one definition of each (its questionnaire, when
it comes due, and how it reads), so no list of stages is written anywhere else.

A follow-up's offset is not fixed: FOLLOWUP_DAYS (``Settings.followup_days``, 30 and 90 by
default) sets it, so its labels take the days from there rather than saying "30 days".
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from feedback.wording import N_


@dataclass(frozen=True)
class Stage:
    id: str
    questionnaire: str  # what a new request at this stage asks
    label: str  # English, marked for translation; a follow-up's takes %(days)s
    due_label: str = ""  # a follow-up that came due, in a sentence ("Your 30-day follow-up on ...")
    followup: int | None = None  # which of FOLLOWUP_DAYS sets its offset; None: asked at once

    def offset(self, followup_days: Sequence[int]) -> int | None:
        """Days after the first immediate request when this stage comes due (None: at once)."""
        return None if self.followup is None else followup_days[self.followup]


ADVICE: Final = Stage("advice", "advice.v1", N_("Before acting"))
IMMEDIATE: Final = Stage("immediate", "immediate.v2", N_("Right after"))
FIRST_FOLLOWUP: Final = Stage(
    "followup_30", "followup.v2", N_("After about %(days)s days"), N_("%(days)s-day follow-up"), followup=0
)
SECOND_FOLLOWUP: Final = Stage(
    "followup_90", "followup.v2", N_("After about %(days)s days"), N_("%(days)s-day follow-up"), followup=1
)

STAGES: Final = (ADVICE, IMMEDIATE, FIRST_FOLLOWUP, SECOND_FOLLOWUP)  # in the order they are asked
BY_ID: Final[Mapping[str, Stage]] = MappingProxyType({stage.id: stage for stage in STAGES})
IDS: Final = tuple(stage.id for stage in STAGES)
FOLLOWUPS: Final = tuple(stage.id for stage in STAGES if stage.followup is not None)
# "Does it last?" sets these side by side: right after, then each follow-up.
LASTING: Final = (IMMEDIATE.id, *FOLLOWUPS)


def label(stage: str, followup_days: Sequence[int], gettext: Callable[[str], str]) -> str:
    """How a stage reads on a page, translated, with the follow-up's real days."""
    return gettext(BY_ID[stage].label) % {"days": BY_ID[stage].offset(followup_days)}


def due_label(stage: str, followup_days: Sequence[int], gettext: Callable[[str], str]) -> str:
    """A follow-up that came due, as a sentence names it, with its real days."""
    return gettext(BY_ID[stage].due_label) % {"days": BY_ID[stage].offset(followup_days)}
