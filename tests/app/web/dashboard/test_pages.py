"""The dashboard page and its CSV downloads, over the hand-worked week of
``tests/flows/dashboard/test_report.py``:
who may see them, what they show, that the CSVs carry the page's numbers, and no patient data."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web.application import create_app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel, Complainant
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, sign_in
from tests.dashboard_support import record_week
from tests.runtime_support import START, make_runtime

TABLES = (
    "departments",
    "steps",
    "department_steps",
    "response_times",
    "resolution_times",
    "violations_by_week",
    "unresolved",
    "ranking",
)
PATIENT = "山田 花子"
BODY = "待合室で三時間待たされました"


@contextmanager
def _recorded_week(folder: Path) -> Iterator[Runtime]:
    """A runtime over a fresh SQLite database holding the hand-worked week."""
    url = f"sqlite:///{folder / 'dashboard.db'}"
    migrate(url)
    sink = MailSink(host="127.0.0.1", port=0, store=folder / "mail")
    sink.start()
    try:
        clock = FakeClock(START)
        runtime = make_runtime(url, sink, clock)
        record_week(runtime, clock)
        yield runtime
    finally:
        sink.stop()


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Shared by the tests that only read (each signs in its own new account with its own client)."""
    with _recorded_week(tmp_path_factory.mktemp("dashboard")) as runtime:
        yield runtime


