"""Every route × {anonymous, staff, auditor, admin}: who gets in, and how everyone else is turned away.

``EXPECTED`` has one line per route of the app. A route without a line fails the test, so a new
route cannot ship without deciding who may use it; a line for a route that no longer exists fails too.

How a refusal looks depends on the kind of route: a page sends the anonymous to the sign-in page (303
to ``/login?next=``) and shows a signed-in account with another role the 403 page; an API route (JSON,
CSV) answers 401 and 403. "Allowed" means none of these; the route may still answer 404 or 422 for
the sample input (path parameters are samples, forms carry a valid CSRF token and nothing else).

Deliberately public: the complaint form and JSON intake, the status and action links (their token is
the credential), sign-in and sign-out, ``/healthz``, the OpenAPI schema and its docs pages (they
describe the API, never data), and ``/dev/mail`` (dev mode only, on loopback; 404 otherwise).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.web.application import create_app
from app.web.auth import NOT_SIGNED_IN, SESSION_COOKIE, WRONG_ROLE
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, csrf_token, make_account, sign_in
from tests.runtime_support import START, make_runtime

ANONYMOUS = "anonymous"
ROLES = ("staff", "auditor", "admin")


@dataclass(frozen=True)
class Access:
    kind: str  # "page", "api" or "public"
    roles: frozenset[str]


def page(*roles: str) -> Access:
    return Access("page", frozenset(roles))


def api(*roles: str) -> Access:
    return Access("api", frozenset(roles))


PUBLIC = Access("public", frozenset((ANONYMOUS, *ROLES)))

EXPECTED: dict[str, Access] = {
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /healthz": PUBLIC,
    "POST /api/complaints": PUBLIC,
    "POST /api/complaints/{complaint_id}/actions": api("staff", "admin"),
    "GET /api/complaints/{complaint_id}/timeline": api("staff", "auditor", "admin"),
    "GET /api/violations": api("auditor", "admin"),
    "GET /a/{token}": PUBLIC,
    "POST /a/{token}": PUBLIC,
    "GET /complaints/new": PUBLIC,
    "POST /complaints/new": PUBLIC,
    "GET /staff/complaints/new": page("staff", "admin"),
    "POST /staff/complaints/new": page("staff", "admin"),
    "GET /status/{token}": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": PUBLIC,
    "POST /logout": PUBLIC,
    "GET /admin/accounts": page("admin"),
    "POST /admin/accounts": page("admin"),
    "POST /admin/accounts/{username}/disable": page("admin"),
    "POST /admin/accounts/{username}/tokens": page("admin"),
    "POST /admin/accounts/{username}/tokens/revoke": page("admin"),
    "GET /admin/mail-failures": page("admin"),
    "GET /audit/violations": page("auditor", "admin"),
    "GET /audit/violations.csv": api("auditor", "admin"),
    "GET /audit/violations.json": api("auditor", "admin"),
    "GET /audit/violations/{key:path}": page("auditor", "admin"),
    "POST /audit/violations/{key:path}/rulings": page("auditor"),
    "GET /audit/penalties": page("auditor", "admin"),
    "GET /audit/verify": page("auditor", "admin"),
    "GET /admin/policies": page("admin"),
    "POST /admin/policies/check": page("admin"),
    "POST /admin/policies/dry-run": page("admin"),
    "POST /admin/policies/activate": page("admin"),
    "GET /dashboard": page("staff", "auditor", "admin"),
    "GET /dashboard/{table}.csv": api("staff", "auditor", "admin"),
    "GET /dev/mail": PUBLIC,
}

# Path parameters: names not listed get "no-such-value" (the role check comes before any lookup).
SAMPLES = {
    "username": "no-such-user",
    "token": "no-such-token",
    "table": "no-such-table",
    "key": "no-such-key",
}


def _app(runtime: Runtime, mail: Path) -> FastAPI:
    """The app as ``serve`` builds it."""
    return create_app(runtime, mail_store=mail)


@dataclass
class World:
    app: FastAPI
    runtime: Runtime
    complaint: str
    usernames: dict[str, str]
    cookies: dict[str, str]  # a signed-in session per role, shared by the tests (argon2 is slow on purpose)
    mail: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One database with an account per role and a real complaint, shared by the whole matrix."""
    folder = tmp_path_factory.mktemp("roles")
    url = f"sqlite:///{folder / 'roles.db'}"
    migrate(url)
    mail = MailSink(host="127.0.0.1", port=0, store=folder / "mail")
    mail.start()
    try:
        runtime = make_runtime(url, mail, FakeClock(START))
        app = _app(runtime, folder / "mail")
        staff = {"Authorization": f"Bearer {api_token(runtime, 'staff')}"}
        phone = {"channel": "phone", "heard_by": "tanaka"}
        created = TestClient(app).post("/api/complaints", json=phone, headers=staff)
        assert created.status_code == 201
        usernames = {role: make_account(runtime, role) for role in ROLES}
        cookies = {}
        for role in ROLES:
            client = TestClient(app)
            sign_in(client, runtime, role, usernames[role])
            cookies[role] = client.cookies[SESSION_COOKIE]
        yield World(app, runtime, created.json()["id"], usernames, cookies, folder / "mail")
    finally:
        mail.stop()


