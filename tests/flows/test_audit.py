"""Tamper evidence: editing, deleting or reordering event rows directly in SQL is found, by row."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import app
from flows.audit import verify_events
from flows.clock import FakeClock
from flows.event_log import append_event
from flows.intake import NewComplaint, accept_complaint
from flows.runtime import Runtime
from models.complaint import Channel
from models.events import StepDone


def _history(runtime: Runtime, clock: FakeClock) -> None:
    for _ in range(3):
        complaint = accept_complaint(
            runtime.sessions, runtime.registry, clock, NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
        )
        clock.advance(timedelta(minutes=1))
        with runtime.sessions.begin() as session:
            done = StepDone(
                complaint=complaint, at=clock.now(), step="report_to_supervisor", by="tanaka", to="sato"
            )
            append_event(session, done, clock.now())


def _verify(runtime: Runtime) -> tuple[int, str | None]:
    with runtime.sessions() as session:
        checked, broken = verify_events(session)
    return checked, str(broken) if broken else None


def test_an_untouched_log_verifies_clean(runtime: Runtime, clock: FakeClock) -> None:
    _history(runtime, clock)
    assert _verify(runtime) == (6, None)


@pytest.mark.parametrize(
    ("tamper", "seq", "reason", "good_rows"),
    [
        ("UPDATE events SET payload = replace(payload, 'sato', 'ito') WHERE seq = 4", 4, "edited", 3),
        ("DELETE FROM events WHERE seq = 3", 4, "deleted or reordered", 2),
        ("UPDATE events SET at = (SELECT at FROM events WHERE seq = 1) WHERE seq = 2", 2, "edited", 1),
    ],
)
def test_tampering_is_reported_at_the_row(
    runtime: Runtime, clock: FakeClock, tamper: str, seq: int, reason: str, good_rows: int
) -> None:
    _history(runtime, clock)
    with runtime.sessions.begin() as session:
        session.execute(text(tamper))
    checked, broken = _verify(runtime)
    assert broken is not None
    assert f"seq={seq}" in broken
    assert reason in broken
    assert checked == good_rows


def test_swapping_two_rows_contents_is_found(runtime: Runtime, clock: FakeClock) -> None:
    _history(runtime, clock)
    with runtime.sessions.begin() as session:
        rows = session.execute(
            text("SELECT seq, payload, hash, prev_hash FROM events WHERE seq IN (2, 3)")
        ).all()
        for (seq, _, _, _), (_, payload, hash_, prev) in zip(rows, reversed(rows), strict=True):
            session.execute(
                text("UPDATE events SET payload = :p, hash = :h, prev_hash = :v WHERE seq = :s"),
                {"p": payload, "h": hash_, "v": prev, "s": seq},
            )
    _, broken = _verify(runtime)
    assert broken is not None
    assert "seq=2" in broken


def test_the_audit_command_exits_non_zero_naming_the_row(
    runtime: Runtime, clock: FakeClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(runtime, clock)
    monkeypatch.setenv("COMPLAINTFLOW_DEV", "1")
    monkeypatch.setenv("COMPLAINTFLOW_DATABASE_URL", database_url)
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "6 event rows" in clean.output
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE events SET type = 'resolved' WHERE seq = 5"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "seq=5" in broken.output
