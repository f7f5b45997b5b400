"""The web app's API as a client sees it: status codes, validation and authorisation."""

import asyncio
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.web.application import create_app
from flows.admin.accounts import find_account, issue_api_token
from flows.clock import FakeClock
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.db import migrate
from models.events import StepDone
from models.tables import AccountRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, make_account
from tests.runtime_support import START, make_runtime


def _client(url: str, sink: MailSink, clock: FakeClock | None = None) -> TestClient:
    migrate(url)
    runtime = make_runtime(url, sink, clock or FakeClock(START))
    return TestClient(create_app(runtime))


def _auth(web: TestClient, role: str) -> dict[str, str]:
    """Bearer headers of a new account with ``role`` in the app's database."""
    runtime = web.app.state.context.runtime  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {api_token(runtime, role)}"}


def _phone(web: TestClient, **fields: object) -> str:
    """A phone complaint heard by tanaka, logged through the API by a staff account; its id."""
    new = {"channel": "phone", "heard_by": "tanaka", **fields}
    created = web.post("/api/complaints", json=new, headers=_auth(web, "staff"))
    assert created.status_code == 201, created.text
    complaint_id: str = created.json()["id"]
    return complaint_id


def _enforce(web: TestClient, complaint_id: str) -> None:
    """What the scheduler does for a due complaint: decide, record, send the queued mail."""
    runtime = web.app.state.context.runtime  # type: ignore[attr-defined]
    process_complaint(runtime, complaint_id)
    asyncio.run(drain(runtime))


def test_complaints_are_created_and_bad_input_is_422(tmp_path: Path, sink: MailSink) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    created = web.post("/api/complaints", json={"channel": "web", "subject": "<script>alert(1)</script>"})
    assert created.status_code == 201
    assert created.json()["id"].startswith("2026-")
    bad = web.post("/api/complaints", json={"channel": "fax", "surprise": 1})
    assert bad.status_code == 422
    fields = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert ("body", "channel") in fields
    assert ("body", "surprise") in fields


def test_recording_an_action_needs_a_staff_token_and_a_known_complaint(
    tmp_path: Path, sink: MailSink
) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    complaint = _phone(web)
    action = {"step": "report_to_supervisor", "by": "tanaka", "to": "sato"}
    assert web.post(f"/api/complaints/{complaint}/actions", json=action).status_code == 401
    bad = {"Authorization": "Bearer cf_not-a-token"}
    assert web.post(f"/api/complaints/{complaint}/actions", json=action, headers=bad).status_code == 401
    auditor = _auth(web, "auditor")
    assert web.post(f"/api/complaints/{complaint}/actions", json=action, headers=auditor).status_code == 403
    headers = _auth(web, "staff")
    assert web.post("/api/complaints/1999-000001/actions", json=action, headers=headers).status_code == 404
    recorded = web.post(f"/api/complaints/{complaint}/actions", json=action, headers=headers)
    assert recorded.status_code == 202
    assert recorded.json()["complaint"] == complaint


def test_a_staff_account_linked_to_a_person_records_only_that_persons_steps(
    tmp_path: Path, sink: MailSink
) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    runtime = web.app.state.context.runtime  # type: ignore[attr-defined]
    complaint = _phone(web)
    action = {"step": "report_to_supervisor", "by": "tanaka", "to": "sato"}
    suzuki = make_account(runtime, "staff", person="suzuki")
    with runtime.sessions.begin() as session:
        account = find_account(session, suzuki)
        assert account is not None
        token = issue_api_token(session, account_id=account.id, name="t", now=runtime.clock.now())
    as_suzuki = {"Authorization": f"Bearer {token}"}
    refused = web.post(f"/api/complaints/{complaint}/actions", json=action, headers=as_suzuki)
    assert refused.status_code == 403
    assert "suzuki" in refused.json()["detail"]
    admin = _auth(web, "admin")
    assert web.post(f"/api/complaints/{complaint}/actions", json=action, headers=admin).status_code == 202
    with runtime.sessions() as session:
        events, _ = load_events(session, complaint)
    done = [e for e in events if isinstance(e, StepDone)]
    assert [(e.by, e.recorded_by) for e in done] == [("tanaka", _admin_name(runtime))]


def _admin_name(runtime: Runtime) -> str:
    with runtime.sessions() as session:
        return session.scalars(select(AccountRow.username).where(AccountRow.role == "admin")).one()


