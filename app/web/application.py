"""The FastAPI application: action links, the JSON API and the dev mail page.

Every state change goes through the runtime's database transaction first; only then does the caller
get a 2xx, and the scheduler is kicked so the flow runs at once.
"""

from collections.abc import Callable
from dataclasses import asdict
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Header, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app.web.actions import describe, record
from app.web.pages import TEXTS, render
from flows.event_log import append_event
from flows.intake import NewComplaint, accept_complaint
from flows.links import LinkRejected
from flows.runtime import Runtime
from models.events import StepDone
from models.tables import ComplaintRow
from notifiers.sink import read_store


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


def create_app(
    runtime: Runtime,
    *,
    kick: Callable[[], None] = lambda: None,
    api_token: str | None = None,
    mail_store: Path | None = None,
) -> FastAPI:
    app = FastAPI(title="complaintflow", version="0.1.0")

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if api_token is None or authorization != f"Bearer {api_token}":
            raise HTTPException(status_code=403, detail="a valid API token is required")

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/api/complaints", status_code=201, response_model=Created)
    def create_complaint(new: NewComplaint) -> Created:
        complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
        kick()
        return Created(id=complaint_id)

    @app.post(
        "/api/complaints/{complaint_id}/actions",
        status_code=202,
        response_model=Recorded,
        dependencies=[Depends(require_token)],
    )
    def record_action(complaint_id: str, action: ActionIn) -> Recorded:
        now = runtime.clock.now()
        with runtime.sessions.begin() as session:
            if session.get(ComplaintRow, complaint_id) is None:
                raise HTTPException(status_code=404, detail=f"unknown complaint {complaint_id}")
            event = StepDone(complaint=complaint_id, at=now, **action.model_dump())
            row = append_event(session, event, now)
            seq = row.seq
        kick()
        return Recorded(complaint=complaint_id, seq=seq)

    @app.get("/a/{token}", response_class=HTMLResponse)
    def show_action(token: str) -> HTMLResponse:
        now = runtime.clock.now()
        with runtime.sessions() as session:
            try:
                view = describe(runtime, session, runtime.links.inspect(session, token, now), now)
            except LinkRejected as exc:
                return _rejected(exc)
        fields = {k: v for k, v in asdict(view).items() if k != "language"}
        return HTMLResponse(render("action.html", view.language, **fields))

    @app.post("/a/{token}", response_class=HTMLResponse)
    def do_action(
        token: str,
        to: Annotated[str | None, Form(max_length=64)] = None,
        note: Annotated[str | None, Form(max_length=2000)] = None,
    ) -> HTMLResponse:
        try:
            view = record(runtime, token, to, note)
        except LinkRejected as exc:
            return _rejected(exc)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        kick()
        done = render(
            "message.html",
            view.language,
            title=view.step_title,
            message=_t(view.language, "done"),
            css="notice",
        )
        return HTMLResponse(done)

    if mail_store is not None:

        @app.get("/dev/mail", response_class=HTMLResponse)
        def mail() -> HTMLResponse:
            mails = [
                {
                    "subject": m.message["Subject"],
                    "sender": m.envelope_from,
                    "to": ", ".join(m.envelope_to),
                    "received_at": m.received_at.isoformat(timespec="seconds"),
                    "text": _text(m.message),
                }
                for m in reversed(read_store(mail_store))
            ]
            return HTMLResponse(render("mail.html", "en", mails=mails))

    return app


def _t(language: str, key: str) -> str:
    return TEXTS.get(language, TEXTS["en"])[key]


def _rejected(exc: LinkRejected) -> HTMLResponse:
    # 410 Gone: the link existed or could have, but cannot be used any more.
    page = render(
        "message.html", "en", title=_t("en", "rejected"), message=_t("en", exc.reason), css="problem"
    )
    return HTMLResponse(page, status_code=410)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""
