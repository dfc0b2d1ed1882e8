"""A view kept one cohort at a time (``Combined``) is what summing every document gives."""

import importlib.util
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.release.combine import Combined, combine


@cache
def _frozen_combine() -> Callable[[Iterable[Mapping[str, Any]]], tuple[dict[str, Any], list[str]]]:
    """Migration 0008's own copy of ``combine`` as it was before views were kept (every
    document summed at once): a migration must replay the same forever, so it keeps its copy,
    and that copy is the oracle the running sum must match."""
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0008_scope_views.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._combine  # type: ignore[no-any-return]


def recomputed(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    view, _uncut = _frozen_combine()(documents)
    return view


counts = st.dictionaries(st.sampled_from(["1", "2", "5", "yes", "no", "na"]), st.integers(0, 9), max_size=4)
items = st.dictionaries(
    st.sampled_from(["wanted", "felt_recognised", "downsides", "lasting_difference"]),
    st.fixed_dictionaries({"answered": st.integers(0, 20), "counts": counts}),
    max_size=3,
)
cell = st.one_of(
    st.just({"suppressed": True}),
    st.fixed_dictionaries({"responses": st.integers(0, 20), "items": items}),
)
# Documents cut by any subset of the dimensions (older documents lack newer ones), each
# over any few of the cells, shown or suppressed.
slices = st.dictionaries(
    st.sampled_from(["path", "kind", "visibility", "stage"]),
    st.dictionaries(st.sampled_from(["signaling", "credit", "public", "private", "followup_30"]), cell, max_size=3),
    max_size=4,
)
documents = st.lists(
    st.fixed_dictionaries(
        {"responses": st.integers(0, 50), "declined": st.integers(0, 5), "items": items, "slices": slices}
    ),
    max_size=8,
)


@given(documents)
@settings(max_examples=300, deadline=None)
def test_adding_documents_one_at_a_time_gives_the_sum_of_all_of_them_at_every_step(docs: list[Any]) -> None:
    combined = Combined()
    for count, document in enumerate(docs, start=1):
        combined.add(document)
        assert combined.view() == recomputed(docs[:count])


@given(documents, st.integers(0, 8))
@settings(max_examples=300, deadline=None)
def test_a_stored_view_picks_up_where_it_was_left(docs: list[Any], cut: int) -> None:
    """What a release stores (the view and ``uncut``, through JSON) plus the documents after
    it gives the sum of all, byte for byte as JSON."""
    before = Combined()
    for document in docs[:cut]:
        before.add(document)
    stored = json.loads(json.dumps({"view": before.view(), "uncut": sorted(before.uncut)}))
    after = Combined.resume(stored["view"], stored["uncut"])
    for document in docs[cut:]:
        after.add(document)
    assert json.dumps(after.view()) == json.dumps(recomputed(docs))


@given(documents)
@settings(max_examples=200, deadline=None)
def test_combine_still_gives_what_summing_every_document_gave(docs: list[Any]) -> None:
    assert combine(docs) == recomputed(docs)


def test_a_dimension_an_older_cohort_lacked_stays_incomplete_in_cells_that_show_later() -> None:
    """Resuming keeps what the view alone cannot tell: which dimensions some cohort lacked."""
    older = {"responses": 5, "declined": 0, "items": {}, "slices": {}}
    newer = {
        "responses": 5,
        "declined": 0,
        "items": {},
        "slices": {"kind": {"credit": {"responses": 5, "items": {}}}},
    }
    later = {
        "responses": 6,
        "declined": 0,
        "items": {},
        "slices": {"kind": {"sponsor": {"responses": 6, "items": {}}}},
    }
    kept = Combined()
    kept.add(older)
    kept.add(newer)
    resumed = Combined.resume(json.loads(json.dumps(kept.view())), sorted(kept.uncut))
    resumed.add(later)
    assert resumed.view()["slices"]["kind"]["sponsor"]["complete"] is False
    assert resumed.view() == recomputed([older, newer, later])