def test_unknown_policy_words_are_422_naming_the_allowed_values(tmp_path: Path, sink: MailSink) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    new = {"channel": "phone", "heard_by": "nobody", "category": "zzz"}
    bad = web.post("/api/complaints", json=new, headers=_auth(web, "staff"))
    assert bad.status_code == 422
    messages = {tuple(e["loc"]): e["msg"] for e in bad.json()["detail"]}
    assert "tanaka" in messages[("body", "heard_by")]
    assert "attitude" in messages[("body", "category")]
    too_long = web.post("/api/complaints", json={"channel": "web", "subject": "x" * 301})
    assert too_long.status_code == 422
    assert [e["loc"] for e in too_long.json()["detail"]] == [["body", "subject"]]


def test_a_forged_action_link_is_410_and_says_why(tmp_path: Path, sink: MailSink) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    page = web.get("/a/not-a-real-token")
    assert page.status_code == 410
    assert "not valid" in page.text


def test_the_timeline_shows_facts_but_no_text_or_addresses(tmp_path: Path, sink: MailSink) -> None:
    clock = FakeClock(START)
    web = _client(f"sqlite:///{tmp_path}/w.db", sink, clock)
    new = {
        "channel": "phone",
        "heard_by": "tanaka",
        "category": "attitude",
        "subject": "secret subject",
        "complainant": {"name": "Yamada Hanako", "email": "hanako@example.org"},
    }
    complaint = web.post("/api/complaints", json=new, headers=_auth(web, "staff")).json()["id"]
    _enforce(web, complaint)
    action = {"step": "report_to_supervisor", "by": "tanaka", "to": "sato", "note": "private note"}
    assert web.post(
        f"/api/complaints/{complaint}/actions", json=action, headers=_auth(web, "staff")
    ).is_success
    auditor = _auth(web, "auditor")
    clock.advance(timedelta(days=30))
    _enforce(web, complaint)

    assert web.get(f"/api/complaints/{complaint}/timeline").status_code == 401
    assert web.get("/api/complaints/1999-000001/timeline", headers=auditor).status_code == 404
    response = web.get(f"/api/complaints/{complaint}/timeline", headers=auditor)
    assert response.status_code == 200
    timeline = response.json()
    assert [e["type"] for e in timeline["events"]] == ["complaint_received", "step_done"]
    done = timeline["events"][1]
    assert (done["step"], done["by"], done["to"]) == ("report_to_supervisor", "tanaka", "sato")
    assert {"step", "actor", "due_at", "status"} <= set(timeline["obligations"][0])
    assert timeline["violations"], "30 days later some step is overdue"
    assert all(m["sent_at"] for m in timeline["emails"])
    assert {m["recipient"] for m in timeline["emails"]} >= {"tanaka", "sato"}
    for secret in ("secret subject", "Yamada", "hanako@", "private note", "@keieikai.example"):
        assert secret not in response.text


def test_violations_are_filtered_and_paged(tmp_path: Path, sink: MailSink) -> None:
    clock = FakeClock(START)
    web = _client(f"sqlite:///{tmp_path}/w.db", sink, clock)
    ids = [_phone(web) for _ in range(3)]
    clock.advance(timedelta(days=30))
    for complaint in ids:
        _enforce(web, complaint)
    assert web.get("/api/violations").status_code == 401
    assert web.get("/api/violations", headers=_auth(web, "staff")).status_code == 403
    reader = _auth(web, "auditor")
    everything = web.get("/api/violations", params={"limit": 500}, headers=reader).json()
    assert everything["next"] is None
    total = everything["items"]
    assert len(total) >= 3

    seen: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"after": after} if after else {})
        page = web.get("/api/violations", params=params, headers=reader).json()
        seen += [v["key"] for v in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == [v["key"] for v in total]

    step = total[0]["step"]
    only = web.get(
        "/api/violations", params={"step": step, "actor": total[0]["actor"]}, headers=reader
    ).json()
    assert only["items"]
    assert all(v["step"] == step for v in only["items"])
    later = (clock.now() + timedelta(seconds=1)).isoformat()
    assert web.get("/api/violations", params={"since": later}, headers=reader).json()["items"] == []
    assert len(web.get("/api/violations", params={"until": later}, headers=reader).json()["items"]) == len(
        total
    )
    assert (
        web.get("/api/violations", params={"since": "2026-04-01T10:00:00"}, headers=reader).status_code == 422
    )
    assert web.get("/api/violations", params={"limit": 501}, headers=reader).status_code == 422
    for bound in ("since", "until"):
        for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
            overflow = web.get("/api/violations", params={bound: edge}, headers=reader)
            assert overflow.status_code == 422, (bound, edge, overflow.status_code)
            assert "out of range" in overflow.json()["detail"][0]["msg"]
    assert web.get("/api/violations", params={"after": "no-such-key"}, headers=reader).status_code == 422
