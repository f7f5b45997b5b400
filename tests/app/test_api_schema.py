"""Schemathesis over the app's whole OpenAPI schema: no 5xx, and every response matches the schema.

Bounded (50 examples per operation, no deadline) so it runs in well under a minute; any 5xx or
non-conforming response fails the test. Requests carry an admin account's API token, so generation
reaches past the 401/403 into the handlers.
"""

from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.web.application import create_app
from flows.clock import FakeClock
from models.db import migrate
from notifiers.sink import MailSink
from tests.app.auth_support import api_token
from tests.runtime_support import START, make_runtime


def _schema(tmp_path: Path, sink: MailSink) -> tuple[BaseSchema, str]:
    """The app's schema, and an API token of an admin (who may call every JSON route but rulings)."""
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    migrate(url)
    runtime = make_runtime(url, sink, FakeClock(START))
    app: FastAPI = create_app(runtime)
    return schemathesis.openapi.from_asgi("/openapi.json", app), api_token(runtime, "admin")


def _check(operation: APIOperation[Any, Any, Any, Any], token: str) -> None:
    """Run generated cases against one operation; any failed check raises and fails the test."""

    # The pytest plugin's lazy fixtures do not work with this pytest, so Hypothesis is driven directly.
    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()


def test_no_server_errors_and_responses_match_the_schema(tmp_path: Path, sink: MailSink) -> None:
    # .ok() raises for an operation whose schema is invalid: that fails the test too.
    schema, token = _schema(tmp_path, sink)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    labels = {op.label for op in operations}
    # The JSON API must be in the schema, or this test would pass by checking nothing.
    assert {
        "POST /api/complaints",
        "GET /api/complaints/{complaint_id}/timeline",
        "GET /api/violations",
    } <= labels
    for operation in operations:
        _check(operation, token)
