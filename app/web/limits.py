"""Request body size limits, enforced while the body streams in (pure ASGI middleware).

A declared ``Content-Length`` above the limit is refused before reading anything; otherwise bytes
are counted as they arrive, because a chunked upload declares no length and a declared length can lie.
Limits are per path prefix (longest match wins): small for the JSON API, generous for the multipart
form that carries attachments.

``install`` also answers validation errors safely: FastAPI's default 422 echoes the offending input,
and an input holding an unpaired surrogate (valid in JSON text, not encodable as UTF-8) would turn
that 422 into a 500.
"""

import json
from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
MB = 1024 * KB
# Policy uploads carry the candidate (policy + org, 256 KB each at most) in every step of the review.
DEFAULT_LIMITS: Mapping[str, int] = {"/": 64 * KB, "/complaints/new": 12 * MB, "/admin/policies": 1 * MB}


def install(
    app: FastAPI,
    limits: Mapping[str, int] = DEFAULT_LIMITS,
    *,
    is_page: Callable[[str], bool] = lambda _path: False,
) -> None:
    """Add the body size limit and the encodable 422 handler to ``app``. On paths ``is_page`` names,
    an oversize body is answered by the app's own 413 handler (the localized page), not JSON."""
    app.add_middleware(BodySizeLimit, limits=limits, is_page=is_page)
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": _encodable(jsonable_encoder(errors))}, status_code=422)


def _encodable(value: object) -> object:
    """``value`` with every string made UTF-8 encodable (unpaired surrogates become "?")."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {key: _encodable(item) for key, item in value.items()}
    return value


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the limit is passed. An ``HTTPException`` so that FastAPI's body
    parsing re-raises it as is (it turns other errors into 400) and answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body too large: the limit is {limit} bytes")


class BodySizeLimit:
    """Answer 413 to any request whose body exceeds the limit for its path."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        is_page: Callable[[str], bool] = lambda _path: False,
    ) -> None:
        self.app = app
        self.is_page = is_page
        # Longest prefix first, so "/complaints/new" wins over "/".
        self.limits = sorted(limits.items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(self, path: str) -> int | None:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > limit:
            if self.is_page(scope["path"]):
                await self.app(scope, _refusing_receive(limit), send)
            else:
                await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Reached only when the app let the exception through (it did not answer it itself).
            if started:
                raise
            await _refuse(send, limit)


def _refusing_receive(limit: int) -> Receive:
    """A body that is too large before its first byte: reading it raises the app's 413."""

    async def receive() -> Message:
        raise BodyTooLarge(limit)

    return receive


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # not a number: the streamed count decides
    return 0


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body too large: the limit is {limit} bytes"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
