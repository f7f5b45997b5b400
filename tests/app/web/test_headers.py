"""Every response carries nosniff and the no-framing policy; pages whose URL holds a token also tell
the browser to send no referrer and to keep no copy."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import MutableHeaders

from app.web.application import create_app
from app.web.headers import add_headers
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token
from tests.runtime_support import START, make_runtime

EVERYWHERE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
}
TOKEN_PAGES = {"referrer-policy": "no-referrer", "cache-control": "no-store"}


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink) -> Runtime:
    url = f"sqlite:///{tmp_path / 'headers.db'}"
    migrate(url)
    return make_runtime(url, sink, FakeClock(START))


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    app = create_app(runtime)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)  # a 500 is sent by Starlette's outermost middleware
    return app


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _headers(response: object) -> dict[str, str]:
    wanted = (*EVERYWHERE, *TOKEN_PAGES)
    return {name: value for name, value in getattr(response, "headers", {}).items() if name in wanted}


def test_every_kind_of_response_carries_nosniff_and_no_framing(web: TestClient, runtime: Runtime) -> None:
    bearer = {"Authorization": f"Bearer {api_token(runtime, 'auditor')}"}
    responses = {
        "page": web.get("/complaints/new"),
        "sign-in redirect": web.get("/dashboard", follow_redirects=False),
        "json": web.get("/healthz"),
        "csv": web.get("/dashboard/ranking.csv", headers=bearer),
        "schema": web.get("/openapi.json"),
        "404 page": web.get("/nowhere"),
        "404 json": web.get("/api/nowhere"),
        "413": web.post(
            "/api/complaints", content=b"x" * 70_000, headers={"Content-Type": "application/json"}
        ),
        "500": web.get("/broken"),
    }
    for kind, response in responses.items():
        assert {name: _headers(response).get(name) for name in EVERYWHERE} == EVERYWHERE, kind
    assert responses["413"].status_code == 413
    assert responses["500"].status_code == 500
    assert "referrer-policy" not in responses["page"].headers  # only token pages need it


@pytest.mark.parametrize("path", ["/status/some.token", "/a/some-token", "/survey/some-token"])
def test_pages_whose_url_holds_a_token_send_no_referrer_and_are_not_stored(
    web: TestClient, path: str
) -> None:
    for response in (web.get(path), web.post(path, data={"to": "x"})):
        assert _headers(response) == {**EVERYWHERE, **TOKEN_PAGES}, (path, response.status_code)


def test_a_policy_a_route_sets_keeps_its_rules_and_gains_no_framing() -> None:
    headers = MutableHeaders(
        raw=[(b"content-security-policy", b"default-src 'self';"), (b"cache-control", b"max-age=60")]
    )
    add_headers(headers, token_page=True)
    assert headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'"
    assert headers.getlist("cache-control") == ["no-store"]  # the token page's copy may not be cached
