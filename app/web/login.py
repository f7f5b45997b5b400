"""Signing in and out: ``GET/POST /login`` and ``POST /logout``.

Order of checks on ``POST /login``: rate limit per address (429), CSRF (403), then the password.
A failed sign-in says only "wrong username or password", whichever it was. After signing in the
browser goes back to ``next`` when that is a path on this site, never to another site.
"""

import threading
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.web import guard, i18n
from app.web.account_texts import account_texts
from app.web.auth import (
    SESSION_COOKIE,
    Role,
    clear_session_cookie,
    page_language,
    principal_of,
    set_session_cookie,
)
from app.web.context import WebContext, web_context
from app.web.pages import render
from flows.admin.accounts import authenticate, end_session, start_session

router = APIRouter(include_in_schema=False)
Context = Annotated[WebContext, Depends(web_context)]
FormText = Annotated[str, Form(max_length=2000)]
LOGIN_LIMIT = 10  # sign-in attempts per address per minute: plenty for people, slow for guessing
_LANDING = {
    Role.ADMIN: "/admin/accounts",
    Role.AUDITOR: "/audit/violations",
    Role.STAFF: "/staff/complaints/new",
}
MAX_NEXT = 1000
_NO_RETURN = {"/login", "/logout"}
_CREATE_LOCK = threading.Lock()


def page(
    request: Request, context: WebContext, name: str, language: str, status: int = 200, **ctx: Any
) -> HTMLResponse:
    """An account page with a fresh CSRF token (and its cookie); never cached, it may show secrets."""
    nonce, token = guard.issue_csrf(context.runtime.links.secret, request)
    ctx.setdefault("path", request.url.path)  # where the language links point
    html = render(name, language, a=account_texts(language), csrf=token, languages=i18n.LANGUAGES, **ctx)
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    guard.set_csrf_cookie(request, response, nonce)
    i18n.remember(request, response, language)
    return response


def message(language: str, key: str, status: int) -> HTMLResponse:
    texts = account_texts(language)
    html = render("message.html", language, title=texts[key + "_title"], message=texts[key], css="problem")
    return HTMLResponse(html, status_code=status)


def local_path(candidate: str | None) -> str | None:
    """``candidate`` if it is a path on this site (not the sign-in pages), else None: no open redirect."""
    if not candidate or len(candidate) > MAX_NEXT or not candidate.startswith("/"):
        return None
    # "//host" and "/\host" are other sites to a browser; control characters could smuggle either.
    if candidate.startswith("//") or "\\" in candidate or any(not c.isprintable() for c in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or parts.path in _NO_RETURN:
        return None
    return candidate


def login_limiter(request: Request) -> guard.SlidingWindow:
    """The app's sign-in limiter, created on first use (one per app, like the public form's)."""
    with _CREATE_LOCK:
        limiter: guard.SlidingWindow | None = getattr(request.app.state, "login_limiter", None)
        if limiter is None:
            limiter = guard.SlidingWindow(limit=LOGIN_LIMIT, seconds=60)
            request.app.state.login_limiter = limiter
        return limiter


def _login_page(request: Request, context: WebContext, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    language = page_language(request, context)
    ctx.setdefault("next", local_path(request.query_params.get("next")) or "")
    ctx.setdefault("username", "")
    ctx.setdefault("failed", False)
    ctx.setdefault("notice", "")
    return page(request, context, "login.html", language, status=status, **ctx)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, context: Context) -> HTMLResponse:
    return _login_page(request, context)


@router.post("/login", response_class=HTMLResponse)
def sign_in(
    request: Request,
    context: Context,
    *,
    username: FormText = "",
    password: FormText = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
    csrf_token: FormText = "",
) -> Response:
    language = page_language(request, context)
    if not login_limiter(request).allow(guard.client_key(request)):
        return message(language, "login_rate_limited", 429)
    if not guard.csrf_ok(context.runtime.links.secret, request, csrf_token):
        return message(language, "csrf", 403)
    runtime = context.runtime
    previous = request.cookies.get(SESSION_COOKIE)
    with runtime.sessions.begin() as session:
        account = authenticate(session, username, password)
        if account is None:
            principal, secret = None, ""
        else:
            if previous:  # signing in again (perhaps as someone else) ends the browser's old session
                end_session(session, previous, runtime.clock.now())
            principal, secret = principal_of(account), start_session(session, account, runtime.clock.now())
    if principal is None:
        return _login_page(
            request,
            context,
            status=401,
            failed=True,
            username=username[:64],
            next=local_path(next_path) or "",
        )
    response = RedirectResponse(local_path(next_path) or _LANDING[principal.role], status_code=303)
    set_session_cookie(response, runtime, secret)
    return response


@router.post("/logout", response_class=HTMLResponse)
def sign_out(request: Request, context: Context, csrf_token: FormText = "") -> Response:
    runtime = context.runtime
    if not guard.csrf_ok(runtime.links.secret, request, csrf_token):
        # The nav's button had no usable token (no CSRF cookie yet): ask once more, with one.
        language = page_language(request, context)
        return page(request, context, "signout.html", language, status=403)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        with runtime.sessions.begin() as session:
            end_session(session, secret, runtime.clock.now())
    language = page_language(request, context)
    response = _login_page(
        request, context, notice=account_texts(language)["signed_out"], next="", path="/login"
    )
    clear_session_cookie(response, runtime)
    return response
