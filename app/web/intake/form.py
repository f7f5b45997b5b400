"""HTML forms: the public complaint form, the staff form for phone/desk complaints, the status page.

The staff form needs a signed-in staff or admin account, which is kept in the complaint's event as
its recorder; the public form and status page need none. The public form takes only what a
complainant knows: a post carrying staff fields (who heard it, when, the channel, triage) is 403
naming them, never stored without them.

Order of checks on a public POST: rate limit (429), size (413), CSRF (403), honeypot (looks
accepted, stores nothing), staff-only fields (403), then the fields (422 with the form again).
Complaint text and contact details are never logged.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from app.web import guard, i18n
from app.web.auth import Principal, Role, page_user
from app.web.context import WebContext, web_context
from app.web.intake.input import (
    MAX_FILES,
    MAX_REQUEST_BYTES,
    MAX_TEXT,
    Parsed,
    TooLarge,
    Upload,
    local_input_value,
    parse_public,
    parse_staff,
    staff_fields_in,
)
from app.web.intake.status import complaint_of, status_token, status_view
from app.web.pages import TEXTS, render
from flows.intake.store import NewComplaint
from models.complaint import Attachment

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(web_context)]
Staff = Annotated[Principal, Depends(page_user(Role.STAFF, Role.ADMIN))]
HONEYPOT = "website"  # a field bots fill in and people never see


def _language(request: Request, context: WebContext) -> str:
    pinned = context.runtime.registry.active
    return i18n.choose(request, pinned.policy.language if pinned else "en")


def _page(
    request: Request, context: WebContext, name: str, language: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    """Render with a fresh CSRF token (and its cookie) and the language switch links."""
    nonce, token = guard.issue_csrf(context.runtime.links.secret, request)
    html = render(name, language, csrf=token, path=request.url.path, languages=i18n.LANGUAGES, **ctx)
    response = HTMLResponse(html, status_code=status)
    guard.set_csrf_cookie(request, response, nonce)
    i18n.remember(request, response, language)
    return response


def _message(request: Request, language: str, key: str, status: int, css: str = "problem") -> HTMLResponse:
    texts = TEXTS[language]
    page = render("message.html", language, title=texts[key + "_title"], message=texts[key], css=css)
    response = HTMLResponse(page, status_code=status)
    i18n.remember(request, response, language)
    return response


def _staff_only(request: Request, language: str, fields: list[str]) -> HTMLResponse:
    texts = TEXTS[language]
    message = texts["staff_only"].format(fields=", ".join(fields))
    page = render("message.html", language, title=texts["staff_only_title"], message=message, css="problem")
    response = HTMLResponse(page, status_code=403)
    i18n.remember(request, response, language)
    return response


def _categories(context: WebContext) -> tuple[tuple[str, str], ...]:
    pinned = context.runtime.registry.active
    return pinned.policy.categories if pinned else ()


async def _read_form(request: Request) -> FormData:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise TooLarge
    # Starlette spools file parts to disk past 1 MB, so even a lying Content-Length cannot fill memory.
    return await request.form(max_files=MAX_FILES, max_fields=40)


async def _accept(
    context: WebContext,
    new: NewComplaint,
    uploads: list[Upload] | None = None,
    *,
    user: Principal | None = None,
) -> str:
    files = [
        Attachment(filename=u.name, content_type=u.content_type, content=u.content) for u in uploads or []
    ]
    return await context.accept(new, files, recorded_by=user.username if user else None)


def _receipt(
    request: Request,
    context: WebContext,
    language: str,
    complaint_id: str,
    parsed: Parsed,
    *,
    user: Principal | None = None,
) -> HTMLResponse:
    path = f"/status/{status_token(context.runtime.links.secret, complaint_id)}"
    return _page(
        request,
        context,
        "receipt.html",
        language,
        complaint=complaint_id,
        status_path=path,
        status_url=str(request.base_url).rstrip("/") + path,
        values=parsed.values,
        attachments=parsed.attachments,
        user=user,
    )


# --- the public form -------------------------------------------------------------------------------


@router.get("/complaints/new", response_class=HTMLResponse)
def public_form(request: Request, context: Context) -> HTMLResponse:
    language = _language(request, context)
    return _page(
        request, context, "complaint_form.html", language,
        categories=_categories(context), values={}, errors={}, max_text=MAX_TEXT,
    )  # fmt: skip


@router.post("/complaints/new", response_class=HTMLResponse)
async def submit_public_form(request: Request, context: Context) -> HTMLResponse:
    language = _language(request, context)
    if not guard.public_form_limiter(request).allow(guard.client_key(request)):
        return _message(request, language, "rate_limited", 429)
    try:
        form = await _read_form(request)
        if not guard.csrf_ok(context.runtime.links.secret, request, form.get(guard.CSRF_FIELD)):
            return _message(request, language, "csrf", 403)
        parsed, new = parse_public(form, _categories(context), language)
    except TooLarge:
        return _message(request, language, "too_large", 413)
    if refused := _not_stored(request, context, language, form):
        return refused
    if new is None:
        return _page(
            request, context, "complaint_form.html", language, status=422,
            categories=_categories(context), values=parsed.values, errors=parsed.errors, max_text=MAX_TEXT,
        )  # fmt: skip
    complaint_id = await _accept(context, new, parsed.attachments)
    return _receipt(request, context, language, complaint_id, parsed)


def _not_stored(request: Request, context: WebContext, language: str, form: FormData) -> HTMLResponse | None:
    """The answer to a post that must store nothing (a bot's, or one carrying staff fields), else None."""
    if _text_of(form, HONEYPOT):
        # Looks like success to the bot, so it learns nothing; there is no complaint to track.
        return _page(request, context, "receipt.html", language, complaint=None, values={}, attachments=[])
    if staff_fields := staff_fields_in(form):
        return _staff_only(request, language, staff_fields)
    return None


def _text_of(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the staff form --------------------------------------------------------------------------------


def _staff_page(
    request: Request,
    context: WebContext,
    user: Principal,
    language: str,
    parsed: Parsed | None,
    *,
    status: int = 200,
) -> HTMLResponse:
    runtime = context.runtime
    pinned = runtime.registry.active
    zone = pinned.policy.calendar.zone if pinned else None
    people = tuple((p.id, p.name) for p in pinned.org.people) if pinned else ()
    values = parsed.values if parsed else _staff_defaults(context, user)
    return _page(
        request, context, "staff_form.html", language, status=status, user=user,
        categories=_categories(context), people=people, zone=str(zone),
        values=values, errors=parsed.errors if parsed else {}, max_text=MAX_TEXT,
        **_heard_range(context, language),
    )  # fmt: skip


def _heard_range(context: WebContext, language: str) -> dict[str, str]:
    """The intake window for "when it was heard": the input's min/max and the message naming it."""
    runtime = context.runtime
    pinned = runtime.registry.active
    if pinned is None:
        return {"heard_min": "", "heard_max": "", "range_message": ""}
    zone = pinned.policy.calendar.zone
    earliest, latest = runtime.intake_window.bounds(runtime.clock.now())
    shown = [f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" for moment in (earliest, latest)]
    message = TEXTS[language]["err_time_range"].format(earliest=shown[0], latest=shown[1], zone=zone)
    return {
        "heard_min": local_input_value(earliest, zone),
        "heard_max": local_input_value(latest, zone),
        "range_message": message,
    }


def _staff_defaults(context: WebContext, user: Principal) -> dict[str, str]:
    """Now as "when it was heard", and the signed-in staff member as "who heard it" if linked to one."""
    pinned = context.runtime.registry.active
    zone = pinned.policy.calendar.zone if pinned else None
    values = {"heard_at": local_input_value(context.runtime.clock.now(), zone) if zone else ""}
    if pinned and user.person in {p.id for p in pinned.org.people}:
        values["heard_by"] = user.person or ""
    return values


@router.get("/staff/complaints/new", response_class=HTMLResponse)
def staff_form(request: Request, context: Context, user: Staff) -> HTMLResponse:
    return _staff_page(request, context, user, _language(request, context), None)


@router.post("/staff/complaints/new", response_class=HTMLResponse)
async def submit_staff_form(request: Request, context: Context, user: Staff) -> HTMLResponse:
    language = _language(request, context)
    runtime = context.runtime
    pinned = runtime.registry.active
    if pinned is None:
        return _message(request, language, "unavailable", 503)
    try:
        form = await _read_form(request)
    except TooLarge:
        return _message(request, language, "too_large", 413)
    if not guard.csrf_ok(runtime.links.secret, request, form.get(guard.CSRF_FIELD)):
        return _message(request, language, "csrf", 403)
    people = {p.id for p in pinned.org.people}
    parsed, new = parse_staff(
        form,
        pinned.policy.categories,
        people,
        pinned.policy.calendar.zone,
        now=runtime.clock.now(),
        window=runtime.intake_window,
    )
    if new is None:
        return _staff_page(request, context, user, language, parsed, status=422)
    complaint_id = await _accept(context, new, user=user)
    return _receipt(request, context, language, complaint_id, parsed, user=user)


# --- the status page -------------------------------------------------------------------------------


@router.get("/status/{token}", response_class=HTMLResponse)
def status_page(token: str, request: Request, context: Context) -> HTMLResponse:
    language = _language(request, context)
    complaint_id = complaint_of(context.runtime.links.secret, token)
    view = status_view(context.runtime, complaint_id) if complaint_id else None
    if view is None:
        return _message(request, language, "status_unknown", 404)
    return _page(request, context, "status.html", language, view=view)
