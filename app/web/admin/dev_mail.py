"""``/dev/mail``: what the development SMTP sink captured, newest first (dev mode only)."""

from email.message import EmailMessage
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from app.web.context import WebContext, web_context
from app.web.pages import render
from notifiers.outbound.sink import read_store

router = APIRouter()


@router.get("/dev/mail", response_class=HTMLResponse)
def mail(context: Annotated[WebContext, Depends(web_context)]) -> HTMLResponse:
    if context.mail_store is None:
        raise HTTPException(status_code=404, detail="the development mail sink is not running")
    mails = [
        {
            "subject": m.message["Subject"],
            "sender": m.envelope_from,
            "to": ", ".join(m.envelope_to),
            "received_at": m.received_at.isoformat(timespec="seconds"),
            "text": _text(m.message),
        }
        for m in reversed(read_store(context.mail_store))
    ]
    return HTMLResponse(render("mail.html", "en", mails=mails))


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""
