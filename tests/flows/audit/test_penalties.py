"""Penalties: the period each runs (from the due date in the policy's zone), and who carries one now."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.audit.penalties import PenaltyState, add_period, current_penalties, penalty_term
from flows.audit.rulings import Ruling, rule
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.tables import ViolationRow
from policies.timing.durations import parse_period
from tests.factories import make_policy, step
from tests.violation_support import account, unreported


@pytest.mark.parametrize(
    ("start", "period", "end"),
    [
        (date(2026, 4, 1), "1年", date(2027, 4, 1)),
        (date(2026, 1, 31), "1 month", date(2026, 2, 28)),
        (date(2028, 1, 31), "1 month", date(2028, 2, 29)),
        (date(2028, 2, 29), "1 year", date(2029, 2, 28)),
        (date(2026, 11, 15), "6 months", date(2027, 5, 15)),
        (date(2026, 12, 25), "2 weeks", date(2027, 1, 8)),
    ],
)
def test_periods_count_calendar_months_and_years(start: date, period: str, end: date) -> None:
    assert add_period(start, parse_period(period)) == end


def test_the_period_starts_on_the_due_date_where_the_clinic_is(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [step("report", on_missed={"penalty": "warning"})],
        penalties={
            "warning": {"name": "Written warning", "duration": "6 months", "applies_to": ["first_hearer"]}
        },
    )
    # 15:30 UTC on 31 March is 00:30 on 1 April in Tokyo: the penalty runs from 1 April.
    due = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    term = penalty_term(ready.policy, "warning", due, "recorded")
    assert term is not None
    assert (term.name, term.starts, term.last_day, term.state) == (
        "Written warning",
        date(2026, 4, 1),
        date(2026, 9, 30),
        PenaltyState.RUNS,
    )
    assert term.on_record(date(2026, 9, 30))
    assert not term.on_record(date(2026, 10, 1))
    assert not term.on_record(date(2026, 3, 31))


def test_the_status_decides_whether_the_penalty_runs(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [step("report", on_missed={"penalty": "warning"})],
        penalties={"warning": {"name": "Written warning", "applies_to": ["first_hearer"]}},
    )
    due = datetime(2026, 4, 1, 1, tzinfo=UTC)
    states = {s: penalty_term(ready.policy, "warning", due, s) for s in ("confirmed", "disputed", "waived")}
    assert {s: t.state if t else None for s, t in states.items()} == {
        "confirmed": PenaltyState.RUNS,
        "disputed": PenaltyState.SUSPENDED,
        "waived": PenaltyState.WAIVED,
    }
    waived = states["waived"]
    assert waived is not None
    assert waived.last_day is None  # no duration: it stays on the record with no end
    assert not waived.on_record(date(2030, 1, 1))
    confirmed = states["confirmed"]
    assert confirmed is not None
    assert confirmed.on_record(date(2030, 1, 1))
    assert penalty_term(ready.policy, None, due, "recorded") is None  # a step without a penalty


def test_current_penalties_per_person_leave_out_waived_and_expired(
    runtime: Runtime, clock: FakeClock
) -> None:
    unreported(runtime, clock, heard_by="tanaka")
    unreported(runtime, clock, heard_by="suzuki")
    account(runtime, "auditor", "audrey")
    with runtime.sessions.begin() as session:
        suzuki = session.scalars(
            select(ViolationRow.key).where(ViolationRow.actor == "suzuki").order_by(ViolationRow.key)
        ).all()
        rule(session, suzuki[0], Ruling.WAIVE, reason="reported by phone", auditor="audrey", now=clock.now())
        rule(session, suzuki[1], Ruling.DISPUTE, reason="checking", auditor="audrey", now=clock.now())
    with runtime.sessions() as session:
        now = current_penalties(session, runtime.registry, clock.now())
    summary = {p.actor: [(c.step, c.term.state.value) for c in p.penalties] for p in now}
    # The apology call carries no penalty; kobayashi and sato each missed consulting the top.
    assert summary == {
        "kobayashi": [("supervisor_consults_top", "runs")],
        "sato": [("supervisor_consults_top", "runs")],
        "suzuki": [("report_to_supervisor", "suspended")],
        "tanaka": [("first_hearer_notifies_top", "runs"), ("report_to_supervisor", "runs")],
    }
    tanaka = next(p for p in now if p.actor == "tanaka")
    assert tanaka.actor_name == "田中 一郎"
    assert {c.term.name for c in tanaka.penalties} == {"一年間賞与を半額カット"}
    assert {(c.term.starts, c.term.last_day) for c in tanaka.penalties} == {
        (date(2026, 4, 1), date(2027, 3, 31))
    }
    with runtime.sessions() as session:
        in_a_year = current_penalties(session, runtime.registry, clock.now() + timedelta(days=366))
    assert in_a_year == []
