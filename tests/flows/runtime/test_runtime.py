"""The runtime without Prefect: store, decide, record, queue and send, on SQLite and PostgreSQL.

Time is a fake clock moved by hand; mail goes to a real aiosmtpd server on loopback.
"""

import asyncio
import logging
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.web.actions.record import record
from flows.clock import FakeClock
from flows.intake.store import IntakeWindow, NewComplaint, accept_complaint
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime, build_runtime
from flows.runtime.links import LinkRejected
from flows.runtime.outbox import drain, error_class
from flows.settings import Settings
from models.complaint import Channel, Complainant
from models.tables import Base, ComplaintRow, ObligationRow, OutboxRow, ViolationRow
from notifiers.outbound.sink import MailSink
from notifiers.outbound.templates import TemplateStore
from policies.engine.simulate import simulate
from tests.runtime_support import START, action_paths


def _submit(runtime: Runtime, **fields: object) -> str:
    new = NewComplaint.model_validate(
        {
            "channel": Channel.PHONE,
            "heard_by": "tanaka",
            "category": "attitude",
            "subject": "受付の対応",
            **fields,
        }
    )
    return accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)


def _run(runtime: Runtime, complaint_id: str) -> int:
    process_complaint(runtime, complaint_id)
    return asyncio.run(drain(runtime))


def _count(runtime: Runtime, table: type[Base]) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def _mail_to(sink: MailSink, address: str) -> list[str]:
    return [str(m.message["Subject"]) for m in sink.messages() if address in m.envelope_to]


def _link_for(sink: MailSink, address: str, step: str = "report_to_supervisor") -> str:
    """The token of the first action link mailed to ``address`` for ``step``."""
    paths = action_paths(sink, address, step)
    assert paths, f"no action link mailed to {address}"
    return paths[0].rsplit("/", 1)[1]


def test_a_stored_complaint_gets_its_first_emails_with_action_links(runtime: Runtime, sink: MailSink) -> None:
    complaint_id = _submit(runtime)
    assert re.fullmatch(r"2026-\d{6}", complaint_id)
    sent = _run(runtime, complaint_id)
    assert sent == len(sink.messages()) == 4
    assert (
        len(_mail_to(sink, "tanaka@keieikai.example")) == 2
    )  # report to the supervisor, one-line mail to the top
    assert (
        len(_mail_to(sink, "sato@keieikai.example")) == 2
    )  # consult the top, apology call (default handler)
    assert _link_for(sink, "tanaka@keieikai.example")


def test_running_twice_records_and_sends_nothing_twice(runtime: Runtime, sink: MailSink) -> None:
    complaint_id = _submit(runtime)
    _run(runtime, complaint_id)
    counts = (_count(runtime, ObligationRow), _count(runtime, OutboxRow), len(sink.messages()))
    assert _run(runtime, complaint_id) == 0
    assert (_count(runtime, ObligationRow), _count(runtime, OutboxRow), len(sink.messages())) == counts


def test_a_missed_deadline_is_recorded_once_with_its_penalty_and_escalated(
    runtime: Runtime, sink: MailSink, clock: FakeClock
) -> None:
    complaint_id = _submit(runtime)
    _run(runtime, complaint_id)
    clock.advance(timedelta(minutes=31))
    _run(runtime, complaint_id)
    _run(runtime, complaint_id)
    with runtime.sessions() as session:
        violations = session.scalars(select(ViolationRow)).all()
    assert [(v.step, v.actor, v.penalty, v.detected_at) for v in violations] == [
        ("report_to_supervisor", "tanaka", "bonus_half_cut", clock.now())
    ]
    escalations = [m for m in sink.messages() if m.message["X-Complaintflow-Kind"] == "escalation"]
    assert [m.envelope_to for m in escalations] == [["sato@keieikai.example"]]
    body = escalations[0].message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "一年間賞与を半額カット" in str(body.get_content())


def test_the_runtime_finds_what_simulate_finds(runtime: Runtime, clock: FakeClock) -> None:
    complaint_id = _submit(runtime)
    start = clock.now()
    for minutes in (0, 31, 61, 121, 200):
        clock.set(start + timedelta(minutes=minutes))
        process_complaint(runtime, complaint_id)
    with runtime.sessions() as session:
        stored = {(v.step, v.actor, v.due_at, v.penalty) for v in session.scalars(select(ViolationRow))}
        events, _ = load_events(session, complaint_id)
        complaint = session.get(ComplaintRow, complaint_id)
        assert complaint is not None
        pinned = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash)
    simulated = simulate(pinned.policy, pinned.org, events, clock.now())
    assert stored == {
        (d.violation.step, d.violation.actor, d.violation.due_at, d.violation.penalty)
        for d in simulated.violations
    }
    assert len(stored) == 4


def test_an_action_link_records_the_step_once(runtime: Runtime, sink: MailSink) -> None:
    complaint_id = _submit(runtime)
    _run(runtime, complaint_id)
    token = _link_for(sink, "tanaka@keieikai.example")
    view = record(runtime, token, "sato", "電話で報告しました")
    assert view.person == "tanaka"
    with pytest.raises(LinkRejected, match="already used"):
        record(runtime, token, "sato", None)
    _run(runtime, complaint_id)
    with runtime.sessions() as session:
        met = [
            (o.step, o.actor)
            for o in session.scalars(select(ObligationRow).where(ObligationRow.status == "met"))
        ]
    assert met == [("report_to_supervisor", "tanaka")]


