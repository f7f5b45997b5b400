"""The dashboard's charts, in the reader's language, from the numbers of ``flows.dashboard.report``.

Each chart's table on the page shows the same numbers; the weekly violations also come as a table with
one column per department, built here alongside their chart so both read the same series.
"""

from dataclasses import dataclass

from app.web.dashboard.charts import (
    BarChart,
    Caption,
    Histogram,
    StackedChart,
    bar_chart,
    histogram,
    stacked_weeks,
)
from app.web.dashboard.texts import dashboard_texts, percent, ranges
from flows.dashboard.report import Dashboard
from flows.dashboard.rows import OnTime
from flows.dashboard.stats import AGE_BOUNDS, DURATION_BOUNDS


@dataclass(frozen=True)
class WeekTable:
    departments: tuple[str, ...]  # column headings (names)
    rows: tuple[tuple[str, tuple[int, ...], int], ...]  # (Monday, ISO; count per department; total)


@dataclass(frozen=True)
class DashboardCharts:
    departments: BarChart
    steps: BarChart
    response: Histogram
    resolution: Histogram
    violations: StackedChart
    weeks: WeekTable
    unresolved: Histogram
    duration_ranges: tuple[str, ...]
    age_ranges: tuple[str, ...]


def charts_for(board: Dashboard, language: str) -> DashboardCharts:
    texts = dashboard_texts(language)

    def caption(chart_id: str, key: str) -> Caption:
        return Caption(chart_id, texts[key], texts["chart_description"], texts["no_data"])

    def shares(rows: tuple[OnTime, ...], label: str) -> list[tuple[str, float | None, str]]:
        return [(getattr(r, label) or texts["unassigned"], r.share, percent(r.share)) for r in rows]

    durations = ranges(DURATION_BOUNDS, language)
    ages = ranges(AGE_BOUNDS, language)
    weeks = _week_table(board, texts["unassigned"])
    series = [(name, [row[1][i] for row in weeks.rows]) for i, name in enumerate(weeks.departments)]
    return DashboardCharts(
        departments=bar_chart(
            caption("chart-departments", "chart_departments"), shares(board.by_department, "department_name")
        ),
        steps=bar_chart(caption("chart-steps", "chart_steps"), shares(board.by_step, "step_title")),
        response=histogram(
            caption("chart-response", "chart_response"),
            list(zip(durations, board.response[0].spread.buckets, strict=True)),
        ),
        resolution=histogram(
            caption("chart-resolution", "chart_resolution"),
            list(zip(durations, board.resolution[0].spread.buckets, strict=True)),
        ),
        violations=stacked_weeks(
            caption("chart-violations", "chart_violations"),
            [f"{week.month}/{week.day}" for week in board.weeks],
            series,
        ),
        weeks=weeks,
        unresolved=histogram(
            caption("chart-unresolved", "chart_unresolved"),
            list(zip(ages, board.unresolved_ages, strict=True)),
        ),
        duration_ranges=tuple(durations),
        age_ranges=tuple(ages),
    )


def _week_table(board: Dashboard, unassigned: str) -> WeekTable:
    """Every week of the period, one column per department with violations in it."""
    present = {count.department: count.department_name or unassigned for count in board.violations}
    position = {key: index for index, (key, _) in enumerate(board.departments)}
    keys = {k: present[k] for k in sorted(present, key=lambda k: (position.get(k, len(position)), k))}
    found = {(c.week, c.department): c.count for c in board.violations}
    rows = []
    for week in board.weeks:
        counts = tuple(found.get((week, key), 0) for key in keys)
        rows.append((week.isoformat(), counts, sum(counts)))
    return WeekTable(tuple(keys.values()), tuple(rows))
