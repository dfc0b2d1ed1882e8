"""Response load periods (feedback/services/load.py): months merge until their links pass
the group pool rule; shown numbers are the truth; the latest unsafe months stay hidden."""

from collections import Counter
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from feedback.release.rules import GROUP_RULE, safe_shares
from feedback.services.load import Period, months_between, next_month, periods

JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))
MONTHS = [JAN, FEB, MAR, APR]


def test_months_run_across_a_new_year_and_stop_before_the_end() -> None:
    assert next_month(date(2025, 12, 1)) == date(2026, 1, 1)
    assert months_between(date(2025, 11, 20), date(2026, 2, 3)) == [date(2025, 11, 1), date(2025, 12, 1), JAN]
    assert months_between(date(2026, 2, 3), date(2026, 2, 28)) == []


def test_a_month_when_only_one_ally_sent_links_never_shows_alone() -> None:
    links = {JAN: {1: 40}, FEB: {2: 5, 3: 5}}
    assert periods([JAN], links, {}, k=5) == [Period(JAN, JAN, None, 0, 0)], "suppressed"
    assert periods([JAN, FEB], links, {}, k=5) == [Period(JAN, FEB, 50, 0, 0)], "merged with the next"


def test_fewer_than_k_links_are_suppressed_however_many_allies() -> None:
    links = {JAN: {1: 1, 2: 1, 3: 1, 4: 1}}
    assert periods([JAN], links, {}, k=5) == [Period(JAN, JAN, None, 0, 0)]


def test_without_its_busiest_ally_a_period_still_needs_k_links_from_two_allies() -> None:
    busy = {JAN: {1: 30, 2: 2, 3: 2}}  # 34 links, but 4 once ally 1's are taken away
    assert periods([JAN], busy, {}, k=5)[0].links is None
    assert periods([JAN], {JAN: {1: 30, 2: 3, 3: 2}}, {}, k=5)[0].links == 35


def test_safe_months_show_their_true_counts_with_their_answers() -> None:
    links = {JAN: {1: 2, 2: 2, 3: 2, 4: 2}, FEB: {1: 3, 2: 3, 3: 3}, MAR: {1: 1}}
    answers = {JAN: (0, 0), FEB: (5, 1), MAR: (6, 2)}
    assert periods([JAN, FEB, MAR], links, answers, k=5) == [
        Period(JAN, JAN, 8, 0, 0),
        Period(FEB, FEB, 9, 5, 1),
        Period(MAR, MAR, None, 6, 2),
    ]


def test_months_without_links_join_a_period_rather_than_show_a_zero() -> None:
    links = {JAN: {1: 2, 2: 2, 3: 2, 4: 2}, MAR: {1: 2, 2: 2, 3: 2, 4: 2}}
    assert periods(MONTHS, links, {}, k=5) == [
        Period(JAN, JAN, 8, 0, 0),
        Period(FEB, MAR, 8, 0, 0),
        Period(APR, APR, None, 0, 0),
    ]


shares = st.dictionaries(st.integers(1, 4), st.integers(1, 6), max_size=4)


@given(st.lists(shares, min_size=1, max_size=8), st.integers(3, 6))
def test_every_shown_period_passes_the_group_rule_and_adds_up(months_links: list[dict[int, int]], k: int) -> None:
    months = [date(2026, 1 + i, 1) for i in range(len(months_links))]
    links = dict(zip(months, months_links, strict=True))
    found = periods(months, links, {}, k=k)
    assert [p.first for p in found] == [months[0]] + [next_month(p.last) for p in found[:-1]], "no gaps"
    assert found[-1].last == months[-1], "every month is in a period"
    assert all(p.links is not None for p in found[:-1]), "only the latest months wait"
    for period in found:
        truth: Counter[int] = Counter()
        for month in months:
            if period.first <= month <= period.last:
                truth.update(links[month])
        if period.links is None:
            assert not safe_shares(truth, k=k, rule=GROUP_RULE)
        else:
            assert safe_shares(truth, k=k, rule=GROUP_RULE) and period.links == truth.total()
    # Later months never change a period already shown.
    shown_before = [p for p in periods(months[:-1], links, {}, k=k) if p.links is not None] if len(months) > 1 else []
    assert found[: len(shown_before)] == shown_before
