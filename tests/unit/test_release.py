"""Release rules: cohorts of at least k, suppressed slices, views that only grow by cohorts."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import chain, combinations, count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.release.cohorts import CohortBuilder
from feedback.release.combine import combine
from feedback.release.opening import cells_of
from feedback.release.rules import ALLY_RULE, GROUP_RULE, NotReleasable, Opened, PoolRule, ready_voices
from feedback.release.run import DIMENSIONS as RELEASE_DIMENSIONS
from feedback.release.run import STAGE_DIMENSIONS

# Ally ids far above any count a document can hold, so a leaked id would be noticed.
ALLY_BASE = 1_000_000_007
PATH_OF = {"credit": "signaling", "amplify": "signaling", "sponsor": "access", "connect": "access"}
CELLS = {
    "kind": sorted(PATH_OF),
    "path": ["access", "signaling"],
    "visibility": ["private", "public"],
}
# A cohort whose cells nest and cross, so the cross-dimension audit has work to do.
CROSSED = (
    [("amplify", "signaling", "public")] * 4
    + [("credit", "signaling", "private")] * 3
    + [("amplify", "signaling", "private"), ("sponsor", "access", "public"), ("connect", "access", "private")]
    + [("sponsor", "access", "private")] * 4
)
WANTED = ["yes", "partly", "no", "unsure"]
DOWNSIDES = ["attention", "spoken_for", "rescued", "none"]

PROPERTY = settings(max_examples=150, deadline=None)
FOLLOWUP_DIMENSIONS = RELEASE_DIMENSIONS + STAGE_DIMENSIONS  # what a follow-up cohort is cut by


_people = count(1)


def someone() -> bytes:
    """A recipient of a delivered request no one else was sent."""
    return b"person-%d" % next(_people)


def opened(ally: int, answers: Mapping[str, Any] | None = None, *, person: object = None, **slices: str) -> Opened:
    """An answer to a delivered request, from its own recipient unless ``person`` is given."""
    return Opened(answers=answers or {}, ally_id=ALLY_BASE + ally, slices=slices, person=person or someone())


def held(ally: int, answers: Mapping[str, Any] | None = None, **slices: str) -> Opened:
    """An answer to a link the ally held: it rides along and counts toward no k."""
    return Opened(answers=answers or {}, ally_id=ALLY_BASE + ally, slices=slices, person=None)


def is_ready(responses: Sequence[Opened], *, k: int, rule: PoolRule) -> bool:
    voices = [(r.ally_id, r.person) for r in responses if r.person is not None]
    return ready_voices(voices, k=k, rule=rule)


def build(
    responses: Sequence[Opened],
    *,
    k: int = 3,
    min_allies: int = 1,
    dimensions: Sequence[str] = (),
    each_ally: bool = False,
) -> dict[str, Any]:
    builder = CohortBuilder(k=k, min_allies=min_allies, dimensions=dimensions, each_ally=each_ally)
    for response in responses:
        builder.add(response)
    return builder.build()


def kinds(**sizes: int) -> list[Opened]:
    """sizes[kind] responses of that kind, each from its own ally."""
    names = [kind for kind, n in sizes.items() for _ in range(n)]
    return [opened(ally, kind=kind) for ally, kind in enumerate(names)]


def shown(document: Mapping[str, Any], dimension: str) -> dict[str, int | None]:
    """cell -> visible responses, or None where the cell is suppressed."""
    return {cell: value.get("responses") for cell, value in document["slices"][dimension].items()}


# --- ready -----------------------------------------------------------------------------


def test_ready_needs_k_distinct_recipients() -> None:
    assert not is_ready([opened(i % 3) for i in range(4)], k=5, rule=ALLY_RULE)
    assert is_ready([opened(i % 3) for i in range(5)], k=5, rule=ALLY_RULE)


def test_ready_needs_min_allies_distinct_allies() -> None:
    assert not is_ready([opened(1) for _ in range(9)], k=5, rule=PoolRule(min_allies=2, each_ally=False))
    assert is_ready([opened(i % 2) for i in range(9)], k=5, rule=PoolRule(min_allies=2, each_ally=False))


def test_answers_to_links_the_ally_held_never_make_a_scope_ready() -> None:
    """P8: an ally who answers four of their own links, beside one real colleague, fills nothing."""
    assert not is_ready([opened(1)] + [held(1) for _ in range(4)], k=5, rule=ALLY_RULE)
    assert not is_ready([held(1) for _ in range(50)], k=5, rule=ALLY_RULE)


def test_a_recipient_asked_twice_is_one_voice() -> None:
    sam = someone()
    assert not is_ready([opened(1, person=sam) for _ in range(5)], k=5, rule=ALLY_RULE)
    assert not is_ready([opened(1, person=sam), *[opened(1) for _ in range(3)]], k=5, rule=ALLY_RULE)


def test_the_group_rule_counts_recipients_left_once_any_ally_is_taken_away() -> None:
    """Two allies asking the same five colleagues: taking either away leaves one ally."""
    five = [someone() for _ in range(5)]
    shared = [opened(ally, person=p) for ally in (1, 2) for p in five]
    assert is_ready(shared, k=5, rule=PoolRule(min_allies=1, each_ally=True))
    assert not is_ready(shared, k=5, rule=GROUP_RULE)
    third = [opened(3, person=p) for p in five]
    assert is_ready(shared + third, k=5, rule=GROUP_RULE), "any one away: five recipients from two allies"
    lopsided = [opened(1) for _ in range(5)] + [opened(2) for _ in range(3)] + [opened(3)]
    assert not is_ready(lopsided, k=5, rule=GROUP_RULE), "without ally 1, four recipients"
    assert is_ready([*lopsided, opened(3)], k=5, rule=GROUP_RULE)


def test_a_cohort_filled_with_answers_to_held_links_is_not_releasable() -> None:
    with pytest.raises(NotReleasable):
        build([opened(1), *[held(1) for _ in range(9)]], k=5)


def test_held_answers_ride_along_in_the_numbers_but_never_make_a_cell_shown() -> None:
    """Four self-answers beside one real answer of a kind leave that kind's cell hidden."""
    document = build(
        [*[opened(i, kind="credit") for i in range(6)], opened(7, kind="sponsor"), *[held(7, kind="sponsor")] * 4],
        k=5,
        dimensions=("kind",),
    )
    assert document["responses"] == 11
    assert document["slices"]["kind"]["sponsor"] == {"suppressed": True}