def test_links_expire_and_forgeries_are_refused(runtime: Runtime, sink: MailSink, clock: FakeClock) -> None:
    complaint_id = _submit(runtime)
    _run(runtime, complaint_id)
    token = _link_for(sink, "tanaka@keieikai.example")
    with pytest.raises(LinkRejected, match="not valid"):
        record(runtime, token[:-2] + "xx", "sato", None)
    clock.advance(timedelta(hours=73))
    with pytest.raises(LinkRejected, match="expired"):
        record(runtime, token, "sato", None)


def test_an_smtp_outage_delays_mail_and_loses_none(
    runtime: Runtime, sink: MailSink, clock: FakeClock
) -> None:
    complaint_id = _submit(runtime)
    sink.stop()
    assert _run(runtime, complaint_id) == 0
    with runtime.sessions() as session:
        rows = session.scalars(select(OutboxRow)).all()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.last_error for r in rows)
    clock.advance(timedelta(seconds=1))
    assert asyncio.run(drain(runtime)) == 0  # still down: another attempt, a longer wait
    sink.start()
    clock.advance(timedelta(seconds=1))
    assert asyncio.run(drain(runtime)) == 0  # backoff: not yet
    clock.advance(timedelta(seconds=2))
    assert asyncio.run(drain(runtime)) == len(rows) == 4
    ids = [m.message["Message-ID"] for m in sink.messages()]
    assert len(ids) == len(set(ids)) == 4
    assert asyncio.run(drain(runtime)) == 0


def test_a_complaint_keeps_the_policy_version_it_started_under(runtime: Runtime) -> None:
    first = _submit(runtime)
    before = runtime.registry.active
    assert before is not None
    runtime.registry.activate(runtime.registry.templates.parent / "demo_clinic.yaml")  # type: ignore[union-attr]
    second = _submit(runtime)
    with runtime.sessions() as session:
        versions = {c.id: c.policy_version for c in session.scalars(select(ComplaintRow))}
    assert versions[first] == before.policy.version
    assert versions[second] != before.policy.version


def test_a_broken_template_does_not_undo_the_violation(
    runtime: Runtime, sink: MailSink, clock: FakeClock, tmp_path: Path
) -> None:
    complaint_id = _submit(runtime)
    _run(runtime, complaint_id)
    copy = tmp_path / "templates"
    shutil.copytree(runtime.templates.folder, copy)
    (copy / "ja" / "missed_report.j2").write_text(
        "{% block subject %}{{ oops }}{% endblock %}", encoding="utf-8"
    )
    runtime.templates = TemplateStore(copy)
    clock.advance(timedelta(minutes=31))
    _run(runtime, complaint_id)
    with runtime.sessions() as session:
        assert [v.step for v in session.scalars(select(ViolationRow))] == ["report_to_supervisor"]
        failed = session.scalars(select(OutboxRow).where(OutboxRow.status == "failed")).all()
    assert [(row.kind, row.recipient) for row in failed] == [("escalation", "sato")]
    assert failed[0].last_error


def test_a_receipt_that_cannot_be_sent_is_logged_by_ids_and_kept_failed(
    runtime: Runtime, sink: MailSink, caplog: pytest.LogCaptureFixture
) -> None:
    # Stored as the API took it before intake checked addresses: the relay can never deliver it.
    address = "Yamada <hanako@example.org>"
    new = NewComplaint(channel=Channel.WEB, complainant=Complainant(email=address), body="寒い")
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    with caplog.at_level(logging.WARNING, logger="complaintflow.outbox"):
        _run(runtime, complaint_id)
    with runtime.sessions() as session:
        receipt = session.scalars(select(OutboxRow).where(OutboxRow.recipient == "complainant")).one()
    assert (receipt.status, error_class(receipt.last_error)) == ("failed", "BadAddress")
    logged = [r.getMessage() for r in caplog.records if r.name == "complaintflow.outbox"]
    assert len(logged) == 1
    assert complaint_id in logged[0]
    assert "BadAddress" in logged[0]
    assert "complainant" in logged[0]
    assert "given up" in logged[0]
    for secret in ("hanako", "example.org", "Yamada", "寒い", receipt.subject):
        assert secret not in logged[0]


def test_the_intake_window_comes_from_the_settings(tmp_path: Path, sink: MailSink) -> None:
    url = f"sqlite:///{tmp_path / 'window.db'}"
    settings = Settings(
        dev=True,  # keys generated in tmp_path
        data_dir=tmp_path,
        database_url=url,
        smtp_port=sink.port,
        intake_future_skew_minutes=2,
        intake_max_age_days=7,
    )
    runtime = build_runtime(settings, FakeClock(START))
    assert runtime.intake_window == IntakeWindow(future_skew=timedelta(minutes=2), max_age=timedelta(days=7))
