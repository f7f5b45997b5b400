"""Server-side SVG charts: horizontal bars, a histogram and stacked bars over weeks; no JavaScript.

This module only computes geometry (deterministic, rounded to 0.01 px, so the same numbers draw the
same picture and a bar's length is proportional to its value); the SVG itself comes from the templates
in ``templates/charts/`` rendered by the one sandboxed, autoescaping environment of ``pages``, so
every label is escaped. Each chart carries a title and a description for assistive technology; the
page puts a table with the same numbers under it.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from app.web.pages import render

FONT = 12
_UNIT = 6.6  # px per half-width character at FONT; a full-width (CJK) character counts twice
_MAX_LABEL = 270.0
PLOT = 360.0  # px: the length of a full bar (100 %, or the largest value)
ROW = 26
BAR = 18
COLUMN = 76  # histogram columns (room for a bucket label such as "30分钟–1小时")
WEEK = 40  # week columns (a label like "3/30")
GAP = 6
HEIGHT = 160.0  # px: the tallest column
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#7f7f7f", "#000000")


@dataclass(frozen=True)
class Caption:
    """What a chart is called and says in words: its id on the page, title, description, empty text."""

    id: str
    title: str
    description: str
    empty: str  # said instead of a chart when there is nothing to draw


@dataclass(frozen=True)
class Bar:
    label: str  # full label (tooltip and accessible name)
    short: str  # as drawn, shortened to fit the label column
    text: str  # the value as written next to the bar
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    caption: Caption
    label_width: float
    width: float
    height: float
    bars: tuple[Bar, ...]
    template: str = "charts/bars.svg"


@dataclass(frozen=True)
class Column:
    label: str  # full label (tooltip and accessible name)
    short: str  # as drawn under the column
    text: str
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Histogram:
    caption: Caption
    width: float
    height: float
    base: float  # y of the baseline
    columns: tuple[Column, ...]
    column: float = COLUMN
    template: str = "charts/histogram.svg"


@dataclass(frozen=True)
class Segment:
    label: str  # "<series>: <value>" for the tooltip
    color: str
    y: float
    height: float


@dataclass(frozen=True)
class Stack:
    label: str
    total: int
    x: float
    top: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Legend:
    label: str
    color: str
    x: float
    y: float


@dataclass(frozen=True)
class StackedChart:
    caption: Caption
    width: float
    height: float
    base: float
    stacks: tuple[Stack, ...]
    legend: tuple[Legend, ...]
    column: float = WEEK
    template: str = "charts/stacked.svg"


def _units(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(label: str, pixels: float) -> str:
    """``label`` shortened with an ellipsis to fit ``pixels`` at the chart font."""
    if _units(label) * _UNIT <= pixels:
        return label
    kept = ""
    for character in label:
        if (_units(kept + character) + 1) * _UNIT > pixels:
            break
        kept += character
    return kept + "…"


def _px(value: float) -> float:
    return round(value, 2)


def bar_chart(
    caption: Caption, items: Sequence[tuple[str, float | None, str]], maximum: float = 1.0
) -> BarChart:
    """Horizontal bars: (label, value or None for no bar, value text); ``maximum`` draws full length."""
    label_width = _px(min(_MAX_LABEL, max((_units(label) * _UNIT for label, _, _ in items), default=0) + 8))
    scale = PLOT / maximum if maximum > 0 else 0.0
    bars = tuple(
        Bar(label, fit(label, label_width - 8), text, float(index * ROW + 4), _px((value or 0.0) * scale))
        for index, (label, value, text) in enumerate(items)
    )
    width = _px(label_width + PLOT + 60)
    return BarChart(caption, label_width, width, float(max(len(bars) * ROW + 8, 32)), bars)


def histogram(caption: Caption, buckets: Sequence[tuple[str, int]]) -> Histogram:
    """Vertical columns of counts, heights proportional to the largest; the label under each column."""
    top = max((count for _, count in buckets), default=0)
    scale = HEIGHT / top if top else 0.0
    base = HEIGHT + 20
    columns = tuple(
        Column(
            label,
            fit(label, COLUMN + GAP),
            str(count),
            float(8 + index * (COLUMN + GAP)),
            _px(base - count * scale),
            _px(count * scale),
        )
        for index, (label, count) in enumerate(buckets)
    )
    width = float(16 + len(buckets) * (COLUMN + GAP))
    return Histogram(caption, width, base + 24, base, columns if top else ())


def stacked_weeks(
    caption: Caption, weeks: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> StackedChart:
    """One column per week, stacked by series (departments), each with its own colour and a legend."""
    totals = [sum(values[i] for _, values in series) for i in range(len(weeks))]
    top = max(totals, default=0)
    scale = HEIGHT / top if top else 0.0
    base = HEIGHT + 20
    width = float(max(16 + len(weeks) * (WEEK + GAP), 320))
    stacks: list[Stack] = []
    for index, week in enumerate(weeks):
        y = base
        segments: list[Segment] = []
        for number, (name, values) in enumerate(series):
            height = _px(values[index] * scale)
            if values[index]:
                y = _px(y - height)
                segments.append(Segment(f"{name}: {values[index]}", _color(number), y, height))
        stacks.append(Stack(week, totals[index], float(8 + index * (WEEK + GAP)), y, tuple(segments)))
    legend = tuple(
        Legend(fit(name, width - 40), _color(number), 8.0, base + 36 + number * 18)
        for number, (name, _) in enumerate(series)
    )
    height = base + 36 + len(series) * 18
    return StackedChart(caption, width, height, base, tuple(stacks) if top else (), legend)


def _color(number: int) -> str:
    return PALETTE[number % len(PALETTE)]


def svg(chart: BarChart | Histogram | StackedChart) -> str:
    """The chart as a standalone SVG document (what the page embeds, rendered on its own)."""
    return render(chart.template, "en", chart=chart)
