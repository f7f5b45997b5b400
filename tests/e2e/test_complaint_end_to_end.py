"""End to end through real parts: the web API, SQLite, Prefect flow runs, aiosmtpd, action links.

The clock is injected: the test moves it past a deadline and the scheduler's next tick (a real
Prefect flow run) records the violation.
"""

import asyncio
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from sqlalchemy import select

from app.web.application import create_app
from flows.clock import FakeClock
from flows.records.events import load_events
from flows.runtime.scheduler import Scheduler
from models.db import migrate
from models.tables import ComplaintRow, ViolationRow
from notifiers.outbound.sink import MailSink
from policies.engine.simulate import simulate
from tests.app.auth_support import api_token
from tests.factories import REPO
from tests.runtime_support import START, action_paths, make_runtime

CHAIN = REPO / "tests" / "e2e" / "policies" / "chain.yaml"


async def _flow_run_names(complaint_id: str) -> list[str]:
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"complaint:{complaint_id}"]))
        )
    return [run.name for run in runs]


def test_complaint_to_violation_through_prefect(prefect_api: str, tmp_path: Path, sink: MailSink) -> None:
    url = f"sqlite:///{tmp_path / 'cf.db'}"
    migrate(url)
    clock = FakeClock(START)
    runtime = make_runtime(url, sink, clock, policy=CHAIN)
    scheduler = Scheduler(runtime, poll_seconds=0.1)
    web = TestClient(create_app(runtime, kick=scheduler.kick))

    # Who heard it and the phone channel are staff-only facts: phone staff's tool sends its token.
    staff = {"Authorization": f"Bearer {api_token(runtime, 'staff')}"}
    created = web.post(
        "/api/complaints",
        json={"channel": "phone", "heard_by": "tanaka", "subject": "待ち時間"},
        headers=staff,
    )
    assert created.status_code == 201
    complaint_id = created.json()["id"]
    assert asyncio.run(scheduler.tick()) == 1

    # The supervisor (佐藤) is asked to consult the top; he follows his link and reports to 伊藤.
    [link] = action_paths(sink, "sato@keieikai.example", "supervisor_consults_top")
    page = web.get(link)
    assert page.status_code == 200
    assert "上司が社長か担当役員へ報告・相談" in page.text
    assert web.post(link, data={"to": "ito", "note": "電話で相談済み"}).status_code == 200
    assert web.post(link, data={"to": "ito"}).status_code == 410  # single use
    clock.advance(timedelta(minutes=5))
    assert asyncio.run(scheduler.tick()) == 1
    assert action_paths(sink, "sato@keieikai.example", "apology_call"), "the next step's email did not arrive"

    # Nobody calls the complainant: two hours after the report, the violation is recorded.
    clock.advance(timedelta(hours=2))
    asyncio.run(scheduler.tick())
    asyncio.run(scheduler.tick())
    with runtime.sessions() as session:
        violations = [(v.step, v.actor, v.penalty) for v in session.scalars(select(ViolationRow))]
        events, _ = load_events(session, complaint_id)
        complaint = session.get(ComplaintRow, complaint_id)
        assert complaint is not None
        pinned = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash)
    assert violations == [("apology_call", "sato", "bonus_half_cut")]
    escalated = [m for m in sink.messages() if m.message["X-Complaintflow-Kind"] == "escalation"]
    assert [m.envelope_to for m in escalated] == [["yamamoto@keieikai.example"]]

    simulated = simulate(pinned.policy, pinned.org, events, clock.now())
    assert [
        (d.violation.step, d.violation.actor, d.violation.penalty) for d in simulated.violations
    ] == violations

    names = asyncio.run(_flow_run_names(complaint_id))
    assert len(names) >= 3
    assert set(names) == {f"complaint-{complaint_id}"}
