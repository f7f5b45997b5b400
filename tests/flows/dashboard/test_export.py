"""The dashboard's CSV tables: stable headers, the page's numbers, and no formulas for spreadsheets."""

import csv
import io
from datetime import date, datetime

from flows.dashboard.export import TABLES, write_csv
from flows.dashboard.report import Dashboard, period_for
from flows.dashboard.rows import OnTime, Unresolved
from flows.dashboard.stats import RankInput, rank
from tests.factories import TOKYO

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=TOKYO)
HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _board() -> Dashboard:
    rows = (OnTime("ward", HOSTILE, "", "", 2, 1, 1), OnTime("-", "", "", "", 0, 0, 3))
    return Dashboard(
        period=period_for(NOW, TOKYO, date(2026, 3, 30), date(2026, 4, 2)), now=NOW, department=None,
        departments=(("ward", HOSTILE),), by_department=rows, by_step=(), by_department_step=(),
        response=(), resolution=(), weeks=(date(2026, 3, 30),), violations=(),
        unresolved=(Unresolved("2026-000002", "-", "", datetime(2026, 4, 1, 10, 5, tzinfo=TOKYO), 82500.0),),
        unresolved_ages=(1, 0, 0, 0, 0), ranking=tuple(rank([RankInput("ward", HOSTILE, 0.5, 2, 4)])),
    )  # fmt: skip


def _rows(table: str) -> list[list[str]]:
    out = io.StringIO()
    write_csv(_board(), table, out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_a_department_name_is_never_a_formula_and_a_lone_dash_stays() -> None:
    rows = _rows("departments")
    assert rows == [
        ["department", "department_name", "due", "met", "late", "missed", "on_time_percent"],
        ["ward", "'" + HOSTILE, "4", "2", "1", "1", "50.0"],
        ["-", "", "3", "0", "0", "3", "0.0"],
    ]
    assert _rows("ranking")[1] == ["1", "ward", "'" + HOSTILE, "50.0", "2", "4", "0.50"]


def test_times_are_local_and_ages_in_days() -> None:
    assert _rows("unresolved")[1] == ["2026-000002", "-", "", "2026-04-01T10:05:00+09:00", "0.95"]


def test_every_table_has_a_header_even_when_empty() -> None:
    for table in TABLES:
        assert len(_rows(table)[0]) >= 3