def test_k_below_three_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        ready_voices([(1, b"a"), (2, b"b")], k=2, rule=ALLY_RULE)
    with pytest.raises(ValueError, match="at least 3"):
        CohortBuilder(k=2, min_allies=1, dimensions=())


# --- build: who may form a cohort ------------------------------------------------------


def test_build_refuses_fewer_than_k_responses() -> None:
    with pytest.raises(NotReleasable):
        build([opened(i) for i in range(4)], k=5)


def test_build_refuses_a_group_cohort_from_a_single_ally() -> None:
    with pytest.raises(NotReleasable):
        build([opened(1) for _ in range(8)], k=5, min_allies=2)


def test_builder_counts_responses_and_distinct_allies() -> None:
    builder = CohortBuilder(k=3, min_allies=2, dimensions=())
    for ally in (1, 1, 2):
        builder.add(opened(ally))
    assert (builder.count, builder.allies) == (3, 2)


def test_response_without_a_cell_for_a_dimension_is_refused() -> None:
    builder = CohortBuilder(k=3, min_allies=1, dimensions=("kind", "visibility"))
    with pytest.raises(ValueError, match="visibility"):
        builder.add(opened(1, kind="credit"))


@pytest.mark.parametrize("value", [True, 2.5, None, {"a": "b"}, [1, 2]])
def test_answers_of_unknown_types_are_refused_and_leave_nothing_behind(value: object) -> None:
    builder = CohortBuilder(k=3, min_allies=1, dimensions=())
    with pytest.raises(TypeError):
        builder.add(opened(1, {"r": "fine", "q": value}))
    assert builder.count == 0
    for _ in range(3):
        builder.add(opened(1, {"q": "yes"}))
    assert builder.build()["items"] == {"q": {"answered": 3, "counts": {"yes": 3}}}


# --- build: what a document counts -----------------------------------------------------


def test_choice_answers_are_counted_per_value() -> None:
    document = build([opened(i, {"wanted": v}) for i, v in enumerate(["yes", "no", "yes"])])
    assert document["items"] == {"wanted": {"answered": 3, "counts": {"no": 1, "yes": 2}}}


@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(1, 9)), max_size=40),
    st.integers(3, 6),
    st.integers(1, 3),
    st.booleans(),
)
def test_the_pool_rule_reads_as_its_definition(
    voices: list[tuple[int, int]], k: int, min_allies: int, each: bool
) -> None:
    """k distinct recipients from min_allies allies and, with each_ally, still so once any one
    ally's voices are taken away (a recipient another ally also asked stays), read literally."""

    def plain(kept: list[tuple[int, int]]) -> bool:
        return len({p for _, p in kept}) >= k and len({a for a, _ in kept}) >= min_allies

    expected = plain(voices) and (
        not each or all(plain([(a, p) for a, p in voices if a != gone]) for gone in {a for a, _ in voices})
    )
    assert ready_voices(voices, k=k, rule=PoolRule(min_allies=min_allies, each_ally=each)) == expected


def test_multi_answers_count_each_chosen_option_once() -> None:
    answers = [["rescued", "attention"], ["attention"], ["attention", "attention"]]
    document = build([opened(i, {"downsides": v}) for i, v in enumerate(answers)])
    assert document["items"] == {"downsides": {"answered": 3, "counts": {"attention": 3, "rescued": 1}}}


def test_scale_answers_are_counted_as_strings_and_na_stays_na() -> None:
    document = build([opened(i, {"felt": v}) for i, v in enumerate([4, "na", 4, 1])])
    assert document["items"]["felt"]["counts"] == {"1": 1, "4": 2, "na": 1}


