"""Schemathesis over every route: no 5xx anywhere, and the documented JSON answers match the schema.

The published schema (``/openapi.json``) leaves the HTML pages out, so the test builds its own from
the app's routes list with every route in it, and adds what pages read from the request themselves
(``?lang=``, ``?next=``, the violation filters, the fields of the complaint and policy forms). Every
operation runs anonymously and signed in as each role (a session cookie; forms carry a valid CSRF
token, so generation reaches past the CSRF check into the parsers). An identity the route turns away
(sign-in redirect, 401, wrong-role 403) is seen once and not fuzzed further.

Path parameters are drawn from real values as well as generated ones (the recorded week's complaint
numbers, status and action tokens, violation keys, the dashboard's tables, an account), and date
parameters from any date and the calendar's first and last days, so generation reaches the
handlers' lookups and their date arithmetic.

Bounded (a couple of dozen examples per operation and identity, no deadline): about a minute.
"""

import asyncio
import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from app.web import guard as forms_guard
from app.web.application import create_app
from app.web.auth import NOT_SIGNED_IN, SESSION_COOKIE, WRONG_ROLE
from app.web.intake.status import status_token
from flows.clock import FakeClock
from flows.dashboard.export import TABLES
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.db import migrate
from models.tables import ViolationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, csrf_token, make_account, sign_in
from tests.dashboard_support import record_week
from tests.runtime_support import ACTION_LINK, START, make_runtime

ROLES = ("staff", "auditor", "admin")
EXAMPLES = 20  # per operation and identity
UNKNOWN_PATH_EXAMPLES = 8  # generated path parameters: every one names nothing
FEWER = {"GET /dev/mail": 3}  # renders every captured mail: slow, and takes no input but ?lang=
DOCUMENTED_EXAMPLES = 50  # the documented API, as an admin
FORM = "application/x-www-form-urlencoded"
# Query parameters pages read from ``request.query_params`` themselves (besides ``lang``, read by all).
PAGE_QUERIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("get", "/login"): ("next",),
    ("get", "/audit/violations"): ("person", "department", "step", "version", "status", "due_from", "due_to"),
    ("get", "/admin/policies"): ("activated", "already_active"),
}
# Fields of forms their routes parse themselves (``request.form()``), all sent as text.
PAGE_FORMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("post", "/complaints/new"): (
        "subject", "body", "category", "name", "email", "phone", "consent", "website",
        "heard_by", "heard_at", "channel",
    ),
    ("post", "/staff/complaints/new"): (
        "heard_by", "heard_at", "channel", "category", "subject", "body", "name", "email", "phone",
    ),
    ("post", "/admin/policies/check"): ("policy_text", "org_text"),
    ("post", "/admin/policies/dry-run"): ("policy_text", "org_text", "name", "org_name", "days"),
    ("post", "/admin/policies/activate"): ("policy_text", "org_text", "name", "org_name", "confirm"),
}  # fmt: skip
# Parameters that hold dates: generated as any date at all (year 1 to 9999), as well as any text.
DATES = frozenset({"from", "to", "due_from", "due_to"})
EDGE_DAYS = ("0001-01-01", "0001-01-02", "1999-12-31", "2026-03-30", "2026-04-02", "9999-12-30", "9999-12-31")
# These end sessions or accounts (the sampled account is no identity's, but stay safe): run them last.
LAST = frozenset({"POST /logout", "POST /admin/accounts/{username}/disable"})


Operation = APIOperation[Any, Any, Any, Any]


@dataclass(frozen=True)
class Identity:
    name: str
    cookies: dict[str, str]
    csrf: str


@dataclass
class World:
    schema: BaseSchema  # every route, every parameter generated
    sampled: BaseSchema  # the same, with path parameters drawn from real values
    published: BaseSchema  # what /openapi.json documents
    admin_token: str
    identities: list[Identity] = field(default_factory=list)

    @property
    def documented(self) -> set[str]:
        return {op.label for op in _operations(self.published)}


