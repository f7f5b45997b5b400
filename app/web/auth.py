"""Who is asking: the signed-in account behind a request, and the role check every route declares.

``page_user(...)`` guards HTML pages (session cookie only; anonymous: 303 to ``/login?next=``; wrong
role: a localized 403 page). ``api_user(...)`` guards JSON/CSV endpoints (``Authorization: Bearer``
API token, or the session cookie; anonymous or invalid: 401; wrong role: 403). Roles are not a
hierarchy: a route lists every role it lets in. ``optional_api_user`` is for public endpoints that
trust an account with more (JSON intake): the account if there is one, None when anonymous.

The session cookie is ``HttpOnly``, ``SameSite=Lax`` (a cross-site POST never carries it) and
``Secure`` unless the configured base URL is plain http (dev and tests). It has no ``Max-Age``: it
ends with the browser, and the server ends it earlier (see ``flows.admin.accounts``).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from app.web import guard, i18n
from app.web.account_texts import account_texts
from app.web.admin.mail_texts import mail_failure_texts
from app.web.context import WebContext, web_context
from app.web.pages import render
from flows.admin.accounts import Role, session_account, token_account
from flows.runtime.assembly import Runtime
from models.tables import AccountRow

__all__ = ["Principal", "Role", "api_user", "optional_api_user", "page_user"]

SESSION_COOKIE = "cf_session"
NOT_SIGNED_IN = "sign in or send a valid API token"  # the 401's detail
WRONG_ROLE = "your role does not give access to this"  # the API 403's detail
_MAX_SECRET = 200  # longer is not one of ours; do not spend a database lookup on it

Context = Annotated[WebContext, Depends(web_context)]
_bearer = HTTPBearer(auto_error=False, description="an API token (`complaintflow accounts token`)")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="the session of a signed-in browser"
)

# (path, label key, roles that see the link) for the navigation of signed-in pages
_MENU: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/audit/violations", "nav_violations", frozenset({Role.AUDITOR, Role.ADMIN})),
    ("/dashboard", "nav_dashboard", frozenset(Role)),
    ("/admin/policies", "nav_policies", frozenset({Role.ADMIN})),
    ("/admin/accounts", "nav_accounts", frozenset({Role.ADMIN})),
    ("/admin/mail-failures", "nav_mail_failures", frozenset({Role.ADMIN})),
    ("/staff/complaints/new", "nav_staff_complaint", frozenset({Role.STAFF, Role.ADMIN})),
)


@dataclass(frozen=True)
class Nav:
    """What ``base.html`` shows a signed-in user: links for their role and the sign-out button."""

    links: tuple[tuple[str, str], ...]
    texts: dict[str, str]


@dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    display_name: str
    role: Role
    person: str | None = None  # the org person a staff account acts as
    csrf: str = ""  # token for the navigation's sign-out form (pages only)

    def nav(self, language: str) -> Nav:
        texts = {**account_texts(language), **mail_failure_texts(language)}
        links = tuple((path, texts[key]) for path, key, roles in _MENU if self.role in roles)
        return Nav(links=links, texts=texts)


class SignInRequired(HTTPException):
    """An anonymous request for a page: a 303 to the sign-in page, which comes back here afterwards."""

    def __init__(self, request: Request) -> None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"/login?next={quote(target, safe='/')}"
        super().__init__(status_code=303, detail="sign-in required", headers={"Location": location})


class WrongRole(HTTPException):
    """A signed-in account whose role the page does not let in; answered with the 403 page."""

    def __init__(self, principal: Principal) -> None:
        super().__init__(status_code=403, detail="your role does not give access to this page")
        self.principal = principal


def principal_of(account: AccountRow, csrf: str = "") -> Principal:
    return Principal(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=Role(account.role),
        person=account.person,
        csrf=csrf,
    )


def _session_principal(runtime: Runtime, secret: str | None) -> Principal | None:
    if not secret or len(secret) > _MAX_SECRET:
        return None
    with runtime.sessions.begin() as session:
        account = session_account(session, secret, runtime.clock.now())
        return principal_of(account) if account else None


def _token_principal(runtime: Runtime, token: str) -> Principal | None:
    if len(token) > _MAX_SECRET:
        return None
    with runtime.sessions.begin() as session:
        account = token_account(session, token, runtime.clock.now())
        return principal_of(account) if account else None


def page_user(*roles: Role) -> Callable[..., Principal]:
    """Dependency for an HTML page that ``roles`` may see."""
    allowed = frozenset(roles)

    def signed_in_page_user(request: Request, context: Context) -> Principal:
        found = _session_principal(context.runtime, request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise SignInRequired(request)
        principal = replace(found, csrf=_signout_csrf(request, context))
        if principal.role not in allowed:
            raise WrongRole(principal)
        return principal

    return signed_in_page_user


def _signout_csrf(request: Request, context: WebContext) -> str:
    # Reuses the browser's CSRF nonce; without one, the sign-out button leads to a confirmation page.
    if guard.CSRF_COOKIE not in request.cookies:
        return ""
    return guard.issue_csrf(context.runtime.links.secret, request)[1]


def api_user(*roles: Role) -> Callable[..., Principal]:
    """Dependency for a JSON/CSV endpoint that ``roles`` may call."""
    allowed = frozenset(roles)

    def signed_in_api_user(
        context: Context,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        cookie: Annotated[str | None, Depends(_cookie)],
    ) -> Principal:
        if bearer is not None:
            # A bearer token decides alone: a wrong one is not rescued by a cookie.
            principal = _token_principal(context.runtime, bearer.credentials)
        else:
            principal = _session_principal(context.runtime, cookie)
        if principal is None:
            raise HTTPException(
                status_code=401,
                detail=NOT_SIGNED_IN,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role not in allowed:
            raise HTTPException(status_code=403, detail=WRONG_ROLE)
        return principal

    return signed_in_api_user


def optional_api_user(
    context: Context,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Principal | None:
    """Dependency for a public JSON endpoint: the caller's account, or None when anonymous.

    A bearer token that is not valid is 401, as on every other API route: treating it as anonymous
    would answer a staff client with an expired token "needs an account" instead of "bad token". A
    session cookie that has ended is the browser's leftover, and its holder is anonymous.
    """
    if bearer is None:
        return _session_principal(context.runtime, cookie)
    principal = _token_principal(context.runtime, bearer.credentials)
    if principal is None:
        raise HTTPException(status_code=401, detail=NOT_SIGNED_IN, headers={"WWW-Authenticate": "Bearer"})
    return principal


def set_session_cookie(response: Response, runtime: Runtime, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=not runtime.base_url.startswith("http://"),
        path="/",
    )


def clear_session_cookie(response: Response, runtime: Runtime) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=not runtime.base_url.startswith("http://"),
        path="/",
    )


def page_language(request: Request, context: WebContext) -> str:
    pinned = context.runtime.registry.active
    return i18n.choose(request, pinned.policy.language if pinned else "en")


async def _forbidden_page(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, WrongRole):  # registered for WrongRole only
        raise exc
    context: WebContext = request.app.state.context
    language = page_language(request, context)
    texts = account_texts(language)
    page = render(
        "forbidden.html",
        language,
        a=texts,
        user=exc.principal,
        title=texts["forbidden_title"],
        path=request.url.path,
    )
    return HTMLResponse(page, status_code=403, headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    """Answer a wrong role on a page with the localized 403 page (the sign-in redirect needs nothing)."""
    app.add_exception_handler(WrongRole, _forbidden_page)
