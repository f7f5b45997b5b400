"""Security headers on every response (pure ASGI middleware, outside even the 500 handler).

Every response: ``X-Content-Type-Options: nosniff`` (a browser never runs an upload or a JSON answer
as a script or page) and no framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for
browsers without CSP), so no other site can overlay the forms (clickjacking).

Pages whose URL carries the credential (the status link, the action link, a survey link) also get
``Referrer-Policy: no-referrer``, so a link followed from them never hands the token to another site,
and ``Cache-Control: no-store``, so no shared or browser cache keeps the page for the next user.
"""

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_PATHS = ("/status/", "/a/", "/survey/")
FRAME_ANCESTORS = "frame-ancestors 'none'"
_EVERYWHERE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
_TOKEN_PAGES = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def carries_token(path: str, prefixes: Iterable[str] = TOKEN_PATHS) -> bool:
    """Whether ``path`` is a page whose URL holds a secret token (``/status/<token>``, …)."""
    return any(path.startswith(prefix) and len(path) > len(prefix) for prefix in prefixes)


class SecurityHeaders:
    """Add the security headers to every HTTP response ``app`` sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token_page = carries_token(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), token_page)
            await send(message)

        await self.app(scope, receive, with_headers)


def add_headers(headers: MutableHeaders, token_page: bool) -> None:
    """Set the headers (replacing weaker ones a route chose; keeping a CSP it set, plus no framing)."""
    for name, value in {**_EVERYWHERE, **(_TOKEN_PAGES if token_page else {})}.items():
        headers[name] = value
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = FRAME_ANCESTORS
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}"
