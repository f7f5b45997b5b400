"""The dashboard's tables as CSV: one download per table the page shows, the same numbers.

Headers are stable English column ids whatever the page's language (spreadsheets and scripts read
them); shares are percentages and durations minutes, both with one decimal; times are ISO 8601 in the
policy's zone. The first row of the time tables (department ``*``) is every shown department together.
A text cell longer than one character starting with ``=``, ``+``, ``-`` or ``@`` gets a leading
apostrophe, so a spreadsheet never runs a department name from the org file as a formula.
"""

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import IO

from flows.dashboard.report import Dashboard
from flows.dashboard.rows import OnTime, Times
from flows.dashboard.stats import DURATION_BOUNDS, Ranked

Cell = str | int | float
Table = tuple[list[str], Iterable[Sequence[Cell]]]
_COUNTS = ["due", "met", "late", "missed", "on_time_percent"]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _counts(row: OnTime) -> list[Cell]:
    return [row.due, row.met, row.late, row.missed, _percent(row.share)]


def _bucket_names() -> list[str]:
    minutes = [int(bound // 60) for bound in DURATION_BOUNDS]
    lows = [0, *minutes]
    return [f"{low}-{high}_min" for low, high in zip(lows, minutes, strict=False)] + [f"{minutes[-1]}+_min"]


def _times(rows: Sequence[Times]) -> Table:
    header = ["department", "department_name", "count", "median_minutes", "p90_minutes", *_bucket_names()]
    return header, (_spread_row(t) for t in rows)


def _spread_row(times: Times) -> list[Cell]:
    spread = times.spread
    head: list[Cell] = [times.department or "*", times.department_name, spread.count]
    return [*head, _minutes(spread.median), _minutes(spread.p90), *spread.buckets]


def _departments(board: Dashboard) -> Table:
    rows = ([r.department, r.department_name, *_counts(r)] for r in board.by_department)
    return ["department", "department_name", *_COUNTS], rows


def _steps(board: Dashboard) -> Table:
    return ["step", "step_title", *_COUNTS], ([r.step, r.step_title, *_counts(r)] for r in board.by_step)


def _department_steps(board: Dashboard) -> Table:
    header = ["department", "department_name", "step", "step_title", *_COUNTS]
    rows = (
        [r.department, r.department_name, r.step, r.step_title, *_counts(r)] for r in board.by_department_step
    )
    return header, rows


def _violations(board: Dashboard) -> Table:
    rows: Iterable[list[Cell]] = (
        [w.week.isoformat(), w.department, w.department_name, w.count] for w in board.violations
    )
    return ["week", "department", "department_name", "violations"], rows


def _unresolved(board: Dashboard) -> Table:
    zone = board.period.zone
    rows = (
        [u.complaint, u.department, u.department_name, u.received_at.astimezone(zone).isoformat(),
         f"{u.age / 86400:.2f}"]
        for u in board.unresolved
    )  # fmt: skip
    return ["complaint", "department", "department_name", "received_at", "age_days"], rows


def _ranking(board: Dashboard) -> Table:
    header = ["rank", "department", "department_name", "on_time_percent", "violations", "complaints",
              "violations_per_complaint"]  # fmt: skip
    return header, (_ranked_row(r) for r in board.ranking)


def _ranked_row(row: Ranked) -> list[Cell]:
    rank: Cell = "" if row.rank is None else row.rank
    per_complaint = "" if row.per_complaint is None else f"{row.per_complaint:.2f}"
    return [rank, row.key, row.label, _percent(row.on_time), row.violations, row.complaints, per_complaint]


TABLES: dict[str, Callable[[Dashboard], Table]] = {
    "departments": _departments,
    "steps": _steps,
    "department_steps": _department_steps,
    "response_times": lambda board: _times(board.response),
    "resolution_times": lambda board: _times(board.resolution),
    "violations_by_week": _violations,
    "unresolved": _unresolved,
    "ranking": _ranking,
}


def _safe(cell: Cell) -> Cell:
    # A lone "-" (the key of owners without a department) is no formula; anything longer may be one.
    return "'" + cell if isinstance(cell, str) and len(cell) > 1 and cell.startswith(_FORMULA) else cell


def write_csv(board: Dashboard, table: str, out: IO[str]) -> int:
    """Write ``table`` (one of ``TABLES``) as CSV to ``out``; return the number of data rows."""
    header, rows = TABLES[table](board)
    writer = csv.writer(out)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
        count += 1
    return count
