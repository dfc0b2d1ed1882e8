"""bench/erg.py: a small group run through the real code gives its figures, and its check of
the release rules catches a page that shows too little behind a number."""

from datetime import date
from pathlib import Path

from bench import erg

CREDIT = {("total", ""): "All released", ("kind", "Credit (Signaling)"): "credit"}


def _page(rows: str, *, folded: bool = False) -> str:
    figure = (
        '<figure class="insight" id="immediate-v1-kind"><table>'
        '<thead><tr><th scope="col">Kind</th><th scope="col">Responses</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></figure>"
    )
    return f"<details>{figure}</details>" if folded else figure


def _cohort(allies: list[int], shown: int) -> erg.Released:
    """A released cohort whose credit cell shows ``shown`` answers, one per colleague, from ``allies`` in turn."""
    members = [
        erg.Answer(
            allies[n % len(allies)], f"colleague{n}@example.org", "immediate.v1", "immediate", "credit", "public"
        )
        for n in range(shown)
    ]
    document = {"responses": shown, "slices": {"kind": {"credit": {"responses": shown, "items": {}}}}}
    return erg.Released("immediate.v1", date(2025, 2, 1), members, document)


def test_a_small_group_over_45_days_gives_its_figures_and_keeps_the_release_rules(tmp_path: Path) -> None:
    rows = erg.simulate(5, 45, seed=3, browser=False, workdir=tmp_path)
    assert [row.day for row in rows] == [30, 45]
    last = rows[-1]
    assert last.cohorts >= 1, "the run is long enough for a group release, so the rules were checked on one"
    assert last.share.figures > 0 and 0 <= last.share.numbers <= last.share.figures
    assert last.answers >= last.released > 0
    assert last.checked > 0, "some number on the lead's page was checked against who answered what"
    assert last.problems == ()


def test_a_shown_cell_below_k_is_caught() -> None:
    page = erg.figures_of(_page('<tr><th scope="row">Credit (Signaling)</th><td>3</td></tr>'))
    problems = erg.check_page(page, erg.Truth(group_cohorts=[_cohort([1, 2, 3], 3)]), CREDIT, k=5)
    assert problems and "shows 3" in problems[0]


def test_a_shown_cell_that_one_ally_holds_up_is_caught_on_the_page_and_in_its_cohort() -> None:
    """Six colleagues of three allies: with any one ally taken away, four are left (P5)."""
    cohort = _cohort([1, 2, 3], 6)
    page = erg.figures_of(_page('<tr><th scope="row">Credit (Signaling)</th><td>6</td></tr>'))
    assert erg.check_page(page, erg.Truth(group_cohorts=[cohort]), CREDIT, k=5)
    assert erg.check_cohort(cohort.document, cohort.members, k=5, rule=erg.GROUP_RULE)


def test_a_cell_from_enough_colleagues_of_enough_allies_passes() -> None:
    cohort = _cohort([1, 2, 3, 4], 8)  # any one ally taken away leaves 6 colleagues of 3 allies
    page = erg.figures_of(_page('<tr><th scope="row">Credit (Signaling)</th><td>8</td></tr>'))
    assert erg.check_page(page, erg.Truth(group_cohorts=[cohort]), CREDIT, k=5) == []
    assert erg.check_cohort(cohort.document, cohort.members, k=5, rule=erg.GROUP_RULE) == []


def test_suppressed_cells_are_placeholders_and_folded_tables_count_only_in_the_wider_share() -> None:
    shown = _page(
        '<tr><th scope="row">All released</th><td>12</td></tr>'
        '<tr><th scope="row">Credit (Signaling)</th><td class="suppressed">suppressed (fewer than 5)</td></tr>'
        '<tr><th scope="row">Mean</th><td></td></tr>'
    )
    folded = _page('<tr><th scope="row">Yes</th><td>4</td></tr>', folded=True)
    share = erg.share_of(erg.figures_of(shown + folded))
    assert (share.numbers, share.figures) == (1, 2)
    assert (share.numbers_all, share.figures_all) == (2, 3)
