"""Policy lifecycle for administrators: upload, check, diff, dry run, activate (admins only).

The candidate travels between the steps in hidden form fields and is checked again on every POST,
so nothing is kept server-side between pages and nothing unchecked can be activated. Every POST
carries the CSRF double-submit token; every text shown (policy source, problems, names) is escaped.
"""

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from app.web import guard, i18n
from app.web.admin.policy_texts import describe_change, policy_texts
from app.web.auth import Principal, Role, page_language, page_user
from app.web.context import WebContext, web_context
from app.web.pages import render
from flows.admin.dry_run import MAX_DAYS, DryRun, dry_run
from flows.admin.lifecycle import (
    MAX_SOURCE_BYTES,
    Candidate,
    Checked,
    activate_checked,
    activation_history,
    active_version,
    check_candidate,
    decode_upload,
    normalise,
    read_server_file,
    upload_name,
)
from flows.runtime.assembly import Runtime
from policies.engine.compare import Difference
from policies.errors import PolicyInvalid, Problem
from policies.explain.diff import diff_policies

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(web_context)]
Admin = Annotated[Principal, Depends(page_user(Role.ADMIN))]
_VERSION = re.compile(r"sha256:[0-9a-f]{16}")
DEFAULT_DAYS = 7


class NoPolicy(Exception):
    """The form carried no policy text at all."""


