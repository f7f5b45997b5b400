"""Who may tell intake what: a complainant's own facts are public, the facts that start penalised
deadlines (who heard it and when, the channel, triage) need a staff or admin account, which is kept
in the event; the times staff give are bounded; complainant addresses are checked as the form does."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.web.application import create_app
from flows.audit.evidence import evidence
from flows.clock import FakeClock
from flows.intake.store import IntakeWindow
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.db import migrate
from models.events import ComplaintReceived
from models.tables import ComplaintRow, ViolationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, csrf_token, sign_in
from tests.runtime_support import START, make_runtime

API = "/api/complaints"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink, clock: FakeClock) -> Runtime:
    url = f"sqlite:///{tmp_path / 'trust.db'}"
    migrate(url)
    return make_runtime(url, sink, clock)


@pytest.fixture
def web(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


def _bearer(runtime: Runtime, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(runtime, role)}"}


def _count(runtime: Runtime, table: type[ComplaintRow] | type[ViolationRow] = ComplaintRow) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _received(runtime: Runtime, complaint_id: str) -> ComplaintReceived:
    with runtime.sessions() as session:
        first = load_events(session, complaint_id)[0][0]
    assert isinstance(first, ComplaintReceived)
    return first


def _ago(clock: FakeClock, **delta: float) -> str:
    return (clock.now() - timedelta(**delta)).isoformat()


def test_an_anonymous_request_cannot_fabricate_a_phone_call_and_its_violations(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    # The reproduction: three days later tanaka and sato would hold bonus_half_cut violations.
    forged = {"channel": "phone", "heard_by": "tanaka", "heard_at": _ago(clock, days=3)}
    refused = web.post(API, json=forged)
    assert refused.status_code == 403
    detail = refused.json()["detail"]
    assert detail.startswith("channel=phone, heard_by, heard_at: only a staff or admin account")
    assert _count(runtime) == 0
    clock.advance(timedelta(hours=3))
    assert _count(runtime, ViolationRow) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("heard_by", "tanaka"),
        ("heard_at", "2026-04-01T09:00:00+09:00"),
        ("occurred_at", "2026-03-31T09:00:00+09:00"),
        ("severity", "high"),
        ("complexity", "complex"),
        ("department", "reception"),
        ("channel", "phone"),
        ("channel", "desk"),
        ("channel", "social_media"),
        ("channel", "third_party"),
        ("channel", "survey"),
        ("channel", "email"),  # email comes in through the mailbox, not the public API
    ],
)
def test_each_staff_fact_is_403_naming_it_without_an_account(
    web: TestClient, runtime: Runtime, field: str, value: str
) -> None:
    new = {"channel": "web", "body": "寒い"} | {field: value}
    refused = web.post(API, json=new)
    assert refused.status_code == 403
    named = f"channel={value}" if field == "channel" else field
    assert refused.json()["detail"].startswith(f"{named}: only a staff or admin account")
    auditor = web.post(API, json=new, headers=_bearer(runtime, "auditor"))
    assert auditor.status_code == 403
    assert "the role auditor may not" in auditor.json()["detail"]
    assert _count(runtime) == 0


def test_a_complainants_own_complaint_is_public_and_received_at_the_servers_time(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    new = {
        "channel": "web",
        "category": "attitude",
        "subject": "受付",
        "body": "寒い",
        "complainant": {"name": "山田", "email": "hanako@example.org", "phone": "03-1234-5678"},
    }
    created = web.post(API, json=new)
    assert created.status_code == 201
    received = _received(runtime, created.json()["id"])
    assert (received.at, received.heard_by, received.recorded_by) == (clock.now(), None, None)
    assert web.post(API, json=new | {"at": _ago(clock, days=3)}).status_code == 422  # no time of its own
    assert web.post(API, json=new | {"recorded_by": "admin"}).status_code == 422
    forged = web.post(API, json=new, headers={"Authorization": "Bearer cf_forged"})
    assert forged.status_code == 401


def test_staff_log_a_phone_call_and_their_account_is_kept_as_its_recorder(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    staff = api_token(runtime, "staff")
    call = {"channel": "phone", "heard_by": "tanaka", "heard_at": _ago(clock, minutes=20)}
    created = web.post(API, json=call, headers={"Authorization": f"Bearer {staff}"})
    assert created.status_code == 201, created.text
    complaint = created.json()["id"]
    received = _received(runtime, complaint)
    assert received.heard_by == "tanaka"
    assert received.recorded_by is not None
    assert received.recorded_by.startswith("staff-")
    # A signed-in browser counts as the account too (the staff form's session).
    browser = TestClient(web.app)
    desk = sign_in(browser, runtime, "admin")
    again = browser.post(API, json=call | {"channel": "desk", "severity": "urgent"})
    assert again.status_code == 201, again.text
    assert _received(runtime, again.json()["id"]).recorded_by == desk


def test_the_recorder_shows_in_the_violations_evidence(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    call = {"channel": "phone", "heard_by": "tanaka"}
    staff_headers = _bearer(runtime, "staff")
    complaint = web.post(API, json=call, headers=staff_headers).json()["id"]
    recorder = _received(runtime, complaint).recorded_by
    assert recorder
    process_complaint(runtime, complaint)
    clock.advance(timedelta(hours=3))  # nobody reports: R1's violations
    process_complaint(runtime, complaint)
    asyncio.run(drain(runtime))
    with runtime.sessions() as session:
        key = session.scalars(select(ViolationRow.key).order_by(ViolationRow.key)).first()
        assert key is not None
        found = evidence(session, runtime.registry, key)
    assert found is not None
    first = found.events[0]
    assert (first.type, first.by, first.recorded_by) == ("complaint_received", "tanaka", recorder)
    auditor = TestClient(web.app)
    sign_in(auditor, runtime, "auditor")
    page = auditor.get(f"/audit/violations/{quote(key, safe='')}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    row = next(line for line in page.text.splitlines() if "#1 " in line)
    assert f"entered by account {recorder}" in row


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("heard_at", "2026-03-02T00:59:59+00:00"),  # one second over 30 days before 10:00 JST
        ("heard_at", "2026-04-01T10:05:01+09:00"),  # one second over 5 minutes ahead
        ("heard_at", "0001-01-01T00:00:00+00:00"),
        ("occurred_at", "2025-04-01T10:00:00+09:00"),
        ("occurred_at", "9999-12-31T00:00:00+00:00"),
    ],
)
def test_times_staff_give_must_lie_in_the_intake_window(
    web: TestClient, runtime: Runtime, field: str, moment: str
) -> None:
    new = {"channel": "phone", "heard_by": "tanaka", field: moment}
    refused = web.post(API, json=new, headers=_bearer(runtime, "staff"))
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"] == (
        f"{field} must lie between 2026-03-02T01:00:00+00:00 and 2026-04-01T01:05:00+00:00:"
        " at most 30 days before the server's clock and 5 minutes after it"
    )
    assert _count(runtime) == 0


def test_the_window_edges_are_inside_and_the_window_is_the_runtimes(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    staff = _bearer(runtime, "staff")
    for moment in (_ago(clock, days=30), (clock.now() + timedelta(minutes=5)).isoformat()):
        new = {"channel": "phone", "heard_by": "tanaka", "heard_at": moment}
        assert web.post(API, json=new, headers=staff).status_code == 201, moment
    runtime.intake_window = IntakeWindow(future_skew=timedelta(0), max_age=timedelta(days=1))
    old = {"channel": "phone", "heard_by": "tanaka", "heard_at": _ago(clock, days=2)}
    refused = web.post(API, json=old, headers=staff)
    assert refused.status_code == 422
    assert "at most 1 days before the server's clock and 0 minutes after it" in refused.text


@pytest.mark.parametrize("field", ["occurred_at", "heard_at"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_with_no_utc_equivalent_is_422_not_500(
    web: TestClient, runtime: Runtime, field: str, moment: str
) -> None:
    for headers in ({}, _bearer(runtime, "staff")):
        response = web.post(API, json={"channel": "web", field: moment}, headers=headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", field]
        assert "out of range" in error["msg"]


@pytest.mark.parametrize(
    "address",
    [
        "hanako@example.org\r\nBcc: everyone@example.org",
        "hanako@example.org, other@example.org",
        "Hanako <hanako@example.org>",
        "はなこ@example.org",
        "hanako@example",
    ],
)
def test_the_api_refuses_the_addresses_the_form_refuses(
    web: TestClient, runtime: Runtime, address: str
) -> None:
    new = {"channel": "web", "body": "寒い", "complainant": {"email": address}}
    refused = web.post(API, json=new)
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["detail"]] == [["body", "complainant", "email"]]
    data = {
        "csrf_token": csrf_token(web, "/complaints/new"),
        "consent": "yes",
        "body": "寒い",
        "email": address,
    }
    assert web.post("/complaints/new", data=data).status_code == 422
    assert _count(runtime) == 0
