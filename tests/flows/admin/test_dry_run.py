"""Dry run: a week of complaints recorded through the runtime, replayed under a stricter policy.

The acceptance test: what the dry run lists as added violations is exactly what ``simulate`` finds
under the stricter policy minus what it finds under the current one, complaint by complaint.
"""

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.web.actions.record import record
from flows.admin.dry_run import dry_run
from flows.admin.lifecycle import Candidate, Checked, check_candidate
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.complaint import Channel
from models.tables import ComplaintRow, EventRow, ObligationRow, OutboxRow, ViolationRow
from notifiers.outbound.sink import MailSink
from policies.engine.compare import ViolationFact
from policies.engine.simulate import Simulation, simulate
from tests.runtime_support import CLINIC, START, action_paths

# The first report is due after 10 minutes instead of 30, with a reminder after 5 instead of every 10.
STRICTER = (
    CLINIC.read_text(encoding="utf-8")
    .replace("within: 30分", "within: 10分", 1)
    .replace("remind: {every: 10分}", "remind: {every: 5分}", 1)
)
WEEK = 7


def _stricter(runtime: Runtime) -> Checked:
    assert runtime.policies_dir is not None
    candidate = Candidate(name="keieikai_stricter.yaml", text=STRICTER)
    return check_candidate(candidate, runtime.policies_dir, runtime.templates.folder)


def _send_mail(runtime: Runtime) -> None:
    asyncio.run(drain(runtime))


def _report_after(
    runtime: Runtime, sink: MailSink, clock: FakeClock, complaint_id: str, minutes: int
) -> None:
    """Tanaka follows the action link in his email ``minutes`` after the complaint and reports to Sato."""
    start = clock.now()
    clock.set(start + timedelta(minutes=minutes))
    link = next(p for p in action_paths(sink, "tanaka@keieikai.example", "report_to_supervisor"))
    record(runtime, link.rsplit("/", 1)[1], "sato", None)
    process_complaint(runtime, complaint_id)
    clock.set(start)


def _record_a_week(runtime: Runtime, sink: MailSink, clock: FakeClock) -> list[str]:
    """One phone complaint a day: reported after 20 minutes (late only under the stricter policy),
    after 5 minutes (in time under both), or never; the runtime runs through each day."""
    complaints = []
    for day in range(WEEK):
        clock.set(START + timedelta(days=day))
        sink.clear()
        new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka", subject=f"day {day}")
        complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
        process_complaint(runtime, complaint_id)
        _send_mail(runtime)  # the requests, with Tanaka's action link
        if day % 3 != 2:  # every third day nobody reports
            _report_after(runtime, sink, clock, complaint_id, 20 if day % 3 == 0 else 5)
        for minutes in (11, 31, 61, 121, 240):
            clock.set(START + timedelta(days=day, minutes=minutes))
            process_complaint(runtime, complaint_id)
        _send_mail(runtime)  # the day's reminders and escalations, before the next day's mail
        complaints.append(complaint_id)
    clock.set(START + timedelta(days=WEEK))
    return complaints


def _facts(simulation: Simulation) -> set[ViolationFact]:
    return {
        ViolationFact(d.violation.due_at, d.violation.step, d.violation.occurrence, d.violation.actor,
                      d.violation.penalty)
        for d in simulation.violations
    }  # fmt: skip


def _simulated_added(
    runtime: Runtime, checked: Checked, complaint_id: str, until: datetime
) -> set[ViolationFact]:
    with runtime.sessions() as session:
        events, _ = load_events(session, complaint_id)
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        current = runtime.registry.pinned(session, row.policy_version, row.org_hash)
    under_current = simulate(current.policy, current.org, events, until)
    under_stricter = simulate(checked.ready.policy, current.org, events, until)
    return _facts(under_stricter) - _facts(under_current)


