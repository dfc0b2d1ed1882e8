"""A plain reading of an ally's pooled results, and what to try next.

Pure functions over the value ``services.results.ally_feedback`` returns and the kinds of
the actions the ally logged: no database, no Flask. Items are found by the construct they
measure (DESIGN §5), not by id, so a new questionnaire version reads the same way.

Next steps are codes; the page words them (and translates them).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from feedback import figures, kinds, questionnaires, stages
from feedback.figures import AllyFeedback, ItemCounts, Released
from feedback.measures import chosen

# Next-step codes, most important first.
ASK_FIRST: Final = "ask_first"  # a fair share did not want the help: ask before acting
TRY_MITIGATION: Final = "try_mitigation"  # mostly affirmation so far: an introduction or a process fix
BEYOND_SIGNALING: Final = "beyond_signaling"  # people felt recognised, but few barriers moved
FOLLOW_UP: Final = "follow_up"  # answers about the moment, none yet about whether it lasted
NEXT_STEPS: Final = (ASK_FIRST, TRY_MITIGATION, BEYOND_SIGNALING, FOLLOW_UP)

# "Mostly": at least two thirds. A pattern needs a few data points before it is named.
MOSTLY: Final = 2 / 3
MIN_ACTIONS: Final = 3
UNWANTED_SHARE: Final = 0.2  # one "no" in five is worth asking first about
STRONG_SIGNAL: Final = 0.5
WEAK_MITIGATION: Final = 1 / 3
STRONG_POINTS: Final = frozenset({"4", "5"})  # "quite" or "very much" on a 1-5 scale
STRONG_CHOICES: Final = frozenset({"yes"})  # e.g. "addressed the process": yes
UNSURE_CHOICES: Final = frozenset({"na", "dont_know", "unsure"})  # not counted either way


@dataclass(frozen=True)
class Tally:
    """How many answered an item (or a set of items) and how often each value came up."""

    answered: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # value -> the questionnaire's wording

    def share(self, *values: str) -> float:
        return sum(self.counts.get(v, 0) for v in values) / self.answered if self.answered else 0.0

    def ranked(self) -> list[tuple[str, int]]:
        """Values, most frequent first (ties by value, so the order is stable)."""
        return sorted(((v, n) for v, n in self.counts.items() if n), key=lambda vn: (-vn[1], vn[0]))

    def leaders(self) -> list[str]:
        """The values chosen most often: one, or several when they tie (never one picked from a tie)."""
        ranked = self.ranked()
        return [v for v, n in ranked if n == ranked[0][1]] if ranked else []


@dataclass(frozen=True)
class Strength:
    """How many ratings said a construct was strong (4-5, or "yes"), of the ratings given, and
    how many people gave them: a construct asks several questions, so one person rates it
    several times. ``people`` is, per questionnaire, the most who answered any one of its
    questions (none skips them all), summed."""

    strong: int = 0
    rated: int = 0
    people: int = 0

    @property
    def share(self) -> float:
        return self.strong / self.rated if self.rated else 0.0


@dataclass(frozen=True)
class Reading:
    k: int
    responses: int  # released answers in all
    cohorts: int
    logged_signaling: int  # of the ally's own actions: which path they took
    logged_mitigation: int
    wanted: Tally  # "was it wanted?" yes / partly / no / unsure
    preferences: Tally  # "what would you prefer?" (advice and immediate)
    recognition: Tally  # public / private / depends
    felt_signaling: Strength  # recognised, seen as capable, safer to speak
    felt_mitigation: Strength  # treated differently, access, the process itself
    lasting: Strength  # follow-ups: a lasting difference
    comments: Sequence[str]  # the newest released, oldest of them first
    unreadable_comments: int
    comments_total: int  # released in all: more than shown once there are more than a page
    next_steps: tuple[str, ...]
    over_time: "Lasting"  # did it last? right after vs 30 vs 90 days

    @property
    def released(self) -> bool:
        return self.responses > 0


def _items_by_construct(released: Released) -> dict[str, list[tuple[questionnaires.Item, ItemCounts, str]]]:
    """construct -> [(item, released counts, questionnaire id)] across every questionnaire with
    released answers."""
    found: dict[str, list[tuple[questionnaires.Item, ItemCounts, str]]] = {}
    for questionnaire_id, items in sorted(released.items.items()):
        try:
            questionnaire = questionnaires.load(questionnaire_id)
        except questionnaires.UnknownQuestionnaire:
            continue
        for item in questionnaire.items:
            if item.id in items:
                found.setdefault(item.construct, []).append((item, items[item.id], questionnaire_id))
    return found


def _tally(entries: Iterable[tuple[questionnaires.Item, ItemCounts, str]]) -> Tally:
    answered, counts, labels = 0, Counter[str](), {}
    for item, released, _questionnaire in entries:
        answered += released.answered
        counts.update(released.counts)
        labels.update({option.value: option.label for option in item.options})
    return Tally(answered=answered, counts=dict(counts), labels=labels)


def _strength(entries: Iterable[tuple[questionnaires.Item, ItemCounts, str]]) -> Strength:
    listed = list(entries)
    strong, rated = chosen([c for _i, c, _q in listed], STRONG_POINTS | STRONG_CHOICES, ignore=UNSURE_CHOICES)
    most: dict[str, int] = {}
    for _item, counts, questionnaire_id in listed:
        most[questionnaire_id] = max(most.get(questionnaire_id, 0), counts.answered)
    return Strength(strong=strong, rated=rated, people=sum(most.values()))


def next_steps(
    *,
    logged_signaling: int,
    logged_mitigation: int,
    wanted: Tally,
    felt_signaling: Strength,
    felt_mitigation: Strength,
    answered_now: int,
    answered_later: int,
    k: int,
) -> tuple[str, ...]:
    """What to try next, most important first; empty when nothing stands out."""
    steps = []
    if wanted.answered >= k and wanted.share("no") >= UNWANTED_SHARE:
        steps.append(ASK_FIRST)
    logged = logged_signaling + logged_mitigation
    if logged >= MIN_ACTIONS and logged_signaling / logged >= MOSTLY:
        steps.append(TRY_MITIGATION)
    elif (
        felt_signaling.rated >= k
        and felt_mitigation.rated >= k
        and felt_signaling.share >= STRONG_SIGNAL
        and felt_mitigation.share < WEAK_MITIGATION
    ):
        steps.append(BEYOND_SIGNALING)
    if answered_now and not answered_later:
        steps.append(FOLLOW_UP)
    return tuple(steps)


def read(feedback: AllyFeedback, action_kinds: Iterable[str]) -> Reading:
    """Read ``ally_feedback``'s value alongside the kinds of the ally's own actions."""
    released = feedback.released
    k = feedback.k
    paths = Counter(kinds.path_of(kind) for kind in action_kinds if kind in kinds.KIND_PATHS)
    logged_signaling = paths[kinds.SIGNALING]
    logged_mitigation = sum(paths[p] for p in kinds.MITIGATION_PATHS)
    by_construct = _items_by_construct(released)
    wanted = _tally(by_construct.get("wanted", []))
    felt_signaling = _strength(by_construct.get("signaling", []))
    felt_mitigation = _strength(by_construct.get("mitigation", []))
    lasting = _strength(by_construct.get("lasting", []))
    by_stage = Counter[str]()
    for questionnaire_id, view in released.questionnaires.items():
        stage = questionnaire_id.split(".", 1)[0]
        by_stage[stage] += view.responses
    return Reading(
        k=k,
        responses=released.responses,
        cohorts=released.cohorts,
        logged_signaling=logged_signaling,
        logged_mitigation=logged_mitigation,
        wanted=wanted,
        preferences=_tally(by_construct.get("preference", [])),
        recognition=_tally(by_construct.get("visibility_preference", [])),
        felt_signaling=felt_signaling,
        felt_mitigation=felt_mitigation,
        lasting=lasting,
        comments=list(released.comments),
        unreadable_comments=released.unreadable_comments,
        comments_total=released.comments_total,
        next_steps=next_steps(
            logged_signaling=logged_signaling,
            logged_mitigation=logged_mitigation,
            wanted=wanted,
            felt_signaling=felt_signaling,
            felt_mitigation=felt_mitigation,
            answered_now=by_stage["immediate"],
            answered_later=by_stage["followup"],
            k=k,
        ),
        over_time=did_it_last(released.lasting),
    )


# "Did it last?": right after, at 30 days and at 90 days, read from ``released.lasting``.
# A moment's state and the overall verdict are codes; the page words them.
SHOWN: Final = "shown"
NOT_YET: Final = "not_yet"  # nothing released for this moment
SUPPRESSED: Final = "suppressed"  # released, but hidden by the cohort rules (fewer than k)
MOMENTS: Final = stages.LASTING

HELD: Final = "held"  # the latest follow-up says it made a lasting difference
MIXED: Final = "mixed"
FADED: Final = "faded"
TOO_EARLY: Final = "too_early"  # no follow-up released yet
HELD_FROM: Final = 3.5  # mean lasting difference, 1-5
FADED_BELOW: Final = 2.5


@dataclass(frozen=True)
class Moment:
    """One moment of "did it last?": its state, and its numbers when shown.

    Right after: ``wanted`` (percent who wanted it), ``signaling`` and ``mitigation``
    (means, 1-5). At a follow-up: ``lasting`` (mean, 1-5) and ``recurred_less`` (percent
    for whom the problem came up less or not at all).
    """

    stage: str
    state: str
    responses: int = 0
    partial: bool = False  # some released cohorts could not be told apart by stage
    wanted: int | None = None
    signaling: float | None = None
    mitigation: float | None = None
    lasting: float | None = None
    recurred_less: int | None = None


@dataclass(frozen=True)
class Lasting:
    moments: tuple[Moment, ...]
    verdict: str

    @property
    def any_shown(self) -> bool:
        return any(moment.state == SHOWN for moment in self.moments)


def _percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def _one_decimal(mean: float | None) -> float | None:
    return None if mean is None else round(mean, 1)


def _moment(stage: str, cell: figures.Immediate | figures.Later | figures.Suppressed | None) -> Moment:
    if cell is None:
        return Moment(stage, NOT_YET)
    if isinstance(cell, figures.Suppressed):
        return Moment(stage, SUPPRESSED)
    if isinstance(cell, figures.Immediate):
        return Moment(
            stage,
            SHOWN,
            responses=cell.responses,
            partial=cell.complete is False,
            wanted=_percent(cell.wanted),
            signaling=_one_decimal(cell.signaling),
            mitigation=_one_decimal(cell.mitigation),
        )
    return Moment(
        stage,
        SHOWN,
        responses=cell.responses,
        partial=cell.complete is False,
        lasting=_one_decimal(cell.lasting),
        recurred_less=_percent(cell.recurred_less),
    )


def did_it_last(lasting: figures.Lasting | None) -> Lasting:
    """Right after vs 30 days vs 90 days, overall, from ``released.lasting``.

    The verdict follows the latest follow-up with a lasting score: held from
    ``HELD_FROM``, faded below ``FADED_BELOW``, mixed between; too early without one.
    Every number was already released under the cohort rules; nothing is recomputed.
    """
    overall = None if lasting is None else lasting.overall
    moments = tuple(_moment(stage, None if overall is None else getattr(overall, stage)) for stage in MOMENTS)
    scores = [m.lasting for m in moments[1:] if m.state == SHOWN and m.lasting is not None]
    if not scores:
        verdict = TOO_EARLY
    elif scores[-1] >= HELD_FROM:
        verdict = HELD
    elif scores[-1] < FADED_BELOW:
        verdict = FADED
    else:
        verdict = MIXED
    return Lasting(moments=moments, verdict=verdict)
