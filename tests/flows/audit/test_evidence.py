"""A violation's evidence: the complaint's timeline, its emails with their send times, the obligation,
what fulfilled it (late) or that nothing did, the penalty and period, and the rulings."""

from datetime import date, timedelta

from sqlalchemy import select

from flows.audit.evidence import evidence, timeline
from flows.audit.penalties import PenaltyState
from flows.audit.rulings import Ruling, rule
from flows.clock import FakeClock
from flows.records.events import append_event
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.events import StepDone
from models.tables import ViolationRow
from tests.violation_support import account, unreported

SECRET_BODY = "山田様のカルテ番号 12345 について"


def _key(runtime: Runtime, actor: str, step: str) -> str:
    with runtime.sessions() as session:
        return session.scalars(
            select(ViolationRow.key).where(ViolationRow.actor == actor, ViolationRow.step == step)
        ).one()


def test_a_late_report_is_shown_with_who_did_it_and_how_late(runtime: Runtime, clock: FakeClock) -> None:
    complaint = unreported(runtime, clock, subject="受付の対応", body=SECRET_BODY)
    reported_at = clock.advance(timedelta(minutes=10))  # 13:10, 2 h 40 min after the 10:30 deadline
    with runtime.sessions.begin() as session:
        done = StepDone(
            complaint=complaint,
            at=reported_at,
            step="report_to_supervisor",
            by="tanaka",
            to="sato",
            recorded_by="desk-admin",
        )
        append_event(session, done, reported_at)
    process_complaint(runtime, complaint)
    key = _key(runtime, "tanaka", "report_to_supervisor")
    with runtime.sessions() as session:
        found = evidence(session, runtime.registry, key)
    assert found is not None
    assert (found.complaint.id, found.complaint.channel) == (complaint, "phone")
    assert [(e.type, e.by, e.to) for e in found.events] == [
        ("complaint_received", "tanaka", None),
        ("step_done", "tanaka", "sato"),
    ]
    assert found.events[0].detail == "phone"
    assert SECRET_BODY not in repr(found.events)  # the complaint's text is not evidence
    done_event = found.fulfilment.done
    assert done_event is not None
    assert (done_event.by, done_event.to, done_event.at) == ("tanaka", "sato", reported_at)
    assert done_event.recorded_by == "desk-admin"  # entered through the API by an account, not tanaka
    assert found.fulfilment.late_by == timedelta(hours=2, minutes=40)
    assert [(s.actor, s.status, s.done_at) for s in found.segments] == [("tanaka", "late", reported_at)]
    assert found.segments[0].due_at == found.violation.due_at
    # Emails for this occurrence: the request, the latest reminder, the escalation to the supervisor.
    mine = [(m.kind, m.recipient, m.status) for m in found.emails if m.concerns_violation]
    assert ("request", "tanaka", "sent") in mine
    assert ("reminder", "tanaka", "sent") in mine
    assert ("escalation", "sato", "sent") in mine
    assert all(m.sent_at is not None for m in found.emails if m.status == "sent")
    assert any(not m.concerns_violation for m in found.emails)  # the complaint's other steps' mail too
    assert found.term is not None
    assert (found.term.name, found.term.starts, found.term.last_day, found.term.state) == (
        "一年間賞与を半額カット",
        date(2026, 4, 1),
        date(2027, 3, 31),
        PenaltyState.RUNS,
    )
    assert found.rulings == ()


def test_nothing_done_rulings_and_the_merged_timeline(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    account(runtime, "auditor", "audrey")
    key = _key(runtime, "sato", "supervisor_consults_top")
    clock.advance(timedelta(days=2))
    with runtime.sessions.begin() as session:
        rule(
            session,
            key,
            Ruling.DISPUTE,
            reason="<b>Sato</b> was in surgery",
            auditor="audrey",
            now=clock.now(),
        )
    with runtime.sessions() as session:
        found = evidence(session, runtime.registry, key)
        assert evidence(session, runtime.registry, "no/such/key/x") is None
    assert found is not None
    assert found.fulfilment.done is None
    assert found.fulfilment.late_by is None
    assert [(s.actor, s.status) for s in found.segments] == [("sato", "overdue")]
    assert [(r.auditor, r.previous, r.status, r.reason) for r in found.rulings] == [
        ("audrey", "recorded", "disputed", "<b>Sato</b> was in surgery")
    ]
    assert found.term is not None
    assert found.term.state is PenaltyState.SUSPENDED
    moments = timeline(found)
    assert [m.at for m in moments] == sorted(m.at for m in moments)
    kinds = [m.what for m in moments]
    assert kinds[0] == "event"
    assert kinds.index("due") < kinds.index("detected") < kinds.index("ruling") == len(kinds) - 1
    assert {"email"} <= set(kinds)
