"""Horizontal bar charts for the insights page, laid out in Python and drawn as inline SVG.

This module only does geometry: it takes already-formatted, already-translated labels and
values and returns plain dataclasses that ``lead/charts.html`` turns into SVG with
presentation attributes (no inline style, which the Content-Security-Policy forbids).

Each category gets its label on a line of its own (long labels fit a phone), then one
bar per series. Series differ by pattern as well as by name (solid, hatched, dotted), and
every bar carries its value in words, so nothing depends on colour. A value of ``None``
draws no bar, only its text (for example "suppressed (fewer than 5)").
"""

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 320  # viewBox units, about the width of a phone's column: text is drawn at its size there
BAR_MAX = 170.0  # the longest bar, leaving room for its value label
LABEL_LINE = 19.0  # a category label's line
BAR_HEIGHT = 17.0
TEXT_LINE = 16.0  # a bar's "series: value" line, above the bar, with several series
BAR_GAP = 4.0
GROUP_GAP = 14.0
LEGEND_LINE = 20.0
LABEL_CHARS = 40  # longer category labels are shortened in the chart; the table has them whole
PATTERNS = ("solid", "hatch", "dots")


@dataclass(frozen=True)
class Point:
    """One value to plot: ``value`` is None when there is nothing to draw, only ``text``."""

    value: float | None
    text: str


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    height: float
    pattern: str
    text: str
    text_x: float
    text_y: float
    drawn: bool  # False: no bar, only its text


@dataclass(frozen=True)
class Category:
    label: str
    label_y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class LegendEntry:
    label: str
    pattern: str
    y: float


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: float
    legend: tuple[LegendEntry, ...]
    categories: tuple[Category, ...]
    patterns: tuple[str, ...]

    def pattern_id(self, pattern: str) -> str:
        return f"{self.id}-{pattern}"


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[str],
    points: Sequence[Sequence[Point]],
    *,
    maximum: float | None = None,
) -> Chart:
    """Lay out a chart with one row of bars per category and one bar per series in it.

    ``points[c][s]`` is series ``s`` of category ``c``. ``maximum`` is the value of a full
    bar (5 for a 1-5 mean, 100 for a percentage); without it, the largest value is.
    With several series each bar's text starts with its series name.
    """
    if not series or len(series) > len(PATTERNS):
        raise ValueError(f"a chart has 1 to {len(PATTERNS)} series, got {len(series)}")
    if len(points) != len(categories) or any(len(row) != len(series) for row in points):
        raise ValueError("points must hold one value per series for each category")
    values = [p.value for row in points for p in row if p.value is not None]
    if any(v < 0 for v in values):
        raise ValueError("bar values cannot be negative")
    full = maximum if maximum is not None else max(values, default=0.0)
    scale = BAR_MAX / full if full > 0 else 0.0
    patterns = PATTERNS[: len(series)]
    y = 0.0
    legend: list[LegendEntry] = []
    if len(series) > 1:
        for name, pattern in zip(series, patterns, strict=True):
            legend.append(LegendEntry(label=name, pattern=pattern, y=y))
            y += LEGEND_LINE
        y += GROUP_GAP / 2
    laid_out: list[Category] = []
    summary: list[str] = []
    for label, row in zip(categories, points, strict=True):
        label_y = y + LABEL_LINE - 5
        y += LABEL_LINE
        bars: list[Bar] = []
        for name, pattern, point in zip(series, patterns, row, strict=True):
            several = len(series) > 1
            text = f"{name}: {point.text}" if several else point.text
            drawn = point.value is not None
            width = round(min(point.value or 0.0, full) * scale, 1) if drawn else 0.0
            text_y = y + BAR_HEIGHT - 4
            if several and drawn:  # "series: value" is too long beside a bar on a phone: on its own line
                text_y = y + TEXT_LINE - 4
                y += TEXT_LINE
            bars.append(
                Bar(
                    y=y,
                    width=width,
                    height=BAR_HEIGHT,
                    pattern=pattern,
                    text=text,
                    text_x=round(width + 6, 1) if drawn and not several else 0.0,
                    text_y=text_y,
                    drawn=drawn,
                )
            )
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP
        laid_out.append(Category(label=_shorten(label), label_y=label_y, bars=tuple(bars)))
        summary.append(f"{label}: " + ", ".join(bar.text for bar in bars))
    return Chart(
        id=chart_id,
        title=title,
        description="; ".join(summary) + "." if summary else "",
        width=WIDTH,
        height=max(y, LABEL_LINE),
        legend=tuple(legend),
        categories=tuple(laid_out),
        patterns=patterns,
    )
