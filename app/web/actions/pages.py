"""Action-link pages: ``GET /a/<token>`` shows the step, the form's POST records it (once)."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from app.web.actions.record import NotARecipient, describe, record
from app.web.context import WebContext, web_context
from app.web.pages import TEXTS, render
from flows.runtime.links import LinkRejected

router = APIRouter()
Context = Annotated[WebContext, Depends(web_context)]


@router.get("/a/{token}", response_class=HTMLResponse)
def show_action(token: str, context: Context) -> HTMLResponse:
    runtime = context.runtime
    now = runtime.clock.now()
    with runtime.sessions() as session:
        try:
            view = describe(runtime, session, runtime.links.inspect(session, token, now), now)
        except LinkRejected as exc:
            return _rejected(exc)
    fields = {k: v for k, v in asdict(view).items() if k != "language"}
    return HTMLResponse(render("action.html", view.language, **fields))


@router.post("/a/{token}", response_class=HTMLResponse)
def do_action(
    token: str,
    context: Context,
    to: Annotated[str | None, Form(max_length=64)] = None,
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> HTMLResponse:
    try:
        view = record(context.runtime, token, to, note)
    except LinkRejected as exc:
        return _rejected(exc)
    except NotARecipient as exc:
        return _not_a_recipient(exc)
    context.kick()
    message = _t(view.language, "done")
    return HTMLResponse(
        render("message.html", view.language, title=view.step_title, message=message, css="notice")
    )


def _t(language: str, key: str) -> str:
    return TEXTS.get(language, TEXTS["en"])[key]


def _rejected(exc: LinkRejected) -> HTMLResponse:
    # 410 Gone: the link existed or could have, but cannot be used any more.
    page = render(
        "message.html", "en", title=_t("en", "rejected"), message=_t("en", exc.reason), css="problem"
    )
    return HTMLResponse(page, status_code=410)


def _not_a_recipient(exc: NotARecipient) -> HTMLResponse:
    view = exc.view
    separator = "、" if view.language in {"ja", "zh"} else ", "
    names = separator.join(name for _, name in view.targets)
    message = _t(view.language, "not_a_recipient").format(names=names)
    page = render("message.html", view.language, title=view.step_title, message=message, css="problem")
    return HTMLResponse(page, status_code=422)