@pytest.fixture
def site(week: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    with TestClient(create_app(week)) as client:
        yield client, week


class _Tables(HTMLParser):
    """Cell texts of every table with an id, row by row (header cells included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in {"td", "th"} and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _csv(client: TestClient, table: str, query: str = "", **headers: str) -> list[list[str]]:
    response = client.get(f"/dashboard/{table}.csv{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("role", ["staff", "auditor", "admin"])
def test_every_signed_in_role_sees_the_numbers(site: tuple[TestClient, Runtime], role: str) -> None:
    client, runtime = site
    sign_in(client, runtime, role)
    page = client.get("/dashboard?lang=en")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.text
    tables = _tables(page.text)
    assert tables["table-departments"][1:] == [
        ["巡回健診部", "4", "3", "1", "0", "75.0%"],
        ["外来(京橋クリニック)", "4", "0", "0", "4", "0.0%"],
        ["介護事業部", "4", "3", "1", "0", "75.0%"],
    ]
    assert [row[:3] for row in tables["table-ranking"][1:]] == [
        ["1", "巡回健診部", "75.0%"],
        ["1", "介護事業部", "75.0%"],
        ["3", "外来(京橋クリニック)", "0.0%"],
        ["—", "経営本部", "—"],
    ]
    assert tables["table-response"][1][:4] == ["All shown", "2", "20 min", "28 min"]
    assert page.text.count('role="img"') == 6


def test_the_csvs_carry_the_numbers_the_page_shows(site: tuple[TestClient, Runtime]) -> None:
    client, runtime = site
    sign_in(client, runtime, "auditor")
    tables = _tables(client.get("/dashboard?lang=en").text)
    departments = _csv(client, "departments")
    assert departments[0] == [
        "department",
        "department_name",
        "due",
        "met",
        "late",
        "missed",
        "on_time_percent",
    ]
    page_rows = [[row[0], *row[1:5], row[5].rstrip("%")] for row in tables["table-departments"][1:]]
    assert [row[1:] for row in departments[1:]] == page_rows
    ranking = _csv(client, "ranking")
    assert [(r[0], r[2], r[3], r[4]) for r in ranking[1:]] == [
        (row[0].replace("—", ""), row[1], row[2].rstrip("%").replace("—", ""), row[3])
        for row in tables["table-ranking"][1:]
    ]
    weeks = _csv(client, "violations_by_week")
    assert weeks[1:] == [
        ["2026-03-30", "checkup", "巡回健診部", "1"],
        ["2026-03-30", "clinic", "外来(京橋クリニック)", "4"],
        ["2026-03-30", "care", "介護事業部", "1"],
    ]
    page_week = next(row for row in tables["table-violations"] if row[0] == "2026-03-30")
    assert page_week == ["2026-03-30", "1", "4", "1", "6"]  # per department in directory order, total
    assert tables["table-violations"][0][1:] == ["巡回健診部", "外来(京橋クリニック)", "介護事業部", "Total"]
    response = _csv(client, "response_times")
    assert response[1][:5] == ["*", "", "2", "20.0", "28.0"]
    unresolved = _csv(client, "unresolved")
    assert [row[0] for row in unresolved[1:]] == [row[0] for row in tables["table-unresolved"][1:]]


def test_csvs_take_an_api_token_and_the_filters(site: tuple[TestClient, Runtime]) -> None:
    client, runtime = site
    headers = {"Authorization": f"Bearer {api_token(runtime, 'staff')}"}
    rows = _csv(client, "departments", "?department=clinic&from=2026-03-30&to=2026-04-05", **headers)
    assert rows[1:] == [["clinic", "外来(京橋クリニック)", "4", "0", "0", "4", "0.0"]]
    response = client.get("/dashboard/ranking.csv?from=2026-04-01&to=2026-04-01", headers=headers)
    assert response.headers["content-disposition"] == (
        'attachment; filename="dashboard-ranking-2026-04-01-2026-04-01.csv"'
    )
    empty = _csv(client, "departments", "?from=2026-03-01&to=2026-03-31", **headers)
    assert empty[1:] == []


def test_anonymous_readers_are_sent_to_sign_in_and_csvs_refused(site: tuple[TestClient, Runtime]) -> None:
    client, _ = site
    page = client.get("/dashboard?lang=ja", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/dashboard%3Flang%3Dja"
    for table in TABLES:
        assert client.get(f"/dashboard/{table}.csv").status_code == 401
    bad = {"Authorization": "Bearer cf_not-a-token"}
    assert client.get("/dashboard/ranking.csv", headers=bad).status_code == 401


def test_bad_filters_are_explained_and_unknown_tables_are_404(site: tuple[TestClient, Runtime]) -> None:
    client, runtime = site
    sign_in(client, runtime, "staff")
    backwards = client.get("/dashboard?from=2026-04-02&to=2026-04-01&lang=en")
    assert backwards.status_code == 422
    assert "on or before the end date" in backwards.text
    garbled = client.get("/dashboard?from=1.4.2026&lang=ja")
    assert garbled.status_code == 422
    assert "YYYY-MM-DD" in garbled.text
    assert client.get("/dashboard/ranking.csv?to=2026-02-30").status_code == 422
    assert client.get("/dashboard/secrets.csv").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["from=0001-01-01&to=0001-01-02", "from=9999-12-30&to=9999-12-31", "to=0001-01-01", "from=1999-12-31"],
)
def test_dates_at_the_ends_of_the_calendar_are_explained_not_a_server_error(
    site: tuple[TestClient, Runtime], query: str
) -> None:
    client, runtime = site
    sign_in(client, runtime, "staff")
    for language, text in (("en", "Choose dates from 2000-01-01 to 2999-12-31."),
                           ("ja", "日付は 2000-01-01 から 2999-12-31 までの範囲で指定してください。"),
                           ("zh", "请选择 2000-01-01 至 2999-12-31 之间的日期。")):  # fmt: skip
        page = client.get(f"/dashboard?{query}&lang={language}")
        assert page.status_code == 422
        assert f'<p class="problem" role="alert" id="problem">{text}</p>' in page.text
    for table in TABLES:
        download = client.get(f"/dashboard/{table}.csv?{query}")
        assert download.status_code == 422
        assert download.headers["content-type"].startswith("text/plain")
        assert download.text == "Choose dates from 2000-01-01 to 2999-12-31.\n"


def test_the_page_speaks_japanese_and_chinese(site: tuple[TestClient, Runtime]) -> None:
    client, runtime = site
    sign_in(client, runtime, "staff")
    japanese = client.get("/dashboard?lang=ja")
    assert '<html lang="ja">' in japanese.text
    assert "<h1>ダッシュボード</h1>" in japanese.text
    assert "部署別の期限内対応率" in japanese.text
    chinese = client.get("/dashboard?lang=zh")
    assert "<h1>统计面板</h1>" in chinese.text
    assert "部门排名" in chinese.text


def test_no_patient_data_reaches_the_page_or_the_csvs(tmp_path: Path) -> None:
    with _recorded_week(tmp_path) as runtime, TestClient(create_app(runtime)) as client:
        _show_no_patient_data(client, runtime)


def _show_no_patient_data(client: TestClient, runtime: Runtime) -> None:
    new = NewComplaint(
        channel=Channel.PHONE, heard_by="suzuki", subject="長時間の待ち", body=BODY,
        complainant=Complainant(name=PATIENT, email="hanako@example.jp", phone="090-1234-5678"),
    )  # fmt: skip
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    sign_in(client, runtime, "staff")
    shown = [client.get(f"/dashboard?lang={language}").text for language in ("ja", "en")]
    shown += [client.get(f"/dashboard/{table}.csv").content.decode("utf-8-sig") for table in TABLES]
    assert complaint_id in shown[0]  # complaint numbers are fine: unresolved, oldest first
    for text in shown:
        for private in (PATIENT, BODY, "長時間の待ち", "受付の対応", "hanako@example.jp", "090-1234-5678"):
            assert private not in text
        for staff_name in ("田中 一郎", "鈴木 花子", "佐藤 部長"):  # departments, not people, are ranked
            assert staff_name not in text
