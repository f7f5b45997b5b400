"""Auditors confirm, dispute or waive violations with a reason; every ruling is logged, none deleted."""

import json

import pytest
from sqlalchemy import func, select

from flows.audit.rulings import MAX_REASON, Ruling, RulingRefused, rule
from flows.audit.verify import verify
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.tables import DecisionLogRow, ViolationRow
from tests.violation_support import account, unreported


def _first_key(runtime: Runtime, actor: str = "tanaka") -> str:
    with runtime.sessions() as session:
        key = session.scalars(
            select(ViolationRow.key).where(ViolationRow.actor == actor).order_by(ViolationRow.key)
        ).first()
    assert key is not None
    return key


def _rule(runtime: Runtime, key: str, ruling: Ruling, reason: str, by: str = "audrey") -> DecisionLogRow:
    with runtime.sessions.begin() as session:
        return rule(session, key, ruling, reason=reason, auditor=by, now=runtime.clock.now())


def _status(runtime: Runtime, key: str) -> str:
    with runtime.sessions() as session:
        row = session.get(ViolationRow, key)
        assert row is not None
        return row.status


def _log_size(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DecisionLogRow)) or 0)


def test_a_ruling_is_logged_with_its_reason_and_moves_the_status(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    account(runtime, "auditor", "audrey")
    key = _first_key(runtime)
    entry = _rule(runtime, key, Ruling.CONFIRM, "  No report in the log; the 2 reminders went unanswered. ")
    assert _status(runtime, key) == "confirmed"
    with runtime.sessions() as session:
        logged = session.get(DecisionLogRow, entry.seq)
        assert logged is not None
        assert (logged.kind, logged.subject, logged.actor, logged.at) == (
            "violation_confirmed",
            key,
            "audrey",
            clock.now(),
        )
        assert json.loads(logged.payload) == {
            "reason": "No report in the log; the 2 reminders went unanswered.",
            "previous": "recorded",
            "status": "confirmed",
        }


def test_disputed_then_waived_keeps_both_rulings_in_order(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    account(runtime, "auditor", "audrey")
    account(runtime, "auditor", "aki")
    key = _first_key(runtime)
    before = _log_size(runtime)
    _rule(runtime, key, Ruling.DISPUTE, "Tanaka says he phoned Sato; checking the phone log.")
    assert _status(runtime, key) == "disputed"
    _rule(runtime, key, Ruling.WAIVE, "Phone log shows the call at 10:12: reported in time.", by="aki")
    assert _status(runtime, key) == "waived"
    _rule(runtime, key, Ruling.CONFIRM, "The 10:12 call was about another patient.")
    assert _status(runtime, key) == "confirmed"
    with runtime.sessions() as session:
        rows = session.scalars(
            select(DecisionLogRow).where(DecisionLogRow.subject == key).order_by(DecisionLogRow.seq)
        ).all()
    assert [(r.kind, r.actor) for r in rows] == [
        ("violation_recorded", "engine"),
        ("violation_disputed", "audrey"),
        ("violation_waived", "aki"),
        ("violation_confirmed", "audrey"),
    ]
    assert [json.loads(r.payload)["previous"] for r in rows[1:]] == ["recorded", "disputed", "waived"]
    assert _log_size(runtime) == before + 3
    with runtime.sessions() as session:
        assert verify(session).broken is None


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "needs a written reason"),
        (" \n\t ", "needs a written reason"),
        ("x" * (MAX_REASON + 1), "at most"),
    ],
)
def test_a_ruling_without_a_usable_reason_is_refused(
    runtime: Runtime, clock: FakeClock, reason: str, message: str
) -> None:
    unreported(runtime, clock)
    account(runtime, "auditor", "audrey")
    key = _first_key(runtime)
    before = _log_size(runtime)
    with pytest.raises(RulingRefused, match=message):
        _rule(runtime, key, Ruling.WAIVE, reason)
    assert _status(runtime, key) == "recorded"
    assert _log_size(runtime) == before


def test_only_an_active_auditor_rules_and_only_on_a_real_violation(
    runtime: Runtime, clock: FakeClock
) -> None:
    unreported(runtime, clock)
    account(runtime, "staff", "sam")
    account(runtime, "admin", "ada")
    account(runtime, "auditor", "audrey")
    key = _first_key(runtime)
    with pytest.raises(RulingRefused, match="'sam' has the staff role"):
        _rule(runtime, key, Ruling.WAIVE, "I was busy", by="sam")
    with pytest.raises(RulingRefused, match="'ada' has the admin role"):
        _rule(runtime, key, Ruling.WAIVE, "admin override", by="ada")
    with pytest.raises(RulingRefused, match="no active account named 'nobody'"):
        _rule(runtime, key, Ruling.WAIVE, "why not", by="nobody")
    with pytest.raises(RulingRefused, match="no violation with key '2026-999999/x/1/y'"):
        _rule(runtime, "2026-999999/x/1/y", Ruling.CONFIRM, "reason")
    _rule(runtime, key, Ruling.CONFIRM, "first")
    with pytest.raises(RulingRefused, match=f"violation {key} is already confirmed"):
        _rule(runtime, key, Ruling.CONFIRM, "again")
    assert _status(runtime, key) == "confirmed"
