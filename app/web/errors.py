"""The errors FastAPI and Starlette raise on their own (a field that fails validation, a form the
multipart parser refuses, an unknown path, a wrong method, an oversize body), answered the way the
asker reads them: JSON for programs, the localized error page (ja/zh/en, chosen as the pages choose)
for people.

Programs are the JSON API (``/api/*``), ``/openapi.json``, ``/healthz`` and the ``.csv``/``.json``
downloads (scripts read their ``detail``). Exceptions that are not errors (the sign-in page's 303)
keep their status and headers. ``install`` wraps the handlers already registered, so what programs
get stays exactly what they got before.
"""

import inspect
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import HTTPExceptionHandler

from app.web.auth import page_language
from app.web.error_texts import error_texts
from app.web.pages import render

_JSON_PREFIXES = ("/api/",)
_JSON_PATHS = frozenset({"/openapi.json", "/healthz"})
_JSON_SUFFIXES = (".csv", ".json")
_KNOWN = frozenset({400, 404, 405, 413, 422})
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
# What Starlette's form parser says when it refuses a form (starlette.formparsers), and our text for it.
_PARSER_REFUSALS = (
    (re.compile(r"Too many files\. Maximum number of files is (\d+)\."), "too_many_files"),
    (re.compile(r"Too many fields\. Maximum number of fields is (\d+)\."), "too_many_fields"),
    (re.compile(r"(?:Part|Field) exceeded maximum size of (\d+)KB\."), "field_too_large"),
)


def reads_json(path: str) -> bool:
    """Whether a program asks for ``path`` (it gets JSON errors), not a person with a browser."""
    return path.startswith(_JSON_PREFIXES) or path in _JSON_PATHS or path.endswith(_JSON_SUFFIXES)


def install(app: FastAPI) -> None:
    """Answer FastAPI's and Starlette's own errors on pages with the error page; JSON stays JSON."""
    for_programs = dict(app.exception_handlers)

    async def http_error(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if not isinstance(exc, HTTPException) or exc.status_code < HTTPStatus.BAD_REQUEST or reads_json(path):
            return await _delegate(for_programs[HTTPException], request, exc)
        texts = error_texts(page_language(request, request.app.state.context))
        return error_page(request, exc.status_code, _explained(exc, texts, request.method), (), exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError) or reads_json(request.url.path):
            return await _delegate(for_programs[RequestValidationError], request, exc)
        texts = error_texts(page_language(request, request.app.state.context))
        return error_page(request, 422, texts["text_422"], _field_lines(exc.errors(), texts))

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


async def _delegate(handler: HTTPExceptionHandler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def error_page(
    request: Request,
    status: int,
    message: str,
    details: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The localized error page with ``status``: its title, ``message`` and a line per detail."""
    language = page_language(request, request.app.state.context)
    texts = error_texts(language)
    title = texts[f"title_{_family(status)}"]
    html = render("error.html", language, title=title, message=message, details=list(details))
    return HTMLResponse(html, status_code=status, headers={**(headers or {}), "Cache-Control": "no-store"})


def _family(status: int) -> str:
    if status in _KNOWN:
        return str(status)
    return "5xx" if status >= HTTPStatus.INTERNAL_SERVER_ERROR else "4xx"


def _explained(exc: HTTPException, texts: dict[str, str], method: str) -> str:
    """What went wrong, in the page's language: the parser's refusal if it was one, else the status's."""
    if exc.status_code == HTTPStatus.BAD_REQUEST:  # how Starlette answers a form its parser refused
        for pattern, key in _PARSER_REFUSALS:
            found = pattern.fullmatch(str(exc.detail))
            if found:
                return texts[key].format(n=found.group(1))
    return texts[f"text_{_family(exc.status_code)}"].format(status=exc.status_code, method=method)


def _field_lines(errors: Iterable[Any], texts: dict[str, str]) -> list[str]:
    """One line per field named in pydantic's errors (never the input itself: it may be anything)."""
    lines: list[str] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        names = [str(part) for part in (loc[1:] if loc and loc[0] in _SOURCES else loc)]
        field = ".".join(names) or "-"
        kind = error.get("type")
        if kind == "missing":
            line = texts["field_missing"].format(field=field)
        elif kind == "string_too_long":
            line = texts["field_too_long"].format(field=field, n=error.get("ctx", {}).get("max_length", "?"))
        else:
            line = texts["field_invalid"].format(field=field)
        if line not in lines:
            lines.append(line)
    return lines