def test_declined_responses_count_as_responses_but_answer_nothing() -> None:
    document = build([opened(1), opened(2), opened(3, {"wanted": "yes"})])
    assert (document["responses"], document["declined"]) == (3, 2)
    assert document["items"]["wanted"]["answered"] == 1


def test_skipped_items_are_not_counted_as_answered() -> None:
    document = build([opened(1, {"wanted": "no"}), opened(2, {"felt": 3}), opened(3, {"felt": 5})])
    assert document["items"]["wanted"]["answered"] == 1
    assert document["items"]["felt"]["answered"] == 2


# --- build: suppression ----------------------------------------------------------------


def test_a_cell_below_k_shows_only_that_it_is_suppressed() -> None:
    document = build(kinds(credit=2, amplify=3, sponsor=4), dimensions=("kind",))
    assert document["slices"]["kind"]["credit"] == {"suppressed": True}


def test_a_lone_small_cell_also_hides_the_smallest_visible_cell() -> None:
    document = build(kinds(credit=1, amplify=5, sponsor=3), dimensions=("kind",))
    assert shown(document, "kind") == {"amplify": 5, "credit": None, "sponsor": None}


def test_complementary_suppression_breaks_ties_by_cell_name() -> None:
    document = build(kinds(credit=1, sponsor=4, amplify=4), dimensions=("kind",))
    assert shown(document, "kind") == {"amplify": None, "credit": None, "sponsor": 4}


def test_small_cells_that_together_hold_k_hide_nothing_else() -> None:
    document = build(kinds(credit=2, connect=1, amplify=3, sponsor=4), dimensions=("kind",))
    assert shown(document, "kind") == {"amplify": 3, "connect": None, "credit": None, "sponsor": 4}


def test_complementary_suppression_hides_every_cell_when_it_must() -> None:
    document = build(kinds(credit=1, amplify=3), dimensions=("kind",))
    assert shown(document, "kind") == {"amplify": None, "credit": None}


def test_a_group_cell_from_a_single_ally_is_suppressed() -> None:
    responses = [opened(1, kind="credit") for _ in range(4)] + [opened(i, kind="amplify") for i in (2, 3, 2, 3)]
    document = build(responses, k=3, min_allies=2, dimensions=("kind",))
    assert document["slices"]["kind"]["credit"] == {"suppressed": True}


def test_hidden_cells_from_a_single_ally_hide_another_cell_too() -> None:
    responses = (
        [opened(1, kind="credit") for _ in range(3)]
        + [opened(i, kind="amplify") for i in (2, 3, 2)]
        + [opened(i, kind="sponsor") for i in (2, 3, 4, 5)]
    )
    document = build(responses, k=3, min_allies=2, dimensions=("kind",))
    assert shown(document, "kind") == {"amplify": None, "credit": None, "sponsor": 4}


def test_a_small_kind_cannot_be_recovered_as_its_path_minus_visible_kinds() -> None:
    # Per dimension alone: credit (1) hidden with sponsor (3), so signaling (5) - amplify (4) = credit.
    responses = [
        opened(i, kind=kind, path=PATH_OF[kind])
        for i, kind in enumerate(["amplify"] * 4 + ["credit"] + ["sponsor"] * 3 + ["connect"] * 5)
    ]
    document = build(responses, dimensions=("path", "kind"))
    signaling = shown(document, "path")["signaling"] or 0
    visible_kinds = sum(n or 0 for kind, n in shown(document, "kind").items() if PATH_OF[kind] == "signaling")
    assert signaling - visible_kinds == 0 or signaling - visible_kinds >= 3


def test_a_lead_cannot_isolate_one_allys_responses_as_a_path_minus_visible_kinds() -> None:
    # credit: 3 responses, all from ally 30. Per dimension alone, signaling - amplify = credit.
    allies_and_kinds = (
        [(1, "amplify"), (2, "amplify"), (1, "amplify"), (2, "amplify")]
        + [(30, "credit")] * 3
        + [(1, "sponsor"), (2, "sponsor"), (1, "sponsor")]
        + [(4, "connect"), (5, "connect"), (4, "connect"), (5, "connect")]
    )
    responses = [opened(ally, kind=kind, path=PATH_OF[kind]) for ally, kind in allies_and_kinds]
    document = build(responses, k=3, min_allies=2, dimensions=("path", "kind"))
    assert shown(document, "path")["signaling"] is None or shown(document, "kind")["amplify"] is None


def test_the_audit_hides_the_cell_that_gives_a_small_group_away() -> None:
    # Per dimension alone, access (6) - sponsor (5) = connect (1); amplify (5) is as small but harmless.
    responses = [opened(i, kind=kind, path=path, visibility=vis) for i, (kind, path, vis) in enumerate(CROSSED)]
    document = build(responses, dimensions=("kind", "path", "visibility"))
    assert shown(document, "kind") == {"amplify": 5, "connect": None, "credit": None, "sponsor": None}
    assert shown(document, "path") == {"access": 6, "signaling": 8}
    assert shown(document, "visibility") == {"private": 9, "public": 5}


