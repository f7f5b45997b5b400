"""The JSON API: create complaints, record actions on steps, read timelines and violations.

Every state change is committed before the 2xx; then the scheduler is kicked so the flow runs at once.
Creating a complaint is public intake, like the web form, for what a complainant knows; what only staff
know (who heard it and when, another channel, triage) needs a staff or admin account, which is then
kept in the event as the recorder (``app.web.api.checks``). Everything else needs an account: an API
token as ``Authorization: Bearer`` or a signed-in browser's session (see ``app.web.auth``), with a role
the route lets in; no credentials is 401, the wrong role 403.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from app.web.api import queries as api_queries
from app.web.api.checks import check_new_complaint, check_trust
from app.web.api.models import ComplaintIn, Created, Problem, Recorded, Timeline, ViolationPage
from app.web.auth import Principal, Role, api_user, optional_api_user
from app.web.context import WebContext, web_context
from flows.records.events import append_event
from models.events import StepDone
from models.tables import ComplaintRow, ViolationRow
from models.timeutil import AwareDatetime

router = APIRouter()
Context = Annotated[WebContext, Depends(web_context)]
ComplaintId = Annotated[str, Path(min_length=1, max_length=64)]
# Who may do what (roles are not a hierarchy). Dependencies so the check runs before any lookup.
Recorder = Annotated[Principal, Depends(api_user(Role.STAFF, Role.ADMIN))]
Submitter = Annotated[Principal | None, Depends(optional_api_user)]
TIMELINE_READERS = [Depends(api_user(Role.STAFF, Role.AUDITOR, Role.ADMIN))]
VIOLATION_READERS = [Depends(api_user(Role.AUDITOR, Role.ADMIN))]

Responses = dict[int | str, dict[str, Any]]
FORBIDDEN: Responses = {
    401: {"model": Problem, "description": "no valid API token or session"},
    403: {"model": Problem, "description": "the account's role may not do this"},
}
STAFF_ONLY: Responses = {
    401: {"model": Problem, "description": "an API token was sent and is not valid"},
    403: {"model": Problem, "description": "fields only a staff or admin account may set (named)"},
}
UNKNOWN: Responses = {404: {"model": Problem, "description": "unknown complaint"}}
TOO_LARGE: Responses = {413: {"model": Problem, "description": "request body too large"}}


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(min_length=1, max_length=64)
    by: str = Field(min_length=1, max_length=64)
    to: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


@router.get("/healthz")
def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.post("/api/complaints", status_code=201, response_model=Created, responses=STAFF_ONLY | TOO_LARGE)
async def create_complaint(new: ComplaintIn, context: Context, user: Submitter) -> Created:
    """Receive a complaint; the received time is the server's. See ``ComplaintIn`` for who may send what."""
    check_trust(new, user)
    runtime = context.runtime
    check_new_complaint(new, runtime.registry.active, runtime.intake_window, runtime.clock.now())
    recorder = user.username if user is not None else None
    return Created(id=await context.accept(new, recorded_by=recorder))


@router.post(
    "/api/complaints/{complaint_id}/actions",
    status_code=202,
    response_model=Recorded,
    responses=FORBIDDEN | UNKNOWN | TOO_LARGE,
)
def record_action(complaint_id: ComplaintId, action: ActionIn, context: Context, user: Recorder) -> Recorded:
    """Record a step as done. A staff account linked to a person records only that person's steps;
    accounts without a person (admins, automation) may record anyone's, and are kept as the recorder."""
    if user.role is Role.STAFF and user.person is not None and action.by != user.person:
        raise HTTPException(status_code=403, detail=f"this account records steps for {user.person} only")
    runtime = context.runtime
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        if session.get(ComplaintRow, complaint_id) is None:
            raise HTTPException(status_code=404, detail=f"unknown complaint {complaint_id}")
        recorder = None if user.person == action.by else user.username
        event = StepDone(complaint=complaint_id, at=now, recorded_by=recorder, **action.model_dump())
        seq = append_event(session, event, now).seq
    context.kick()
    return Recorded(complaint=complaint_id, seq=seq)


@router.get(
    "/api/complaints/{complaint_id}/timeline",
    response_model=Timeline,
    dependencies=TIMELINE_READERS,
    responses=FORBIDDEN | UNKNOWN,
)
def read_timeline(complaint_id: ComplaintId, context: Context) -> Timeline:
    """Events, obligations, violations and emails of one complaint: facts only, no complaint text."""
    with context.runtime.sessions() as session:
        complaint = session.get(ComplaintRow, complaint_id)
        if complaint is None:
            raise HTTPException(status_code=404, detail=f"unknown complaint {complaint_id}")
        return api_queries.timeline(session, complaint)


@router.get(
    "/api/violations",
    response_model=ViolationPage,
    dependencies=VIOLATION_READERS,
    responses=FORBIDDEN,
)
def list_violations(
    *,
    context: Context,
    step: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[AwareDatetime | None, Query(description="detected at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="detected before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=300, description="the previous page's `next`")] = None,
) -> ViolationPage:
    """Violations in detection order, filtered by step, actor and detection time, a page at a time."""
    with context.runtime.sessions() as session:
        cursor = None
        if after is not None:
            cursor = session.get(ViolationRow, after)
            if cursor is None:
                loc = ("query", "after")
                raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": "unknown cursor"}])
        rows = api_queries.violations(
            session, step=step, actor=actor, since=since, until=until, limit=limit, after=cursor
        )
    page = rows[:limit]
    return ViolationPage(
        items=[api_queries.violation(r) for r in page],
        next=page[-1].key if len(rows) > limit else None,
    )
