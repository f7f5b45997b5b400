"""The administrators' account page: list accounts, create one, disable one, issue and revoke API tokens.

A new API token is shown once, in the answer to the POST that issued it (never cached, never stored).
Nothing is deleted: a disabled account keeps its name in the decision log and can no longer sign in.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.web import guard
from app.web.account_texts import account_texts
from app.web.auth import Principal, Role, page_language, page_user
from app.web.context import WebContext, web_context
from app.web.login import message, page
from flows.admin import accounts
from models.tables import AccountRow, ApiTokenRow

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(web_context)]
Admin = Annotated[Principal, Depends(page_user(Role.ADMIN))]
Username = Annotated[str, Path(min_length=1, max_length=64)]
FormText = Annotated[str, Form(max_length=2000)]


@dataclass(frozen=True)
class TokenView:
    id: str  # the stored hash: names the token in the revoke form, and signs no one in
    short: str
    name: str
    created: str
    last_used: str | None
    revoked: str | None


@dataclass(frozen=True)
class AccountView:
    username: str
    display_name: str
    role: str
    person: str | None
    active: bool
    created: str
    tokens: tuple[TokenView, ...]


def _when(moment: datetime | None, context: WebContext) -> str | None:
    if moment is None:
        return None
    pinned = context.runtime.registry.active
    local = moment.astimezone(pinned.policy.calendar.zone) if pinned else moment
    return local.strftime("%Y-%m-%d %H:%M %Z")


def _token_view(row: ApiTokenRow, context: WebContext) -> TokenView:
    return TokenView(
        id=row.token_hash,
        short=row.token_hash[:8],
        name=row.name,
        created=_when(row.created_at, context) or "",
        last_used=_when(row.last_used_at, context),
        revoked=_when(row.revoked_at, context),
    )


def _account_views(session: Session, context: WebContext) -> list[AccountView]:
    return [
        AccountView(
            username=row.username,
            display_name=row.display_name,
            role=row.role,
            person=row.person,
            active=row.active,
            created=_when(row.created_at, context) or "",
            tokens=tuple(_token_view(t, context) for t in accounts.list_api_tokens(session, row.id)),
        )
        for row in accounts.list_accounts(session)
    ]


def _accounts_page(
    request: Request, context: WebContext, user: Principal, *, status: int = 200, **ctx: Any
) -> HTMLResponse:
    language = page_language(request, context)
    pinned = context.runtime.registry.active
    people = tuple((p.id, p.name) for p in pinned.org.people) if pinned else ()
    with context.runtime.sessions() as session:
        views = _account_views(session, context)
    ctx.setdefault("values", {})
    for key in ("notice", "problem", "new_token", "new_token_note"):
        ctx.setdefault(key, "")
    return page(
        request, context, "accounts.html", language, status=status,
        user=user, accounts=views, roles=[Role.STAFF, Role.AUDITOR, Role.ADMIN], people=people, **ctx,
    )  # fmt: skip


def _refused(request: Request, context: WebContext, csrf_token: str) -> HTMLResponse | None:
    if guard.csrf_ok(context.runtime.links.secret, request, csrf_token):
        return None
    return message(page_language(request, context), "csrf", 403)


def _problem(request: Request, context: WebContext, code: str) -> str:
    texts = account_texts(page_language(request, context))
    return texts.get("err_" + code, texts["err_no_account"])


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, context: Context, user: Admin) -> HTMLResponse:
    return _accounts_page(request, context, user)


@router.post("/admin/accounts", response_class=HTMLResponse)
def create_account(
    request: Request,
    context: Context,
    user: Admin,
    *,
    username: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    person: FormText = "",
    password: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    if refused := _refused(request, context, csrf_token):
        return refused
    values = {"username": username, "display_name": display_name, "role": role, "person": person}
    pinned = context.runtime.registry.active
    if person and (pinned is None or person not in {p.id for p in pinned.org.people}):
        problem = _problem(request, context, "unknown_person")
        return _accounts_page(request, context, user, status=422, problem=problem, values=values)
    runtime = context.runtime
    try:
        with runtime.sessions.begin() as session:
            created = accounts.create_account(
                session, username=username, password=password, role=role, display_name=display_name,
                now=runtime.clock.now(), person=person or None,
            )  # fmt: skip
            name = created.username
    except accounts.AccountProblem as exc:
        problem = _problem(request, context, exc.code)
        return _accounts_page(request, context, user, status=422, problem=problem, values=values)
    notice = account_texts(page_language(request, context))["account_created"].format(name=name)
    return _accounts_page(request, context, user, notice=notice)


@router.post("/admin/accounts/{username}/disable", response_class=HTMLResponse)
def disable_account(
    request: Request, context: Context, user: Admin, username: Username, csrf_token: FormText = ""
) -> HTMLResponse:
    if refused := _refused(request, context, csrf_token):
        return refused
    if accounts.normalise_username(username) == user.username:
        problem = account_texts(page_language(request, context))["not_yourself"]
        return _accounts_page(request, context, user, status=409, problem=problem)
    try:
        with context.runtime.sessions.begin() as session:
            accounts.disable_account(session, username)
    except accounts.AccountProblem as exc:
        return _accounts_page(
            request, context, user, status=404, problem=_problem(request, context, exc.code)
        )
    notice = account_texts(page_language(request, context))["account_disabled"].format(name=username)
    return _accounts_page(request, context, user, notice=notice)


@router.post("/admin/accounts/{username}/tokens", response_class=HTMLResponse)
def issue_token(
    request: Request,
    context: Context,
    user: Admin,
    *,
    username: Username,
    name: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    if refused := _refused(request, context, csrf_token):
        return refused
    runtime = context.runtime
    try:
        with runtime.sessions.begin() as session:
            account = _active_account(session, username)
            token = accounts.issue_api_token(
                session, account_id=account.id, name=name, now=runtime.clock.now()
            )
    except accounts.AccountProblem as exc:
        status = 404 if exc.code == "no_account" else 422
        return _accounts_page(
            request, context, user, status=status, problem=_problem(request, context, exc.code)
        )
    note = account_texts(page_language(request, context))["token_shown_once"].format(name=account.username)
    return _accounts_page(request, context, user, new_token=token, new_token_note=note)


def _active_account(session: Session, username: str) -> AccountRow:
    account = accounts.find_account(session, username)
    if account is None or not account.active:
        raise accounts.AccountProblem("no_account", f"no active account {username}")
    return account


@router.post("/admin/accounts/{username}/tokens/revoke", response_class=HTMLResponse)
def revoke_token(
    request: Request,
    context: Context,
    user: Admin,
    *,
    username: Username,
    token: FormText = "",
    csrf_token: FormText = "",
) -> HTMLResponse:
    if refused := _refused(request, context, csrf_token):
        return refused
    runtime = context.runtime
    with runtime.sessions.begin() as session:
        account = accounts.find_account(session, username)
        row = session.get(ApiTokenRow, token) if token else None
        owned = account is not None and row is not None and row.account_id == account.id
        if owned:
            accounts.revoke_api_token(session, token, runtime.clock.now())
    if not owned:
        return _accounts_page(
            request, context, user, status=404, problem=_problem(request, context, "no_token")
        )
    notice = account_texts(page_language(request, context))["token_revoked"]
    return _accounts_page(request, context, user, notice=notice)
