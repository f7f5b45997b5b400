"""The administrators' failed-mail page: outbox rows the server refused for good, or that keep failing.

A receipt to an address the relay refuses, or a notification behind a broken template, would otherwise
fail where nobody looks. The page shows facts only: the complaint, the kind of email and its step, the
recipient as a person id or "complainant", how often it was tried, the class of the last error and
when it was queued. Never an address, a subject, a body or the error's text (which can quote an
address).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.web.admin.mail_texts import mail_failure_texts
from app.web.auth import Principal, Role, page_language, page_user
from app.web.context import WebContext, web_context
from app.web.login import page
from flows.runtime.outbox import error_class
from models.tables import OutboxRow

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(web_context)]
Admin = Annotated[Principal, Depends(page_user(Role.ADMIN))]
MAX_ROWS = 500  # the newest; an outage that fails more than this is visible from the first page


@dataclass(frozen=True)
class FailedMail:
    complaint: str
    kind: str
    step: str | None
    recipient: str  # a person id, or "complainant"
    status: str  # "failed" (given up) or "retrying"
    attempts: int
    error: str | None  # the last error's class only
    queued: str


def failed_mail(session: Session, limit: int = MAX_ROWS) -> list[OutboxRow]:
    """Rows given up on, and unsent rows whose last attempt failed, newest first."""
    query = (
        select(OutboxRow)
        .where(
            or_(
                OutboxRow.status == "failed",
                (OutboxRow.status != "sent") & OutboxRow.last_error.is_not(None),
            )
        )
        .order_by(OutboxRow.created_at.desc(), OutboxRow.key)
        .limit(limit)
    )
    return list(session.scalars(query))


def _view(row: OutboxRow, when: str) -> FailedMail:
    return FailedMail(
        complaint=row.complaint_id,
        kind=row.kind,
        step=row.step,
        recipient=row.recipient,
        status="failed" if row.status == "failed" else "retrying",
        attempts=row.attempts,
        error=error_class(row.last_error),
        queued=when,
    )


def _when(moment: datetime, context: WebContext) -> str:
    pinned = context.runtime.registry.active
    local = moment.astimezone(pinned.policy.calendar.zone) if pinned else moment
    return local.strftime("%Y-%m-%d %H:%M %Z")


@router.get("/admin/mail-failures", response_class=HTMLResponse)
def mail_failures_page(request: Request, context: Context, user: Admin) -> HTMLResponse:
    language = page_language(request, context)
    with context.runtime.sessions() as session:
        rows = [_view(row, _when(row.created_at, context)) for row in failed_mail(session)]
    return page(
        request, context, "mail_failures.html", language,
        user=user, rows=rows, m=mail_failure_texts(language),
    )  # fmt: skip