def test_a_kind_that_is_always_private_cannot_be_subtracted_from_private() -> None:
    # credit is always private; private (4) - credit (3) would be the one private amplify answer.
    slices = [("credit", "private")] * 3 + [("amplify", "private")] + [("amplify", "public")] * 4
    responses = [opened(i, {"wanted": "no"}, kind=kind, visibility=vis) for i, (kind, vis) in enumerate(slices)]
    document = build(responses, dimensions=("kind", "visibility"))
    assert shown(document, "kind")["credit"] is None or shown(document, "visibility")["private"] is None


def test_cells_with_enough_responses_in_every_dimension_stay_visible() -> None:
    slices = [(kind, vis) for kind in ("amplify", "credit") for vis in ("private", "public") for _ in range(3)]
    responses = [opened(i, kind=kind, visibility=vis) for i, (kind, vis) in enumerate(slices)]
    document = build(responses, dimensions=("kind", "visibility"))
    assert shown(document, "kind") == {"amplify": 6, "credit": 6}
    assert shown(document, "visibility") == {"private": 6, "public": 6}


def test_a_visible_cell_counts_the_answers_in_it() -> None:
    responses = [opened(i, {"wanted": "yes"}, kind="credit") for i in range(3)] + [
        opened(9, {"wanted": "no"}, kind="amplify"),
        opened(8, {}, kind="amplify"),
        opened(7, {"wanted": "no"}, kind="amplify"),
    ]
    document = build(responses, dimensions=("kind",))
    assert document["slices"]["kind"]["credit"] == {
        "responses": 3,
        "items": {"wanted": {"answered": 3, "counts": {"yes": 3}}},
    }


def test_a_document_is_the_same_in_every_process() -> None:
    """Set order varies with PYTHONHASHSEED; the document must not."""
    script = (
        "import json, random\n"
        "from feedback.release.cohorts import CohortBuilder\n"
        "from feedback.release.rules import Opened\n"
        f"rng, path_of = random.Random(5), {PATH_OF!r}\n"
        "for n in range(8, 60):\n"
        "    b = CohortBuilder(k=3, min_allies=1, dimensions=('kind', 'path', 'visibility'))\n"
        "    for _ in range(n):\n"
        "        kind, vis = rng.choice(sorted(path_of)), rng.choice(['public', 'private'])\n"
        "        b.add(Opened({}, 1, {'kind': kind, 'path': path_of[kind], 'visibility': vis}, rng.random()))\n"
        "    print(json.dumps(b.build()))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


# --- combine ---------------------------------------------------------------------------


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from(["credit", "sponsor", "mentor"]),
            st.sampled_from(WANTED),
            st.lists(st.sampled_from(DOWNSIDES), unique=True, max_size=2),
        ),
        min_size=3,
        max_size=40,
    ),
    st.integers(1, 5),
)
def test_counting_in_batches_and_merging_gives_the_document_counting_at_once_gives(
    answers: list[tuple[int, str, str, list[str]]], batches: int
) -> None:
    responses = [
        opened(ally, {"wanted": w, "downsides": d} if d else {"wanted": w}, kind=k) for ally, k, w, d in answers
    ]
    whole = CohortBuilder(k=3, min_allies=2, dimensions=("kind",), each_ally=True)
    for response in responses:
        whole.add(response)
    merged = CohortBuilder(k=3, min_allies=2, dimensions=("kind",), each_ally=True)
    for start in range(batches):
        part = CohortBuilder(k=3, min_allies=2, dimensions=("kind",), each_ally=True)
        for response in responses[start::batches]:
            part.add(response)
        merged.merge(part)
    assert merged.count == whole.count and merged.allies == whole.allies
    try:
        expected: object = whole.build()
    except NotReleasable:
        expected = NotReleasable
    try:
        got: object = merged.build()
    except NotReleasable:
        got = NotReleasable
    assert got == expected


def test_builders_cut_by_other_rules_do_not_merge() -> None:
    with pytest.raises(ValueError, match="same rules"):
        CohortBuilder(k=3, min_allies=1, dimensions=("kind",)).merge(CohortBuilder(k=3, min_allies=1, dimensions=()))


def test_combine_of_nothing_is_an_empty_view() -> None:
    assert combine([]) == {"responses": 0, "cohorts": 0, "declined": 0, "items": {}, "slices": {}}


def test_combine_sums_totals_items_and_visible_cells() -> None:
    first = build([opened(i, {"wanted": "yes"}, kind="credit") for i in range(3)], dimensions=("kind",))
    said_no = [opened(i, {"wanted": "no"}, kind="credit") for i in range(3)]
    second = build([*said_no, opened(9, kind="credit")], dimensions=("kind",))
    view = combine([first, second])
    assert (view["responses"], view["cohorts"], view["declined"]) == (7, 2, 1)
    assert view["items"] == {"wanted": {"answered": 6, "counts": {"no": 3, "yes": 3}}}
    assert view["slices"]["kind"]["credit"] == {"responses": 7, "items": view["items"], "complete": True}


def test_combine_marks_a_cell_incomplete_when_a_cohort_hid_it() -> None:
    first = build(kinds(credit=3, amplify=3), dimensions=("kind",))
    second = build(kinds(credit=1, amplify=4), dimensions=("kind",))
    cell = combine([first, second])["slices"]["kind"]["credit"]
    assert (cell["responses"], cell["complete"]) == (3, False)