def _every_route(app: FastAPI) -> list[RouteContext | APIRoute]:
    """The app's API routes, each marked as part of the schema (a copy: the app stays as it is)."""
    shown: list[RouteContext | APIRoute] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue  # the schema and docs pages themselves
        effective = context._route_context
        if effective is None:
            own = copy.copy(route)
            own.include_in_schema = True
            shown.append(own)
        else:
            effective = copy.copy(effective)
            effective.include_in_schema = True
            shown.append(RouteContext(route, effective))
    return shown


def _text(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}


def _drawn(parameter: dict[str, Any], samples: Mapping[str, Sequence[str]]) -> None:
    """Let ``parameter`` also take real values (``samples``) or, for a date, any date."""
    name = parameter["name"]
    if name in samples:
        parameter["schema"] = {"type": "string", "enum": list(samples[name])}  # generation never mixes
    elif name in DATES:
        parameter["schema"] = {"anyOf": [{"type": "string", "format": "date"}, parameter["schema"]]}


def _full_schema(app: FastAPI, samples: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    raw = get_openapi(title=app.title, version=app.version, routes=_every_route(app))
    for path, operations in raw["paths"].items():
        for method, operation in operations.items():
            operation.pop("security", None)  # who is asking comes from the identity, never generated
            extra = PAGE_QUERIES.get((method, path), ())
            if not path.startswith("/api/"):
                extra = ("lang", *extra)
            parameters = operation.setdefault("parameters", [])
            parameters.extend(_text(name) for name in extra)
            for parameter in parameters:
                _drawn(parameter, samples)
            fields = PAGE_FORMS.get((method, path))
            if fields:
                properties = {name: {"type": "string"} for name in ("csrf_token", *fields)}
                schema = {"type": "object", "properties": properties}
                operation["requestBody"] = {"content": {FORM: {"schema": schema}}}
    return raw


def _identity(app: FastAPI, runtime: Any, role: str | None) -> Identity:
    # Signed in through its own app, so the fuzzed app's sign-in rate limit starts from zero.
    client = TestClient(create_app(runtime))
    if role is not None:
        sign_in(client, runtime, role)
    token = csrf_token(client)
    cookies = {name: value for name, value in client.cookies.items() if name in {SESSION_COOKIE, "cf_csrf"}}
    return Identity(role or "anonymous", cookies, token)


def _samples(runtime: Runtime, sink: MailSink) -> dict[str, list[str]]:
    """Real path parameter values: the recorded week's complaints, their links, violations, tables."""
    complaints = list(record_week(runtime, runtime.clock))  # type: ignore[arg-type]
    asyncio.run(drain(runtime))  # the step emails, with their action links
    secret = runtime.links.secret
    bodies = [mail.message.get_body(preferencelist=("plain",)) for mail in sink.messages()]
    mailed = [link for body in bodies if body for link in ACTION_LINK.findall(str(body.get_content()))]
    with runtime.sessions() as session:
        keys = list(session.scalars(select(ViolationRow.key)))
    return {
        "complaint_id": complaints,
        "token": [status_token(secret, c) for c in complaints] + [p.rsplit("/", 1)[1] for p in mailed],
        "key": keys,
        "table": list(TABLES),
        "username": [make_account(runtime, "staff")],
        **{name: list(EDGE_DAYS) for name in DATES},
    }


@pytest.fixture
def world(tmp_path: Path, sink: MailSink) -> World:
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    migrate(url)
    runtime = make_runtime(url, sink, FakeClock(START))
    app = create_app(runtime, mail_store=tmp_path / "mail")
    # The public form's 5 posts a minute would answer 429 to nearly every generated form.
    app.state.public_form_limiter = forms_guard.SlidingWindow(limit=10**9, seconds=60)
    samples = _samples(runtime, sink)
    assert samples["key"], "the recorded week has violations"
    schema, sampled = (schemathesis.openapi.from_dict(_full_schema(app, s)) for s in ({}, samples))
    schema.app = sampled.app = app
    published = schemathesis.openapi.from_asgi("/openapi.json", app)
    world = World(schema, sampled, published, api_token(runtime, "admin"))
    world.identities = [_identity(app, runtime, role) for role in (None, *ROLES)]
    return world


def _operations(schema: BaseSchema) -> list[Operation]:
    # .ok() raises for an operation whose schema is invalid: that fails the test too.
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]


