"""The JSON API: create complaints and record actions on steps.

Every state change is committed before the 2xx; then the scheduler is kicked so the flow runs at once.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from app.web.context import WebContext, web_context
from flows.event_log import append_event
from flows.intake import NewComplaint, accept_complaint
from models.events import StepDone
from models.tables import ComplaintRow

router = APIRouter()
Context = Annotated[WebContext, Depends(web_context)]


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(min_length=1, max_length=64)
    by: str = Field(min_length=1, max_length=64)
    to: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class Created(BaseModel):
    id: str


class Recorded(BaseModel):
    complaint: str
    seq: int


def require_token(context: Context, authorization: Annotated[str | None, Header()] = None) -> None:
    if context.api_token is None or authorization != f"Bearer {context.api_token}":
        raise HTTPException(status_code=403, detail="a valid API token is required")


@router.get("/healthz")
def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.post("/api/complaints", status_code=201, response_model=Created)
def create_complaint(new: NewComplaint, context: Context) -> Created:
    runtime = context.runtime
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    context.kick()
    return Created(id=complaint_id)


@router.post(
    "/api/complaints/{complaint_id}/actions",
    status_code=202,
    response_model=Recorded,
    dependencies=[Depends(require_token)],
)
def record_action(complaint_id: str, action: ActionIn, context: Context) -> Recorded:
    runtime = context.runtime
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        if session.get(ComplaintRow, complaint_id) is None:
            raise HTTPException(status_code=404, detail=f"unknown complaint {complaint_id}")
        event = StepDone(complaint=complaint_id, at=now, **action.model_dump())
        seq = append_event(session, event, now).seq
    context.kick()
    return Recorded(complaint=complaint_id, seq=seq)