def test_combine_marks_a_cell_incomplete_when_an_older_cohort_was_not_cut_by_its_dimension() -> None:
    older = build([opened(i, kind="credit", stage="followup_30") for i in range(3)], dimensions=("kind",))
    newer = build([opened(i, kind="credit", stage="followup_30") for i in range(3)], dimensions=("kind", "stage"))
    view = combine([older, newer])
    assert view["slices"]["kind"]["credit"]["complete"] is True
    assert view["slices"]["stage"]["followup_30"] == {"responses": 3, "items": {}, "complete": False}


def test_combine_shows_a_never_visible_cell_as_suppressed() -> None:
    first = build(kinds(credit=1, amplify=4, sponsor=4), dimensions=("kind",))
    second = build(kinds(credit=2, amplify=4, sponsor=3), dimensions=("kind",))
    assert combine([first, second])["slices"]["kind"]["credit"] == {"suppressed": True}


# --- properties ------------------------------------------------------------------------

answers_st = st.fixed_dictionaries(
    {},
    optional={
        "wanted": st.sampled_from(WANTED),
        "felt": st.one_of(st.integers(1, 5), st.just("na")),
        "downsides": st.lists(st.sampled_from(DOWNSIDES), unique=True, max_size=3),
    },
)


@st.composite
def response_st(draw: st.DrawFn, nested: bool, allies: int) -> Opened:
    kind = draw(st.sampled_from(CELLS["kind"]))
    path = PATH_OF[kind] if nested else draw(st.sampled_from(CELLS["path"]))
    visibility = draw(st.sampled_from(CELLS["visibility"]))
    return opened(draw(st.integers(1, allies)), draw(answers_st), kind=kind, path=path, visibility=visibility)


@st.composite
def scenario_st(draw: st.DrawFn, max_size: int = 40) -> tuple[int, int, list[str], list[Opened]]:
    k = draw(st.integers(3, 7))
    min_allies = draw(st.sampled_from([1, 2]))
    dimensions = draw(st.lists(st.sampled_from(sorted(CELLS)), unique=True, max_size=3))
    responses = draw(st.lists(response_st(draw(st.booleans()), draw(st.integers(1, 6))), max_size=max_size))
    return k, min_allies, dimensions, responses


def expected_items(responses: Sequence[Opened]) -> dict[str, Any]:
    """The item counts, recounted here from scratch."""
    answered: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = {}
    for response in responses:
        for item, value in response.answers.items():
            answered[item] += 1
            values = set(value) if isinstance(value, list) else {str(value)}
            counts.setdefault(item, Counter()).update(values)
    return {item: {"answered": answered[item], "counts": dict(counts[item])} for item in answered}


def by_cell(responses: Sequence[Opened], dimension: str) -> dict[str, list[Opened]]:
    out: dict[str, list[Opened]] = {}
    for response in responses:
        out.setdefault(response.slices[dimension], []).append(response)
    return out


def safe(group: Sequence[Opened], k: int, min_allies: int) -> bool:
    return not group or (len(group) >= k and len({r.ally_id for r in group}) >= min_allies)


def visible_cells(document: Mapping[str, Any]) -> dict[str, set[str]]:
    return {
        dimension: {cell for cell, value in cells.items() if value != {"suppressed": True}}
        for dimension, cells in document["slices"].items()
    }


def per_dimension_rule(responses: Sequence[Opened], dimension: str, k: int, min_allies: int) -> set[str]:
    """The visible cells of one dimension under primary and complementary suppression alone."""
    truth = by_cell(responses, dimension)
    hidden = {cell for cell, group in truth.items() if len(group) < k or len({r.ally_id for r in group}) < min_allies}
    for cell in sorted(set(truth) - hidden, key=lambda c: (len(truth[c]), c)):
        if safe([r for c in hidden for r in truth[c]], k, min_allies):
            break
        hidden.add(cell)
    return set(truth) - hidden