def _route_keys(app: FastAPI) -> set[str]:
    keys = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":  # Starlette adds HEAD to every GET; it is the same route
                keys.add(f"{method} {route.path}")
    return keys


def test_every_route_has_a_line_in_the_matrix(world: World) -> None:
    routes = _route_keys(world.app)
    assert sorted(routes - set(EXPECTED)) == [], "routes without a line in EXPECTED"
    assert sorted(set(EXPECTED) - routes) == [], "lines in EXPECTED for routes that do not exist"


def _client(world: World, role: str, key: str) -> TestClient:
    # A fresh app per test: its sign-in rate limit counts from zero; the database is shared.
    client = TestClient(_app(world.runtime, world.mail))
    if role == ANONYMOUS:
        return client
    if key == "POST /logout":  # it ends the session it is sent with: use one of its own
        sign_in(client, world.runtime, role, world.usernames[role])
    else:
        client.cookies.set(SESSION_COOKIE, world.cookies[role])
    return client


def _request(client: TestClient, world: World, key: str) -> httpx.Response:
    method, template = key.split(" ", 1)
    samples = SAMPLES | {"complaint_id": world.complaint}
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: samples.get(m.group(1), "no-such-value"), template)
    if method == "GET":
        response: httpx.Response = client.get(path, follow_redirects=False)
    elif template.startswith("/api/"):
        response = client.request(method, path, json={}, follow_redirects=False)
    else:
        response = client.request(
            method, path, data={"csrf_token": csrf_token(client)}, follow_redirects=False
        )
    return response


def _outcome(response: httpx.Response) -> str:
    """How the app answered: "sign-in", "401", "403" (refusals by role) or "allowed"."""
    status = response.status_code
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if is_json else None
    detail = body.get("detail") if isinstance(body, dict) else None
    if status == 303 and response.headers["location"].startswith("/login?next="):
        return "sign-in"
    if status == 401 and detail == NOT_SIGNED_IN:
        return "401"
    if status == 403 and (detail == WRONG_ROLE or 'id="forbidden"' in response.text):
        return "403"
    return "allowed"


def _expected(access: Access, role: str) -> str:
    if role in access.roles:
        return "allowed"
    if role == ANONYMOUS:
        return "sign-in" if access.kind == "page" else "401"
    return "403"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_role_gets_exactly_the_access_the_matrix_says(world: World, key: str) -> None:
    outcomes = {
        role: _outcome(_request(_client(world, role, key), world, key)) for role in (ANONYMOUS, *ROLES)
    }
    expected = {role: _expected(EXPECTED[key], role) for role in (ANONYMOUS, *ROLES)}
    assert outcomes == expected


def test_an_api_token_acts_with_its_accounts_role(world: World) -> None:
    client = TestClient(world.app)
    for role, allowed in (("staff", False), ("auditor", True), ("admin", True)):
        response = client.get(
            "/api/violations", headers={"Authorization": f"Bearer {api_token(world.runtime, role)}"}
        )
        assert (response.status_code == 200) is allowed, (role, response.status_code)
    assert client.get("/api/violations", headers={"Authorization": "Bearer cf_forged"}).status_code == 401
