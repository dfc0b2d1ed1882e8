"""Release rules: how opened responses become cohort documents, and documents a view.

Pure functions and values: no database, no Flask, no I/O.

Responses are released only as whole cohorts. A cohort is every pending response of one
scope, released at once when its pending answers to delivered requests come from at least
``k`` distinct recipients (and from at least ``min_allies`` distinct allies; with
``each_ally``, still so once any one ally's answers are taken away: see ``PoolRule``).

Only a *voice* counts toward k: an answer to a link the platform emailed to one named
colleague, who alone held it (P8). Answers to links an ally holds ride along in a cohort
and in its numbers, but never make a cohort or a cell safe to show: an ally who answers
their own links adds nothing toward anyone's k. A recipient asked twice is one voice.

Each cohort becomes one immutable *cohort document*, a JSON-able dict
(``feedback.release.cohorts``); a view is the sum of a scope's documents
(``feedback.release.combine``). Each view change adds a whole cohort, so no two views differ
by fewer than ``k`` recipients' answers.

Within a document, slices (by path, kind, visibility, ...) are protected so that nothing
a reader can compute from the visible numbers -- totals, differences of a slice and the
slices nested in it, or any other sum and difference -- covers fewer than ``k``
recipients or fewer than ``min_allies`` allies. See ``CohortBuilder.build``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import NamedTuple

MIN_K = 3  # the design never releases fewer than three responses at a time (P3)

Answer = str | int | list[str]


class PoolRule(NamedTuple):
    """Who must stand behind any number a scope shows."""

    min_allies: int
    each_ally: bool  # still k answers from min_allies allies with any one ally's taken away


ALLY_RULE = PoolRule(min_allies=1, each_ally=False)  # an ally's own results
# A lead never sees one ally's results, even a lead who is an ally too and knows their own (P5).
GROUP_RULE = PoolRule(min_allies=2, each_ally=True)


def rule_for(scope_kind: str) -> PoolRule:
    return GROUP_RULE if scope_kind == "group" else ALLY_RULE


def safe_pool(responses: int, allies: int, largest_share: int, *, k: int, min_allies: int, each_ally: bool) -> bool:
    """The one test every shown number passes: k answers from min_allies allies and, with
    each_ally, still that once the ally with the largest share is taken away."""
    if responses < k or allies < min_allies:
        return False
    return not each_ally or (responses - largest_share >= k and allies - 1 >= min_allies)


def safe_shares(shares: Mapping[int, int], *, k: int, rule: PoolRule) -> bool:
    """``safe_pool`` for counts kept per ally (answers, actions, links): ally id -> count."""
    largest = max(shares.values(), default=0)
    return safe_pool(
        sum(shares.values()), len(shares), largest, k=k, min_allies=rule.min_allies, each_ally=rule.each_ally
    )


Voice = tuple[int, Hashable]  # (ally id, recipient): someone the platform asked for that ally


def safe_voices(voices: Iterable[Voice], *, k: int, rule: PoolRule) -> bool:
    """Whether answers from these voices may be shown: k distinct recipients, asked by
    min_allies allies and, under ``each_ally``, still that with any one ally's voices taken
    away (a recipient asked by two allies stays when one of them is taken away).

    Adding voices never makes a safe group unsafe, which the audit's search relies on.
    """
    # Each recipient's first ally, and which recipients more than one ally asked: a release
    # checks groups of up to every recipient of a cohort, and a set per recipient cost a
    # release of 100,000 answers tens of megabytes at each check.
    first: dict[Hashable, int] = {}
    shared: set[Hashable] = set()
    allies: set[int] = set()
    for ally, person in voices:
        allies.add(ally)
        if first.setdefault(person, ally) != ally:
            shared.add(person)
    if len(first) < k or len(allies) < rule.min_allies:
        return False
    if not rule.each_ally:
        return True
    # What taking one ally away loses: the recipients only that ally asked.
    only: Counter[int] = Counter(ally for person, ally in first.items() if person not in shared)
    return len(allies) - 1 >= rule.min_allies and len(first) - max(only.values(), default=0) >= k


class Opened(NamedTuple):
    """One decrypted, validated response, ready to be counted.

    ``answers`` maps item ids to a choice (str), a scale (int, or "na"), or the chosen
    options of a multi item (list of str); ``{}`` is "I'd rather not answer".
    ``slices`` gives the response's cell in every dimension the cohort is cut by.
    ``person`` stands for the recipient of a delivered request (the same value for the same
    person); None for an answer to a link the ally held, which counts toward no k (P8).
    """

    answers: Mapping[str, Answer]
    ally_id: int
    slices: Mapping[str, str]
    person: Hashable | None = None


class NotReleasable(Exception):
    """Too few recipients, or too few distinct allies, to release them as a cohort."""


def check_thresholds(k: int, min_allies: int) -> None:
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}")
    if min_allies < 1:
        raise ValueError(f"min_allies must be at least 1, got {min_allies}")


def ready_voices(voices: Iterable[Voice], *, k: int, rule: PoolRule) -> bool:
    """Whether pending answers from these voices may form a cohort (``safe_voices``)."""
    check_thresholds(k, rule.min_allies)
    return safe_voices(voices, k=k, rule=rule)