def small_group_in_span(
    visible: Mapping[str, set[str]], responses: Sequence[Opened], dimensions: Sequence[str], k: int, min_allies: int
) -> list[str] | None:
    """A group of responses, too small to show, whose count follows from the visible numbers.

    Exhaustive: the reader is taken to know which atoms (responses sharing every cell)
    hold responses, and to add and subtract the total and the visible cells at will; a
    group is then known exactly when its atoms' indicator is a linear combination of
    those cells' indicators. Tries every union of atoms below k responses and, for
    min_allies 2, every union of atoms from a single ally.
    """
    atoms: dict[tuple[str, ...], list[Opened]] = {}
    for response in responses:
        atoms.setdefault(tuple(response.slices[d] for d in dimensions), []).append(response)
    keys = sorted(atoms)
    rows = [[Fraction(1)] * len(keys)]
    for d, dimension in enumerate(dimensions):
        for cell in visible[dimension]:
            rows.append([Fraction(int(key[d] == cell)) for key in keys])
    basis: list[tuple[int, list[Fraction]]] = []  # (pivot column, row with 1 at the pivot)
    for row in rows:
        reduced = reduce(row, basis)
        pivot = next((i for i, x in enumerate(reduced) if x), None)
        if pivot is not None:
            basis.append((pivot, [x / reduced[pivot] for x in reduced]))

    def below_k(start: int, chosen: list[int], n: int) -> Iterator[list[int]]:
        for i in range(start, len(keys)):
            if n + len(atoms[keys[i]]) < k:
                yield [*chosen, i]
                yield from below_k(i + 1, [*chosen, i], n + len(atoms[keys[i]]))

    def single_ally() -> Iterator[list[int]]:
        for ally in sorted({r.ally_id for r in responses}):
            own = [i for i, key in enumerate(keys) if {r.ally_id for r in atoms[key]} == {ally}]
            for size in range(1, len(own) + 1):
                yield from (list(group) for group in combinations(own, size))

    assert min_allies <= 2, "single_ally() covers 'fewer than min_allies allies' only up to 2"
    for group in chain(below_k(0, [], 0), single_ally() if min_allies == 2 else ()):
        indicator = [Fraction(int(i in group)) for i in range(len(keys))]
        if not any(reduce(indicator, basis)):
            return ["/".join(keys[i]) for i in group]
    return None


def reduce(row: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    row = list(row)
    for pivot, base in basis:
        if row[pivot]:
            factor = row[pivot]
            row = [x - factor * y for x, y in zip(row, base, strict=True)]
    return row


@PROPERTY
@given(scenario_st())
def test_no_document_shows_or_implies_a_group_below_k(scenario: tuple[int, int, list[str], list[Opened]]) -> None:
    k, min_allies, dimensions, responses = scenario
    builder = CohortBuilder(k=k, min_allies=min_allies, dimensions=dimensions)
    for response in responses:
        builder.add(response)
    if not is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False)):
        with pytest.raises(NotReleasable):
            builder.build()
        return
    document = builder.build()
    assert document["responses"] == len(responses)
    assert document["declined"] == sum(1 for r in responses if not r.answers)
    assert document["items"] == expected_items(responses)
    assert sorted(document["slices"]) == sorted(dimensions)
    for dimension in dimensions:
        truth = by_cell(responses, dimension)
        cells = document["slices"][dimension]
        assert sorted(cells) == sorted(truth)
        hidden: list[Opened] = []
        for cell, value in cells.items():
            if value == {"suppressed": True}:
                hidden += truth[cell]
            else:
                assert value["responses"] == len(truth[cell]) >= k
                assert len({r.ally_id for r in truth[cell]}) >= min_allies
                assert value["items"] == expected_items(truth[cell])
        assert safe(hidden, k, min_allies), f"{dimension}: hidden cells hold {len(hidden)}"
    assert small_group_in_span(visible_cells(document), responses, dimensions, k, min_allies) is None


@PROPERTY
@given(scenario_st())
def test_slices_hide_more_than_per_dimension_suppression_only_to_stop_a_leak(
    scenario: tuple[int, int, list[str], list[Opened]],
) -> None:
    k, min_allies, dimensions, responses = scenario
    if not is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False)):
        return
    shown = visible_cells(build(responses, k=k, min_allies=min_allies, dimensions=dimensions))
    per_dimension = {d: per_dimension_rule(responses, d, k, min_allies) for d in dimensions}
    if small_group_in_span(per_dimension, responses, dimensions, k, min_allies) is None:
        assert shown == per_dimension
    else:
        assert all(shown[d] <= per_dimension[d] for d in dimensions)
        assert shown != per_dimension


@PROPERTY
@given(scenario_st(max_size=60), st.data())
def test_views_change_only_by_whole_cohorts_of_at_least_k(
    scenario: tuple[int, int, list[str], list[Opened]], data: st.DataObject
) -> None:
    k, min_allies, dimensions, arrivals = scenario
    checks = data.draw(st.lists(st.booleans(), min_size=len(arrivals), max_size=len(arrivals)))
    pending: list[Opened] = []
    documents: list[dict[str, Any]] = []
    released = 0
    previous = combine([])
    for arrived, (response, check) in enumerate(zip(arrivals, checks, strict=True), start=1):
        pending.append(response)
        if check and is_ready(pending, k=k, rule=PoolRule(min_allies, each_ally=False)):
            order = data.draw(st.permutations(pending))
            documents.append(build(order, k=k, min_allies=min_allies, dimensions=dimensions))
            released += len(pending)
            pending = []
            view = combine(documents)
            assert_grows_by_cohorts(previous, view, k)
            previous = view
        assert released + len(pending) == arrived
        assert sum(d["responses"] for d in documents) == released == previous["responses"]


def assert_grows_by_cohorts(before: Mapping[str, Any], after: Mapping[str, Any], k: int) -> None:
    def grew(old: int, new: int) -> bool:
        return new == old or new - old >= k

    assert grew(before["responses"], after["responses"])
    assert after["cohorts"] == before["cohorts"] + 1
    for dimension, cells in after["slices"].items():
        for cell, value in cells.items():
            if "responses" in value:
                old = before["slices"].get(dimension, {}).get(cell, {}).get("responses", 0)
                assert grew(old, value["responses"]), (dimension, cell)
    new_numbers = dict(numbers(after))
    for path, old in numbers(before):
        assert new_numbers.get(path, -1) >= old, path


