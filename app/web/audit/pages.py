"""The auditors' pages: the violation log (filters, pages, streamed CSV/JSON export), a violation's
evidence with its rulings, current penalties per person, and the tamper check.

Auditors and administrators read everything; only auditors rule (confirm, dispute, waive). The
exports take the session cookie or an API token, so automation can fetch them too. Pages are never
cached: they show people's penalties.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from app.web import guard, i18n
from app.web.audit.texts import violation_texts
from app.web.audit.views import FORMAT, choices, due_bounds, log_rows, read_filter
from app.web.auth import Principal, Role, api_user, page_language, page_user
from app.web.context import WebContext, web_context
from app.web.pages import render
from flows.audit.enforcement import grace_for
from flows.audit.evidence import Evidence, evidence, timeline
from flows.audit.export import ViolationFilter, csv_chunks, iter_violations, json_chunks, newest_first
from flows.audit.penalties import current_penalties
from flows.audit.rulings import MAX_REASON, Ruling, RulingRefused, rule
from flows.audit.verify import verify_live
from models.timeutil import FilterDay

router = APIRouter()
Context = Annotated[WebContext, Depends(web_context)]
Reader = Annotated[Principal, Depends(page_user(Role.AUDITOR, Role.ADMIN))]
Auditor = Annotated[Principal, Depends(page_user(Role.AUDITOR))]
Automation = Annotated[Principal, Depends(api_user(Role.AUDITOR, Role.ADMIN))]
PAGE_SIZE = 50
_NO_STORE = {"Cache-Control": "no-store"}


def _zone(context: WebContext) -> ZoneInfo:
    active = context.runtime.registry.active
    return active.policy.calendar.zone if active else ZoneInfo("UTC")


def _page(
    request: Request, context: WebContext, user: Principal, name: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    language = page_language(request, context)
    nonce, token = guard.issue_csrf(context.runtime.links.secret, request)
    html = render(
        name, language, v=violation_texts(language), user=user, csrf=token, path=request.url.path,
        languages=i18n.LANGUAGES, **ctx,
    )  # fmt: skip
    response = HTMLResponse(html, status_code=status, headers=_NO_STORE)
    guard.set_csrf_cookie(request, response, nonce)
    i18n.remember(request, response, language)
    return response


# --- the log and its exports -------------------------------------------------------------------------


@router.get("/audit/violations", response_class=HTMLResponse, include_in_schema=False)
def violation_log(
    request: Request,
    context: Context,
    user: Reader,
    after: Annotated[str | None, Query(max_length=300)] = None,
) -> HTMLResponse:
    runtime = context.runtime
    where, values, bad_date = read_filter(request.query_params, _zone(context))
    with runtime.sessions() as session:
        found = [] if bad_date else newest_first(session, where, after=after, limit=PAGE_SIZE)
        rows = log_rows(session, runtime.registry, found[:PAGE_SIZE])
        offered = choices(session)
    query = {k: value for k, value in values.items() if value}
    more = len(found) > PAGE_SIZE
    return _page(
        request, context, user, "violations.html", status=422 if bad_date else 200,
        rows=rows, values=values, choices=offered, bad_date=bad_date, first=after is None,
        query=urlencode(query), next_query=urlencode(query | {"after": rows[-1].key}) if more else None,
        zone=str(_zone(context)),
    )  # fmt: skip


class ExportFilter(BaseModel):
    """The log page's filters, for the exports (an unknown value matches nothing)."""

    person: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    step: str | None = Field(default=None, max_length=100)
    version: str | None = Field(default=None, max_length=100)
    status: Literal["recorded", "confirmed", "disputed", "waived"] | None = None
    due_from: FilterDay | None = Field(default=None, description="due on or after this day (clinic time)")
    due_to: FilterDay | None = Field(default=None, description="due on or before this day (clinic time)")

    def where(self, zone: ZoneInfo) -> ViolationFilter:
        since, until = due_bounds(self.due_from, self.due_to, zone)
        return ViolationFilter(
            actor=self.person, department=self.department, step=self.step, policy_version=self.version,
            status=self.status, due_since=since, due_until=until,
        )  # fmt: skip


Filters = Annotated[ExportFilter, Query()]
Responses = dict[int | str, dict[str, Any]]
_AUTH: Responses = {
    401: {"description": "not signed in, no valid API token"},
    403: {"description": "wrong role"},
}


def _content(media_type: str, schema: dict[str, Any]) -> Responses:
    return {200: {"content": {media_type: {"schema": schema}}}} | _AUTH


def _stream(
    sessions: sessionmaker[Session], where: ViolationFilter, chunks: Callable[..., Iterator[str]]
) -> Iterator[str]:
    # The session lives as long as the response streams; rows are read in batches (constant memory).
    with sessions() as session:
        yield from chunks(iter_violations(session, where))