def _page(
    request: Request, context: WebContext, user: Principal, name: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    """A policy page with a fresh CSRF token (and its cookie); never cached."""
    language = page_language(request, context)
    nonce, token = guard.issue_csrf(context.runtime.links.secret, request)
    html = render(
        name, language, p=policy_texts(language), csrf=token, user=user, path=request.url.path,
        languages=i18n.LANGUAGES, **ctx,
    )  # fmt: skip
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    guard.set_csrf_cookie(request, response, nonce)
    i18n.remember(request, response, language)
    return response


def _message(request: Request, context: WebContext, user: Principal, key: str, status: int) -> HTMLResponse:
    texts = policy_texts(page_language(request, context))
    return _page(
        request, context, user, "message.html", status,
        title=texts[key + "_title"], message=texts[key], css="problem",
    )  # fmt: skip


@router.get("/admin/policies", response_class=HTMLResponse)
def policies_page(request: Request, context: Context, user: Admin) -> HTMLResponse:
    runtime = context.runtime
    with runtime.sessions() as session:
        active = active_version(session, runtime.registry)
        history = activation_history(session)
    texts = policy_texts(page_language(request, context))
    notice = ""
    for key in ("activated", "already_active"):
        version = request.query_params.get(key, "")
        if _VERSION.fullmatch(version):
            notice = texts[key].format(version=version)
    zone = active.pinned.policy.calendar.zone if active else None
    rows = [(a, f"{a.activated_at.astimezone(zone):%Y-%m-%d %H:%M %Z}") for a in history]
    return _page(request, context, user, "policies.html", active=active, history=rows, notice=notice)


@router.post("/admin/policies/check", response_class=HTMLResponse)
async def check_page(request: Request, context: Context, user: Admin) -> Response:
    form = await _form(request)
    if not guard.csrf_ok(context.runtime.links.secret, request, form.get(guard.CSRF_FIELD)):
        return _message(request, context, user, "csrf", 403)
    runtime = context.runtime
    try:
        candidate = await _uploaded(form, _policies_dir(runtime))
        checked = await run_in_threadpool(_check, runtime, candidate)
    except NoPolicy:
        return _message(request, context, user, "no_policy", 422)
    except PolicyInvalid as exc:
        return _problems(request, context, user, exc.problems)
    return _page(request, context, user, "policies_check.html", **_review(request, context, checked))


@router.post("/admin/policies/dry-run", response_class=HTMLResponse)
async def dry_run_page(request: Request, context: Context, user: Admin) -> Response:
    form = await _form(request)
    if not guard.csrf_ok(context.runtime.links.secret, request, form.get(guard.CSRF_FIELD)):
        return _message(request, context, user, "csrf", 403)
    days = _days(form)
    if days is None:
        return _message(request, context, user, "bad_days", 422)
    runtime = context.runtime
    try:
        checked = await run_in_threadpool(_check, runtime, _carried(form))
    except (NoPolicy, PolicyInvalid) as exc:
        return _problems(request, context, user, exc.problems if isinstance(exc, PolicyInvalid) else [])
    result = await run_in_threadpool(_dry_run, runtime, checked, days)
    language = page_language(request, context)
    return _page(
        request, context, user, "policies_dry_run.html",
        checked=checked, candidate=checked.candidate, days=days, result=result,
        rows=_rows(result, checked, language), since=_local(result.since, checked),
    )  # fmt: skip


@router.post("/admin/policies/activate", response_class=HTMLResponse)
async def activate_page(request: Request, context: Context, user: Admin) -> Response:
    form = await _form(request)
    if not guard.csrf_ok(context.runtime.links.secret, request, form.get(guard.CSRF_FIELD)):
        return _message(request, context, user, "csrf", 403)
    if form.get("confirm") != "yes":
        return _message(request, context, user, "confirm_missing", 422)
    runtime = context.runtime
    try:
        checked = await run_in_threadpool(_check, runtime, _carried(form))
    except (NoPolicy, PolicyInvalid) as exc:
        return _problems(request, context, user, exc.problems if isinstance(exc, PolicyInvalid) else [])
    changed = await run_in_threadpool(_activate, runtime, checked, user.username)
    key = "activated" if changed else "already_active"
    return RedirectResponse(f"/admin/policies?{key}={checked.ready.policy.version}", status_code=303)


async def _form(request: Request) -> FormData:
    # The body is already bounded by the size limit middleware (app/web/limits.py).
    return await request.form(max_files=2, max_fields=12)


async def _uploaded(form: FormData, policies_dir: Path) -> Candidate:
    """The candidate from the upload form: a server file, an uploaded file or pasted text."""
    server = _field(form, "server_path").strip()
    if server:
        return read_server_file(policies_dir, server)
    name, text = await _source(form, "policy_file", "policy_text", "uploaded.yaml")
    if not text.strip():
        raise NoPolicy
    org_name, org_text = await _source(form, "org_file", "org_text", "org.yaml")
    return Candidate(name, text, *((org_name, org_text) if org_text.strip() else (None, None)))


async def _source(form: FormData, file_field: str, text_field: str, default: str) -> tuple[str, str]:
    upload = form.get(file_field)
    if isinstance(upload, UploadFile) and upload.filename:
        name = upload_name(upload.filename, default)
        return name, decode_upload(name, await upload.read(MAX_SOURCE_BYTES + 1))
    return default, normalise(_field(form, text_field))


def _carried(form: FormData) -> Candidate:
    """The candidate carried in the hidden fields of the check and dry-run pages."""
    text = normalise(_field(form, "policy_text"))
    if not text.strip():
        raise NoPolicy
    org_text = normalise(_field(form, "org_text"))
    org = (upload_name(_field(form, "org_name"), "org.yaml"), org_text) if org_text.strip() else (None, None)
    return Candidate(_field(form, "name"), text, *org)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _policies_dir(runtime: Runtime) -> Path:
    return runtime.policies_dir or runtime.templates.folder.parent


def _check(runtime: Runtime, candidate: Candidate) -> Checked:
    return check_candidate(candidate, _policies_dir(runtime), runtime.templates.folder)


def _dry_run(runtime: Runtime, checked: Checked, days: int) -> DryRun:
    org = checked.ready.org if checked.new_org else None
    now = runtime.clock.now()
    return dry_run(runtime.sessions, runtime.registry, checked.ready.policy, org, now=now, days=days)


def _activate(runtime: Runtime, checked: Checked, username: str) -> bool:
    """Activate; False when it already was the active version (nothing recorded)."""
    with runtime.sessions() as session:
        before = active_version(session, runtime.registry)
    pinned = activate_checked(runtime.registry, checked, username)
    return before is None or (before.pinned.policy.version, before.pinned.org_hash) != (
        pinned.policy.version,
        pinned.org_hash,
    )


def _problems(
    request: Request, context: WebContext, user: Principal, problems: list[Problem]
) -> HTMLResponse:
    return _page(request, context, user, "policies_check.html", status=422, problems=problems, checked=None)


def _review(request: Request, context: WebContext, checked: Checked) -> dict[str, Any]:
    """What the check page shows for a clean candidate: summary, semantic diff, text diff."""
    runtime = context.runtime
    language = page_language(request, context)
    with runtime.sessions() as session:
        active = active_version(session, runtime.registry)
    spec = checked.ready.loaded.spec
    candidate = checked.candidate
    if active is None:
        changes: list[str] = []
        text: tuple[str, ...] = ()
        same = False
    else:
        names = (f"active {active.activation.version}", candidate.name)
        diff = diff_policies(active.pinned.spec, spec, active.source, candidate.text, names)
        changes = [describe_change(c, language) for c in diff.changes]
        text, same = diff.text, active.activation.version == checked.ready.policy.version
    return {
        "problems": [], "checked": checked, "candidate": candidate, "active": active,
        "changes": changes, "text_diff": text, "same": same, "days": DEFAULT_DAYS, "max_days": MAX_DAYS,
    }  # fmt: skip


def _days(form: FormData) -> int | None:
    raw = form.get("days")
    if not isinstance(raw, str) or not raw.strip().isdigit() or len(raw.strip()) > len(str(MAX_DAYS)):
        return None
    days = int(raw.strip())
    return days if 1 <= days <= MAX_DAYS else None


def _rows(result: DryRun, checked: Checked, language: str) -> list[dict[str, str]]:
    """One table row per difference, with localized labels and times in the policy's zone."""
    texts = policy_texts(language)
    rows: list[dict[str, str]] = []
    for difference in result.differences:
        rows += _difference_rows(difference, checked, texts)
    return rows


def _difference_rows(difference: Difference, checked: Checked, texts: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for sign, facts in (("added", difference.violations_added), ("removed", difference.violations_removed)):
        rows += [
            {
                "complaint": difference.complaint, "sign": sign, "change": texts[sign],
                "what": texts["violation"], "step": f"{v.step} #{v.occurrence}", "who": v.actor,
                "when": _local(v.due_at, checked), "detail": v.penalty or "",
            }
            for v in facts
        ]  # fmt: skip
    pairs = (("added", difference.notifications_added), ("removed", difference.notifications_removed))
    for sign, notes in pairs:
        rows += [
            {
                "complaint": difference.complaint, "sign": sign, "change": texts[sign],
                "what": texts.get(n.kind, n.kind), "step": n.step or "", "who": n.recipient,
                "when": _local(n.at, checked), "detail": n.template,
            }
            for n in notes
        ]  # fmt: skip
    return rows


def _local(moment: datetime, checked: Checked) -> str:
    return f"{moment.astimezone(checked.ready.policy.calendar.zone):%Y-%m-%d %H:%M %Z}"