def test_a_stricter_deadline_adds_exactly_the_violations_simulate_adds(
    runtime: Runtime, sink: MailSink, clock: FakeClock
) -> None:
    complaints = _record_a_week(runtime, sink, clock)
    checked = _stricter(runtime)

    result = dry_run(
        runtime.sessions, runtime.registry, checked.ready.policy, None, now=clock.now(), days=WEEK
    )

    assert result.replayed == WEEK
    added = {d.complaint: set(d.violations_added) for d in result.differences}
    for complaint_id in complaints:
        assert added.get(complaint_id, set()) == _simulated_added(runtime, checked, complaint_id, clock.now())
    # Reported after 20 minutes (days 0, 3, 6): newly late. Never reported (days 2, 5): due earlier.
    # Reported after 5 minutes (days 1, 4): in time under both, so no difference at all.
    assert sorted(added) == [complaints[d] for d in (0, 2, 3, 5, 6)]
    for day in (0, 3, 6):
        (violation,) = added[complaints[day]]
        assert (violation.step, violation.actor, violation.penalty) == (
            "report_to_supervisor", "tanaka", "bonus_half_cut",
        )  # fmt: skip
        assert violation.due_at == START + timedelta(days=day, minutes=10)
    removed = {d.complaint: d.violations_removed for d in result.differences if d.violations_removed}
    assert sorted(removed) == [complaints[2], complaints[5]]
    assert removed[complaints[2]][0].due_at == START + timedelta(days=2, minutes=30)
    assert result.totals.violations_added == 5
    assert result.totals.violations_removed == 2


def test_notifications_that_would_change_are_listed(
    runtime: Runtime, sink: MailSink, clock: FakeClock
) -> None:
    complaints = _record_a_week(runtime, sink, clock)
    result = dry_run(
        runtime.sessions, runtime.registry, _stricter(runtime).ready.policy, None, now=clock.now(), days=WEEK
    )
    by_complaint = {d.complaint: d for d in result.differences}
    never_reported = by_complaint[complaints[2]]
    # Tanaka's reminders come after 5 minutes instead of 10 and 20, and Sato's escalation for the
    # missed report 20 minutes earlier.
    removed = {(n.kind, n.recipient, n.at) for n in never_reported.notifications_removed}
    added = {(n.kind, n.recipient, n.at) for n in never_reported.notifications_added}
    day2 = START + timedelta(days=2)
    assert ("reminder", "tanaka", day2 + timedelta(minutes=10)) in removed
    assert ("reminder", "tanaka", day2 + timedelta(minutes=20)) in removed
    assert ("reminder", "tanaka", day2 + timedelta(minutes=5)) in added
    assert ("escalation", "sato", day2 + timedelta(minutes=30)) in removed
    assert ("escalation", "sato", day2 + timedelta(minutes=10)) in added
    assert not by_complaint.get(complaints[1])


def test_only_the_window_is_replayed_nothing_is_written_and_the_active_policy_changes_nothing(
    runtime: Runtime, sink: MailSink, clock: FakeClock
) -> None:
    complaints = _record_a_week(runtime, sink, clock)
    counts = _counts(runtime)

    last_three = dry_run(
        runtime.sessions, runtime.registry, _stricter(runtime).ready.policy, None, now=clock.now(), days=3
    )
    active = runtime.registry.active
    assert active is not None
    itself = dry_run(runtime.sessions, runtime.registry, active.policy, None, now=clock.now(), days=WEEK)

    assert last_three.replayed == 3
    assert {d.complaint for d in last_three.differences} == {complaints[5], complaints[6]}
    assert (itself.replayed, itself.differences) == (WEEK, ())
    assert _counts(runtime) == counts


def _counts(runtime: Runtime) -> tuple[int | None, ...]:
    with runtime.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (EventRow, ViolationRow, ObligationRow, OutboxRow)
        )


def test_days_out_of_range_are_refused(runtime: Runtime, clock: FakeClock) -> None:
    active = runtime.registry.active
    assert active is not None
    for days in (0, 367):
        with pytest.raises(ValueError, match="days must be between 1 and 366"):
            dry_run(runtime.sessions, runtime.registry, active.policy, None, now=clock.now(), days=days)