@router.get(
    "/audit/violations.csv",
    response_class=StreamingResponse,
    responses=_content("text/csv", {"type": "string"}),
)
def export_csv(context: Context, user: Automation, filters: Filters) -> StreamingResponse:
    """The filtered violation log as CSV, streamed."""
    body = _stream(context.runtime.sessions, filters.where(_zone(context)), csv_chunks)
    disposition = {"Content-Disposition": 'attachment; filename="violations.csv"'}
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=_NO_STORE | disposition)


@router.get(
    "/audit/violations.json",
    response_class=StreamingResponse,
    responses=_content("application/json", {"type": "array", "items": {"type": "object"}}),
)
def export_json(context: Context, user: Automation, filters: Filters) -> StreamingResponse:
    """The filtered violation log as one JSON array, streamed."""
    body = _stream(context.runtime.sessions, filters.where(_zone(context)), json_chunks)
    disposition = {"Content-Disposition": 'attachment; filename="violations.json"'}
    return StreamingResponse(body, media_type="application/json", headers=_NO_STORE | disposition)


# --- one violation: evidence and rulings ---------------------------------------------------------------


def _evidence_page(
    request: Request, context: WebContext, user: Principal, key: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    with context.runtime.sessions() as session:
        found = evidence(session, context.runtime.registry, key)
    if found is None:
        texts = violation_texts(page_language(request, context))
        return _page(
            request, context, user, "message.html", status=404,
            title=texts["not_found_title"], message=texts["not_found"], css="problem",
        )  # fmt: skip
    return _page(
        request, context, user, "evidence.html", status=status, ev=found, moments=timeline(found),
        when=_when(found), person=_namer(found), span=_span, can_rule=user.role is Role.AUDITOR,
        rulings=[r.value for r in Ruling], max_reason=MAX_REASON,
        action=f"/audit/violations/{quote(key, safe='/')}/rulings", **(_EVIDENCE_DEFAULTS | ctx),
    )  # fmt: skip


_EVIDENCE_DEFAULTS: dict[str, Any] = {"notice": False, "problem": None, "reason": ""}
_PROBLEMS = {"reason": "refused_reason", "same": "refused_same"}


def _when(found: Evidence) -> Callable[[datetime | None], str]:
    zone = found.pinned.policy.calendar.zone
    return lambda at: f"{at.astimezone(zone):{FORMAT}}" if at else "–"


def _namer(found: Evidence) -> Callable[[str | None], str]:
    org = found.pinned.org

    def name(actor: str | None) -> str:
        person = org.person(actor) if actor else None
        return f"{person.name} ({actor})" if person else (actor or "–")

    return name


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    return (f"{days}d " if days else "") + f"{rest // 60}h{rest % 60:02d}m"


@router.get("/audit/violations/{key:path}", response_class=HTMLResponse, include_in_schema=False)
def violation_evidence(
    key: str, request: Request, context: Context, user: Reader, ruled: bool = False
) -> HTMLResponse:
    return _evidence_page(request, context, user, key, notice=ruled)


@router.post("/audit/violations/{key:path}/rulings", response_class=HTMLResponse, include_in_schema=False)
def post_ruling(
    key: str,
    *,
    request: Request,
    context: Context,
    user: Auditor,
    ruling: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=4 * MAX_REASON)] = "",
    csrf_token: Annotated[str, Form(max_length=guard.MAX_TOKEN)] = "",
) -> Response:
    runtime = context.runtime
    if not guard.csrf_ok(runtime.links.secret, request, csrf_token):
        return _evidence_page(request, context, user, key, status=403, problem="refused_csrf", reason=reason)
    if ruling not in {r.value for r in Ruling}:
        return _evidence_page(request, context, user, key, status=422, problem="refused", reason=reason)
    try:
        with runtime.sessions.begin() as session:
            rule(session, key, Ruling(ruling), reason=reason, auditor=user.username, now=runtime.clock.now())
    except RulingRefused as exc:
        status = 404 if exc.code == "unknown" else 422
        problem = _PROBLEMS.get(exc.code, "refused")
        return _evidence_page(request, context, user, key, status=status, problem=problem, reason=reason)
    return RedirectResponse(f"/audit/violations/{quote(key, safe='/')}?ruled=1", status_code=303)


# --- penalties and the tamper check ---------------------------------------------------------------------


@router.get("/audit/penalties", response_class=HTMLResponse, include_in_schema=False)
def penalties_page(request: Request, context: Context, user: Reader) -> HTMLResponse:
    runtime = context.runtime
    now = runtime.clock.now()
    with runtime.sessions() as session:
        people = current_penalties(session, runtime.registry, now)
    zone = _zone(context)
    return _page(
        request, context, user, "penalties.html", people=people, today=f"{now.astimezone(zone):%Y-%m-%d}"
    )


@router.get("/audit/verify", response_class=HTMLResponse, include_in_schema=False)
def verify_page(request: Request, context: Context, user: Reader) -> HTMLResponse:
    runtime = context.runtime
    with runtime.sessions() as session:
        report = verify_live(session, runtime.clock.now(), grace=grace_for(runtime.poll_seconds))
    return _page(request, context, user, "verify.html", report=report)