def _turned_away(response: Any) -> bool:
    """Refused for who is asking (not for what was sent): fuzzing it further tests nothing."""
    status = response.status_code
    headers = {name.lower(): values for name, values in response.headers.items()}
    location = headers.get("location", [""])[0]
    if status == 303 and location.startswith("/login?next="):
        return True
    if status == 401:
        return NOT_SIGNED_IN in response.text
    return status == 403 and (WRONG_ROLE in response.text or 'id="forbidden"' in response.text)


def _run(operation: Operation, who: Identity, examples: int, checks: list[Any]) -> bool:
    """Run generated cases as ``who``; any failed check raises. False if ``who`` is turned away."""
    seen: list[bool] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        if isinstance(case.body, dict) and case.media_type == FORM:
            case.body["csrf_token"] = who.csrf
        # No redirects followed: the sign-in redirect is the answer under test, not the sign-in page.
        response = case.call_and_validate(cookies=who.cookies, checks=checks, max_redirects=0)
        seen.append(_turned_away(response))

    run()
    return not all(seen)


def _fuzz(operation: Operation, who: Identity, documented: set[str], examples: int) -> None:
    checks: list[Any] = [not_a_server_error]
    if operation.label in documented:
        checks.append(response_schema_conformance)
    if _run(operation, who, 1, checks):
        _run(operation, who, examples, checks)


def _has_samples(operation: Operation) -> bool:
    return "{" in operation.path or any(parameter.name in DATES for parameter in operation.query)


def _plan(world: World) -> list[tuple[Operation, int]]:
    """Each operation with its number of examples; one with path or date parameters also with real
    values and the calendar's edge days (generated path values only ever find nothing: a few suffice)."""
    plan = [(op, UNKNOWN_PATH_EXAMPLES if "{" in op.path else EXAMPLES) for op in _operations(world.schema)]
    plan += [(op, EXAMPLES) for op in _operations(world.sampled) if _has_samples(op)]
    plan = [(op, FEWER.get(op.label, examples)) for op, examples in plan]
    return sorted(plan, key=lambda item: item[0].label in LAST)


def test_every_route_as_every_role_gives_no_server_error(world: World) -> None:
    operations = _operations(world.schema)
    labels = {op.label for op in operations}
    # The pages must be in the schema too, or this test would pass by checking only the API.
    assert {
        "POST /api/complaints",
        "GET /api/violations",
        "GET /dashboard",
        "GET /dashboard/{table}.csv",
        "POST /complaints/new",
        "GET /status/{token}",
        "POST /a/{token}",
        "GET /audit/violations/{key}",
    } <= labels
    assert "GET /redoc" not in labels
    documented = world.documented
    for operation, examples in _plan(world):
        for who in world.identities:
            _fuzz(operation, who, documented, examples)


def test_the_documented_api_answers_as_its_schema_says(world: World) -> None:
    """The published schema as it is (its security schemes too), with an admin's API token."""
    operations = _operations(world.published)
    assert {
        "POST /api/complaints",
        "GET /api/complaints/{complaint_id}/timeline",
        "GET /api/violations",
    } <= {op.label for op in operations}
    for operation in operations:
        _check_documented(operation, world.admin_token)


def _check_documented(operation: Operation, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=DOCUMENTED_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()


def test_query_strings_are_generated_for_the_pages(world: World) -> None:
    """Guards the schema this test builds: the pages' own parameters are in it."""
    dashboard = next(op for op in _operations(world.schema) if op.label == "GET /dashboard")
    names = {parameter.name for parameter in dashboard.query}
    assert {"from", "to", "department", "lang"} <= names