def numbers(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], int]]:
    """Every count in a view or document, with where it sits (flags are not counts)."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from numbers(inner, (*path, key))
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path, value


@PROPERTY
@given(scenario_st(), st.data())
def test_a_document_does_not_depend_on_arrival_order(
    scenario: tuple[int, int, list[str], list[Opened]], data: st.DataObject
) -> None:
    k, min_allies, dimensions, responses = scenario
    if not is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False)):
        return
    reordered = data.draw(st.permutations(responses))
    first = build(responses, k=k, min_allies=min_allies, dimensions=dimensions)
    second = build(reordered, k=k, min_allies=min_allies, dimensions=dimensions)
    assert first == second
    assert json.dumps(first) == json.dumps(second)


@PROPERTY
@given(scenario_st())
def test_a_document_is_plain_json_without_ally_ids(scenario: tuple[int, int, list[str], list[Opened]]) -> None:
    k, min_allies, dimensions, responses = scenario
    if not is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False)):
        return
    document = build(responses, k=k, min_allies=min_allies, dimensions=dimensions)
    text = json.dumps(document)
    assert json.loads(text) == document
    assert "ally" not in text
    for ally_id in {r.ally_id for r in responses}:
        assert str(ally_id) not in text


@PROPERTY
@given(st.lists(scenario_st(max_size=20), max_size=4))
def test_a_view_does_not_depend_on_cohort_order(scenarios: list[tuple[int, int, list[str], list[Opened]]]) -> None:
    documents = [
        build(responses, k=k, min_allies=min_allies, dimensions=dimensions)
        for k, min_allies, dimensions, responses in scenarios
        if is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False))
    ]
    assert combine(documents) == combine(reversed(documents))
    assert json.dumps(combine(documents)) == json.dumps(combine(reversed(documents)))


def test_ready_with_a_largest_share_needs_k_from_two_allies_beyond_that_ally() -> None:
    def shares(*sizes: int) -> list[Opened]:
        return [opened(ally) for ally, size in enumerate(sizes) for _ in range(size)]

    assert not is_ready(shares(5, 2, 2), k=5, rule=GROUP_RULE)
    assert not is_ready(shares(5, 5), k=5, rule=GROUP_RULE), "the rest would be one ally's alone"
    assert is_ready(shares(5, 3, 2), k=5, rule=GROUP_RULE)


def test_a_cohort_mostly_from_one_ally_is_not_releasable_with_each_ally() -> None:
    with pytest.raises(NotReleasable):
        build_each([opened(1) for _ in range(6)] + [opened(2) for _ in range(2)] + [opened(3) for _ in range(2)])
    assert build_each([opened(1) for _ in range(5)] + [opened(2) for _ in range(3)] + [opened(3) for _ in range(2)])


def test_two_allies_never_make_a_group_cohort_with_each_ally() -> None:
    """A lead who is one of the two would otherwise read the other's answers by subtraction."""
    with pytest.raises(NotReleasable):
        build_each([opened(1) for _ in range(20)] + [opened(2) for _ in range(20)])


def build_each(responses: Sequence[Opened], k: int = 5, dimensions: Sequence[str] = ()) -> dict[str, Any]:
    """Under the group rule: k from 2 allies, still so without any one ally's share."""
    return build(responses, k=k, min_allies=2, dimensions=dimensions, each_ally=True)


def test_a_cell_a_lead_could_subtract_their_own_share_from_is_hidden() -> None:
    """Credit: 4 from the lead-ally (1), 1 from ally 2. Showing it would give ally 2's answer away."""
    responses = [opened(1, kind="credit") for _ in range(4)] + [opened(2, kind="credit")]
    responses += [opened(a, kind="sponsor") for a in (1, 2, 3, 4, 5, 6, 3, 4, 5, 6)]
    document = build_each(responses, dimensions=("kind",))
    assert shown(document, "kind") == {"credit": None, "sponsor": None}, "credit hidden, and sponsor to protect it"


def dominated_safe(group: Sequence[Opened], k: int) -> bool:
    if not group:
        return True
    shares = Counter(r.ally_id for r in group)
    return len(group) >= k and len(group) - max(shares.values()) >= k and len(shares) >= 3


@PROPERTY
@given(scenario_st(max_size=60))
def test_with_each_ally_no_shown_cell_or_hidden_set_rests_on_one_allys_share(
    scenario: tuple[int, int, list[str], list[Opened]],
) -> None:
    k, _, dimensions, responses = scenario
    try:
        document = build_each(responses, k=k, dimensions=dimensions)
    except NotReleasable:
        assert not responses or not dominated_safe(responses, k)
        return
    assert dominated_safe(responses, k)
    visible = visible_cells(document)
    for dimension in dimensions:
        truth = by_cell(responses, dimension)
        for cell, group in truth.items():
            if cell in visible[dimension]:
                assert dominated_safe(group, k), (dimension, cell)
        hidden = [r for cell, group in truth.items() if cell not in visible[dimension] for r in group]
        assert dominated_safe(hidden, k), dimension


