"""What the reads return: typed, frozen values, exact (never rounded for display).

``services.results``, ``services.load`` and ``followups.followup_rate`` build these; the API's
schemas serialise them and the pages word them, each rounding as it shows them. Every number
in them was released under the release rules (``feedback.release``): a cell the release hid is
a ``Suppressed`` value, never a number.

A scope's view is kept as JSON (``ScopeView.view``); ``view_from_json`` reads it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class ItemCounts:
    """One question's released counts: how many answered it, and how often each value came up
    (a scale point as its digits, "na", a choice or an option of a multi question)."""

    answered: int
    counts: Mapping[str, int]


Items = Mapping[str, ItemCounts]  # item id -> its counts


@dataclass(frozen=True)
class Cell:
    """A slice cell the release showed: the sum of the cohorts that showed it. ``complete`` is
    False when some cohort hid it (or was not cut by its dimension), so it covers fewer answers
    than the cell really holds."""

    responses: int
    items: Items
    complete: bool


@dataclass(frozen=True)
class Suppressed:
    """A cell (or a figure) the release rules keep hidden: nothing more. Not which rule hid it
    (each narrows what the cell holds: "hidden to protect another" says it holds at least k),
    nor how many answers or allies it holds, nor how many more would show it: with k known,
    "2 more" says the cell holds k - 2, which undoes the suppression.
    """

    @property
    def suppressed(self) -> bool:
        return True


Slice = Cell | Suppressed


@dataclass(frozen=True)
class QuestionnaireView:
    """One questionnaire's released answers in a scope: the sum of its cohorts."""

    responses: int
    cohorts: int
    declined: int  # answers that said only "I'd rather not answer"
    items: Items
    slices: Mapping[str, Mapping[str, Slice]]  # dimension (kind, path, ...) -> cell -> its figures


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM, the month its cohorts were released
    responses: int


@dataclass(frozen=True)
class Immediate:
    """Right after acting: answers, the share who wanted the help (0-1), and the mean (1-5) of
    the signaling and of the mitigation questions. None where no one answered them."""

    responses: int
    wanted: float | None
    signaling: float | None
    mitigation: float | None
    complete: bool | None = None  # for a slice cell; None overall


@dataclass(frozen=True)
class Later:
    """A follow-up: answers, the mean lasting difference (1-5), the share for whom the problem
    came up less (0-1) and the share whose ally checked back (0-1)."""

    responses: int
    lasting: float | None
    recurred_less: float | None
    ally_checked_back: float | None
    complete: bool | None = None


@dataclass(frozen=True)
class Moments:
    """One row of "does it last?": right after, the follow-ups pooled, and at 30 and 90 days.
    None where nothing was released for that moment."""

    immediate: Immediate | Suppressed | None
    followup: Later | Suppressed | None
    followup_30: Later | Suppressed | None
    followup_90: Later | Suppressed | None


@dataclass(frozen=True)
class LastingRow(Moments):
    path: str
    mitigation: bool  # the path removes a barrier (not signaling)


@dataclass(frozen=True)
class Lasting:
    overall: Moments
    by_path: Mapping[str, LastingRow]
    by_kind: Mapping[str, LastingRow]


@dataclass(frozen=True)
class Released:
    """A subject's (an ally's or a group's) released results."""

    responses: int
    cohorts: int
    questionnaires: Mapping[str, QuestionnaireView]
    trend: tuple[Month, ...]
    comments: tuple[str, ...]
    unreadable_comments: int
    comments_total: int
    lasting: Lasting

    @property
    def items(self) -> Mapping[str, Items]:
        return {qid: view.items for qid, view in self.questionnaires.items()}


@dataclass(frozen=True)
class FollowupRate:
    """Actions whose ally followed up, over closed months; ``actions`` is None while suppressed."""

    as_of: date
    actions: int | None = None  # actions counted
    followed_up: int | None = None  # of those, followed up in time

    @property
    def suppressed(self) -> bool:
        return self.actions is None

    @property
    def share(self) -> float | None:
        return None if not self.actions or self.followed_up is None else self.followed_up / self.actions


@dataclass(frozen=True)
class Period:
    """One or more whole months, first to last. ``links`` is None while suppressed."""

    first: date
    last: date
    links: int | None
    answers: int
    declined: int

    @property
    def suppressed(self) -> bool:
        return self.links is None


@dataclass(frozen=True)
class ResponseLoad:
    as_of: date  # the first day of this month: only months before it count
    periods: tuple[Period, ...]

    @property
    def shown(self) -> tuple[Period, ...]:
        return tuple(p for p in self.periods if p.links is not None)

    @property
    def links(self) -> int:
        return sum(p.links or 0 for p in self.shown)

    @property
    def answers(self) -> int:
        return sum(p.answers for p in self.shown)

    @property
    def declined(self) -> int:
        return sum(p.declined for p in self.shown)

    @property
    def response_rate(self) -> float | None:
        """Answers released per link sent in the shown periods: a floor (see ``services.load``)."""
        return self.answers / self.links if self.links else None


@dataclass(frozen=True)
class AllyFeedback:
    k: int
    released: Released


@dataclass(frozen=True)
class GroupInsights:
    k: int
    min_allies: int
    released: Released
    followed_up: FollowupRate | None = None  # with a day to read them on
    response_load: ResponseLoad | None = None


def share(part: int, whole: int) -> float | None:
    """A mean or a share, exact; None when the whole is empty."""
    return part / whole if whole else None


# --- from the stored JSON ------------------------------------------------------------------


def items_from_json(items: Mapping[str, Any]) -> dict[str, ItemCounts]:
    return {
        item_id: ItemCounts(int(item["answered"]), {str(v): int(n) for v, n in item["counts"].items()})
        for item_id, item in items.items()
    }


def slice_from_json(cell: Mapping[str, Any]) -> Slice:
    if cell.get("suppressed"):
        return Suppressed()
    return Cell(int(cell["responses"]), items_from_json(cell["items"]), bool(cell.get("complete", True)))


def view_from_json(view: Mapping[str, Any]) -> QuestionnaireView:
    """A view as ``feedback.release.combine.combine`` (and so ``ScopeView.view``) gives it."""
    return QuestionnaireView(
        responses=int(view["responses"]),
        cohorts=int(view["cohorts"]),
        declined=int(view.get("declined", 0)),
        items=items_from_json(view["items"]),
        slices={
            dimension: {cell: slice_from_json(shown) for cell, shown in cells.items()}
            for dimension, cells in view.get("slices", {}).items()
        },
    )
