"""Bar chart layout for the insights page: sizes, suppressed values, patterns, text."""

import pytest

from web.charts import BAR_MAX, LABEL_CHARS, Point, bar_chart


def test_bars_are_proportional_to_their_value_against_the_full_scale() -> None:
    chart = bar_chart(
        "c", "Mean", ["Credit", "Sponsor"], ["Signaling"], [[Point(5, "5.0")], [Point(2.5, "2.5")]], maximum=5
    )
    widths = [category.bars[0].width for category in chart.categories]
    assert widths == [BAR_MAX, BAR_MAX / 2]


def test_without_a_maximum_the_largest_value_fills_the_bar() -> None:
    chart = bar_chart("t", "Trend", ["2026-01", "2026-02"], ["Responses"], [[Point(10, "10")], [Point(30, "30")]])
    assert [c.bars[0].width for c in chart.categories] == [round(BAR_MAX / 3, 1), BAR_MAX]


def test_a_suppressed_value_draws_no_bar_but_says_so_in_words() -> None:
    chart = bar_chart(
        "s",
        "Wanted",
        ["Credit", "Mentor"],
        ["Wanted"],
        [[Point(80, "80%")], [Point(None, "suppressed (fewer than 5)")]],
    )
    mentor = chart.categories[1].bars[0]
    assert not mentor.drawn and mentor.width == 0 and mentor.text == "suppressed (fewer than 5)"
    assert "Mentor: suppressed (fewer than 5)" in chart.description


def test_several_series_differ_by_pattern_and_name_not_only_colour() -> None:
    chart = bar_chart(
        "m",
        "By kind",
        ["Credit"],
        ["Signaling", "Mitigation"],
        [[Point(4.0, "4.0 of 5"), Point(2.0, "2.0 of 5")]],
        maximum=5,
    )
    patterns = [bar.pattern for bar in chart.categories[0].bars]
    assert len(set(patterns)) == 2
    assert [entry.label for entry in chart.legend] == ["Signaling", "Mitigation"]
    assert [bar.text for bar in chart.categories[0].bars] == ["Signaling: 4.0 of 5", "Mitigation: 2.0 of 5"]
    assert chart.pattern_id("hatch") == "m-hatch"


def test_rows_never_overlap_and_the_chart_is_tall_enough_for_all() -> None:
    points = [[Point(1, "1"), Point(2, "2")] for _ in range(4)]
    chart = bar_chart("o", "Rows", ["a", "b", "c", "d"], ["x", "y"], points, maximum=2)
    tops = [bar.y for category in chart.categories for bar in category.bars]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    last = chart.categories[-1].bars[-1]
    assert chart.height >= last.y + last.height
    assert all(bar.width + 6 <= chart.width for category in chart.categories for bar in category.bars)


def test_long_labels_are_shortened_in_the_chart_but_whole_in_its_description() -> None:
    label = "Someone spoke for me when I would rather have spoken myself, twice, in front of everyone"
    chart = bar_chart("l", "Downsides", [label], ["Share"], [[Point(40, "40%")]], maximum=100)
    assert len(chart.categories[0].label) <= LABEL_CHARS and chart.categories[0].label.endswith("…")
    assert label in chart.description


def test_values_above_the_maximum_stay_inside_the_chart() -> None:
    chart = bar_chart("x", "Over", ["a"], ["s"], [[Point(150, "150%")]], maximum=100)
    assert chart.categories[0].bars[0].width == BAR_MAX


@pytest.mark.parametrize(
    ("series", "points"),
    [([], [[]]), (["a", "b", "c", "d"], [[Point(1, "1")] * 4]), (["a"], [[Point(1, "1"), Point(2, "2")]])],
)
def test_malformed_input_is_refused(series: list[str], points: list[list[Point]]) -> None:
    with pytest.raises(ValueError, match=r"series|points"):
        bar_chart("e", "Bad", ["only"], series, points)


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        bar_chart("n", "Bad", ["a"], ["s"], [[Point(-1, "-1")]])


def test_an_all_zero_chart_draws_empty_bars_with_their_numbers() -> None:
    chart = bar_chart("z", "Zero", ["a"], ["s"], [[Point(0, "0%")]])
    bar = chart.categories[0].bars[0]
    assert bar.drawn and bar.width == 0 and bar.text == "0%"