@st.composite
def followup_scenario_st(draw: st.DrawFn) -> tuple[int, int, list[Opened]]:
    """A follow-up cohort: two kinds on two paths, two visibilities, two stages."""
    allies = draw(st.integers(1, 6))
    cell = st.tuples(
        st.sampled_from(["credit", "sponsor"]),
        st.sampled_from(["public", "private"]),
        st.sampled_from(["followup_30", "followup_90"]),
        st.integers(1, allies),
    )
    responses = [
        Opened(answers={}, ally_id=ALLY_BASE + ally, slices=cells_of(kind, visibility, stage), person=someone())
        for kind, visibility, stage, ally in draw(st.lists(cell, max_size=30))
    ]
    return draw(st.integers(3, 6)), draw(st.sampled_from([1, 2])), responses


@settings(max_examples=60, deadline=None)
@given(followup_scenario_st())
def test_stage_slices_of_a_follow_up_cohort_never_show_or_imply_a_group_below_k(
    scenario: tuple[int, int, list[Opened]],
) -> None:
    """30- and 90-day cells, by path and by kind, obey the same rules as every other slice."""
    k, min_allies, responses = scenario
    dimensions = list(FOLLOWUP_DIMENSIONS)
    builder = CohortBuilder(k=k, min_allies=min_allies, dimensions=dimensions)
    for response in responses:
        builder.add(response)
    if not is_ready(responses, k=k, rule=PoolRule(min_allies, each_ally=False)):
        return
    document = builder.build()
    for dimension in dimensions:
        truth = by_cell(responses, dimension)
        for cell, value in document["slices"][dimension].items():
            if value != {"suppressed": True}:
                assert value["responses"] == len(truth[cell]) >= k
    assert small_group_in_span(visible_cells(document), responses, dimensions, k, min_allies) is None


@settings(max_examples=40, deadline=None)
@given(followup_scenario_st(), st.data())
def test_a_group_follow_up_cohort_is_the_same_in_any_arrival_order(
    scenario: tuple[int, int, list[Opened]], data: st.DataObject
) -> None:
    """The same answers give the same published view, whatever order the database returns them in."""
    k, _, responses = scenario
    if not is_ready(responses, k=k, rule=GROUP_RULE):
        return
    documents = {
        json.dumps(build_each(order, k=k, dimensions=FOLLOWUP_DIMENSIONS))
        for order in (responses, responses[::-1], data.draw(st.permutations(responses)))
    }
    assert len(documents) == 1


def test_the_does_it_last_cohort_shows_every_stage_cell_in_every_arrival_order() -> None:
    """Three allies credit (9 answers at 30 days, 9 at 90), three sponsor (9 at 30 days),
    all in one cohort: each stage cell holds 9 answers from 3 allies and is shown, in
    whatever order the answers are counted."""
    later_30 = {"lasting_difference": 4, "recurred": "less"}
    later_90 = {"lasting_difference": 3, "recurred": "same"}
    responses = [
        Opened(answers=answers, ally_id=ALLY_BASE + ally, slices=cells_of(kind, "public", stage), person=someone())
        for ally, kind in enumerate(["credit"] * 3 + ["sponsor"] * 3)
        for stage, answers in (("followup_30", later_30), ("followup_90", later_90))
        if kind == "credit" or stage == "followup_30"
        for _ in range(3)
    ]
    rng = random.Random(2026)
    for _ in range(10):
        rng.shuffle(responses)
        stage_path = build_each(responses, dimensions=FOLLOWUP_DIMENSIONS)["slices"]["stage_path"]
        assert {cell: shown.get("responses") for cell, shown in stage_path.items()} == {
            "followup_30:access": 9,
            "followup_30:signaling": 9,
            "followup_90:signaling": 9,
        }


# --- what a group's wait for its breakdown decides on -----------------------------------------


@PROPERTY
@given(scenario_st(), st.sampled_from([False, True]))
def test_a_cohort_shows_its_breakdown_exactly_when_its_document_shows_every_cell_of_it(
    scenario: tuple[int, int, list[str], list[Opened]], each_ally: bool
) -> None:
    """``shows``, fed who answered in which cells and nothing they said, agrees with the document
    the same answers would make: so a release held for its breakdown waits no longer than
    needed, and never decides on an answer's content."""
    k, min_allies, dimensions, responses = scenario
    answerless = CohortBuilder(k=k, min_allies=min_allies, dimensions=dimensions, each_ally=each_ally)
    for response in responses:
        answerless.add(response._replace(answers={}))
    try:
        document = build(responses, k=k, min_allies=min_allies, dimensions=dimensions, each_ally=each_ally)
    except NotReleasable:
        assert not answerless.shows(dimensions)
        return
    for dimension in dimensions:
        every_cell = visible_cells(document)[dimension] == set(document["slices"][dimension])
        assert answerless.shows([dimension]) == every_cell
    assert answerless.shows(["a dimension it is not cut by"]), "nothing to wait for"
