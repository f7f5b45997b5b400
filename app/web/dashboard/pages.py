"""Dashboard (R12, R15): on-time shares, response and resolution times, violations per week, unresolved
complaints and the department ranking, as server-side SVG charts with their tables, and as CSV.

``GET /dashboard`` (admin, auditor, staff; anonymous: to the sign-in page) takes ``from`` and ``to``
(YYYY-MM-DD, local to the active policy's zone; default the last 90 days) and ``department``;
``GET /dashboard/{table}.csv`` (the same roles, by API token or session; anonymous: 401) downloads
one table with the same filters. Nothing here shows patient data: departments, steps, counts,
durations and complaint numbers only. The CSV starts with a UTF-8 byte order mark, so spreadsheet
programs read Japanese and Chinese names correctly.
"""

import io
import re
from dataclasses import dataclass
from datetime import UTC, date
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.web import i18n
from app.web.auth import Principal, Role, api_user, page_language, page_user
from app.web.context import WebContext, web_context
from app.web.dashboard.figures import DashboardCharts, charts_for
from app.web.dashboard.texts import dashboard_texts, duration, percent
from app.web.pages import render
from flows.dashboard.export import TABLES, write_csv
from flows.dashboard.report import (
    Dashboard,
    PeriodInvalid,
    build_dashboard,
    in_range,
    period_for,
)
from models.timeutil import FIRST_DAY, LAST_DAY

router = APIRouter(include_in_schema=False)
READERS = (Role.ADMIN, Role.AUDITOR, Role.STAFF)
Context = Annotated[WebContext, Depends(web_context)]
PageReader = Annotated[Principal, Depends(page_user(*READERS))]
ApiReader = Annotated[Principal, Depends(api_user(*READERS))]
DateText = Annotated[str | None, Query(alias="from", max_length=40)]
ToText = Annotated[str | None, Query(alias="to", max_length=40)]
DepartmentText = Annotated[str | None, Query(max_length=100)]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
UNRESOLVED_SHOWN = 20
_NO_STORE = {"Cache-Control": "no-store"}


class BadQuery(ValueError):
    """The filters cannot be read; ``key`` names the text explaining why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def text(self, language: str) -> str:
        return dashboard_texts(language)[self.key].format(first=FIRST_DAY, last=LAST_DAY)


@dataclass(frozen=True)
class Filters:
    first: date | None
    last: date | None
    department: str | None


def _date(text: str | None) -> date | None:
    if not text:
        return None
    if not _DATE.fullmatch(text):
        raise BadQuery("bad_date")
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise BadQuery("bad_date") from exc
    if not in_range(day):
        raise BadQuery("bad_range")
    return day


def _filters(first: str | None, last: str | None, department: str | None) -> Filters:
    return Filters(_date(first), _date(last), department or None)


def _zone(context: WebContext) -> ZoneInfo:
    pinned = context.runtime.registry.active
    return pinned.policy.calendar.zone if pinned else ZoneInfo("UTC")


def _board(context: WebContext, filters: Filters) -> Dashboard:
    runtime = context.runtime
    now = runtime.clock.now().astimezone(UTC)
    try:
        period = period_for(now, _zone(context), filters.first, filters.last)
    except PeriodInvalid as exc:
        raise BadQuery("bad_period") from exc
    with runtime.sessions() as session:
        return build_dashboard(session, runtime.registry, period, now, filters.department)


def _query(board: Dashboard) -> str:
    """The filters as shown, for the CSV and language links (the period resolved to its dates)."""
    values = {"from": board.period.first.isoformat(), "to": board.period.last.isoformat()}
    if board.department:
        values["department"] = board.department
    return urlencode(values)


def _helpers(language: str) -> dict[str, Any]:
    texts = dashboard_texts(language)
    return {
        "pct": percent,
        "dur": lambda seconds: duration(seconds, language),
        "named": lambda name: name or texts["unassigned"],
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    context: Context,
    *,
    user: PageReader,
    first: DateText = None,
    last: ToText = None,
    department: DepartmentText = None,
) -> HTMLResponse:
    language = page_language(request, context)
    texts = dashboard_texts(language)
    board: Dashboard | None = None
    charts: DashboardCharts | None = None
    problem = None
    try:
        board = _board(context, _filters(first, last, department))
        charts = charts_for(board, language)
    except BadQuery as exc:
        problem = exc.text(language)
    html = render(
        "dashboard.html", language,
        d=texts, user=user, board=board, charts=charts, problem=problem, zone=str(_zone(context)),
        query=_query(board) if board else "", languages=i18n.LANGUAGES,
        values={"from": first or "", "to": last or ""},
        unresolved_shown=UNRESOLVED_SHOWN, **_helpers(language),
    )  # fmt: skip
    response = HTMLResponse(html, status_code=422 if problem else 200, headers=_NO_STORE)
    i18n.remember(request, response, language)
    return response


@router.get("/dashboard/{table}.csv")
def dashboard_csv(
    table: str,
    context: Context,
    *,
    user: ApiReader,
    first: DateText = None,
    last: ToText = None,
    department: DepartmentText = None,
) -> Response:
    if table not in TABLES:
        return Response("no such table\n", status_code=404, media_type="text/plain")
    try:
        board = _board(context, _filters(first, last, department))
    except BadQuery as exc:
        message = exc.text("en")
        return Response(message + "\n", status_code=422, media_type="text/plain")
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(board, table, out)
    name = f"dashboard-{table}-{board.period.first}-{board.period.last}.csv"
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
