"""The enforcement invariant on the live database, on SQLite and PostgreSQL, with rows the runtime
wrote on a fake clock: no obligation past due without its violation, no complaint that owes work with
nothing to wake the engine."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from flows.audit.enforcement import EnforcementProblem, check_enforcement, grace_for
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.tables import ComplaintRow, ObligationRow, ViolationRow

GRACE = grace_for(0.5)


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


def _run_until(runtime: Runtime, clock: FakeClock, until: datetime) -> None:
    """What the scheduler does: process each complaint whenever its wake_at comes, up to ``until``."""
    while True:
        with runtime.sessions() as session:
            wakes = [w for w in session.scalars(select(ComplaintRow.wake_at)) if w is not None]
        if not wakes or min(wakes) > until:
            clock.set(until)
            return
        clock.set(max(min(wakes), clock.now()))
        with runtime.sessions() as session:
            due = list(session.scalars(select(ComplaintRow.id).where(ComplaintRow.wake_at <= clock.now())))
        for complaint_id in due:
            process_complaint(runtime, complaint_id)


def _check(runtime: Runtime, now: datetime) -> list[EnforcementProblem]:
    with runtime.sessions() as session:
        return check_enforcement(session, now, grace=GRACE)


def test_a_complaint_heard_after_its_receipt_is_woken_and_enforced(
    runtime: Runtime, clock: FakeClock
) -> None:
    """heard_at 3 minutes after the receipt: the runtime must leave a wake_at for the heard time, then
    record the missed report (due 30 minutes after it) like any other."""
    start = clock.now()
    complaint_id = _submit(runtime, heard_at=start + timedelta(minutes=3))
    process_complaint(runtime, complaint_id)
    assert _check(runtime, clock.now()) == []
    with runtime.sessions() as session:
        row = session.get(ComplaintRow, complaint_id)
        wake_at = row.wake_at if row is not None else None
    assert wake_at == start + timedelta(minutes=3)
    _run_until(runtime, clock, start + timedelta(hours=3))
    assert _check(runtime, clock.now()) == []
    with runtime.sessions() as session:
        missed = sorted(
            session.scalars(select(ViolationRow.step).where(ViolationRow.complaint_id == complaint_id))
        )
    assert missed == [
        "apology_call",
        "first_hearer_notifies_top",
        "report_to_supervisor",
        "supervisor_consults_top",
    ]


def test_a_complaint_owing_work_with_no_wake_up_is_named(runtime: Runtime, clock: FakeClock) -> None:
    """The state the old engine left for a heard time ahead of the receipt: nothing to wake it."""
    complaint_id = _submit(runtime, heard_at=clock.now() + timedelta(minutes=3))
    process_complaint(runtime, complaint_id)
    with runtime.sessions.begin() as session:
        session.execute(update(ComplaintRow).where(ComplaintRow.id == complaint_id).values(wake_at=None))
    (problem,) = _check(runtime, clock.now())
    assert (problem.table, problem.key) == ("complaints", complaint_id)
    assert "anchor lies ahead" in problem.reason
    assert str(problem).startswith(f"complaints row id={complaint_id}: wake_at is NULL, step ")


def test_an_open_obligation_with_no_wake_up_is_named(runtime: Runtime, clock: FakeClock) -> None:
    complaint_id = _submit(runtime)
    process_complaint(runtime, complaint_id)
    with runtime.sessions.begin() as session:
        session.execute(update(ComplaintRow).where(ComplaintRow.id == complaint_id).values(wake_at=None))
    problems = _check(runtime, clock.now())
    assert [(p.table, p.key) for p in problems] == [("complaints", complaint_id)]
    assert "is open" in problems[0].reason


def test_an_obligation_past_due_without_its_violation_is_named(runtime: Runtime, clock: FakeClock) -> None:
    complaint_id = _submit(runtime)
    _run_until(runtime, clock, clock.now() + timedelta(minutes=32))
    assert _check(runtime, clock.now()) == []
    with runtime.sessions.begin() as session:
        session.execute(delete(ViolationRow).where(ViolationRow.step == "report_to_supervisor"))
    key = f"{complaint_id}/report_to_supervisor/1/tanaka"
    problems = _check(runtime, clock.now())
    assert [(p.table, p.key) for p in problems] == [("obligations", key)]
    assert problems[0].reason.startswith("overdue, due ")
    assert problems[0].reason.endswith("and no violation recorded")


def test_a_deadline_the_runtime_has_not_reached_yet_is_within_the_grace(
    runtime: Runtime, clock: FakeClock
) -> None:
    """Due 10:30 and not processed since: within the scheduler's grace that is no problem, after it it is."""
    complaint_id = _submit(runtime)
    process_complaint(runtime, complaint_id)
    due = clock.now() + timedelta(minutes=30)
    assert _check(runtime, due + GRACE - timedelta(seconds=1)) == []
    problems = _check(runtime, due + GRACE)
    assert [(p.table, p.key) for p in problems] == [
        ("obligations", f"{complaint_id}/report_to_supervisor/1/tanaka")
    ]
    assert problems[0].reason.startswith("open, due ")


def test_a_late_new_owner_without_a_violation_of_their_own_is_no_problem(
    runtime: Runtime, clock: FakeClock
) -> None:
    """R16: the violation is the occurrence's, recorded against whoever owned it at the due time."""
    complaint_id = _submit(runtime)
    _run_until(runtime, clock, clock.now() + timedelta(hours=3))
    with runtime.sessions.begin() as session:
        rows = session.scalars(select(ObligationRow).where(ObligationRow.complaint_id == complaint_id)).all()
        apology = next(r for r in rows if r.step == "apology_call")
        session.add(
            ObligationRow(
                key=apology.key + "/1",
                complaint_id=complaint_id,
                step=apology.step,
                occurrence=apology.occurrence,
                actor="suzuki",
                started_at=apology.due_at,
                due_at=apology.due_at,
                status="late",
                done_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    assert _check(runtime, clock.now()) == []
