"""Tamper evidence: editing, deleting or reordering event rows directly in SQL is found, by row."""

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from app.cli.main import app
from flows.audit.rulings import Ruling, rule
from flows.audit.verify import Report, verify, verify_events
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records import keys as audit_keys
from flows.records.events import append_event
from flows.runtime.assembly import Runtime
from models.complaint import Attachment, Channel
from models.events import StepDone
from models.tables import DecisionLogRow, EventRow, ViolationRow
from tests.runtime_support import AUDIT_ENV
from tests.violation_support import account, unreported


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


def _cli_env(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, database_url: str) -> None:
    """The CLI in dev mode on the runtime's database, with the runtime's audit keys and checkpoint file."""
    monkeypatch.setenv("COMPLAINTFLOW_DEV", "1")
    monkeypatch.setenv("COMPLAINTFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("COMPLAINTFLOW_DATA_DIR", str(audit_keys.installed().checkpoints.parent))
    for name, value in AUDIT_ENV.items():
        monkeypatch.setenv(name, value)


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
    _cli_env(monkeypatch, runtime, database_url)
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "6 event rows" in clean.output
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE events SET type = 'resolved' WHERE seq = 5"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "seq=5" in broken.output


# --- the decision log and the violations table ------------------------------------------------------


def _decided(runtime: Runtime, clock: FakeClock) -> list[int]:
    """Two unreported complaints (eight violations), one disputed then confirmed; the seqs of the
    decision log's violation entries."""
    unreported(runtime, clock, heard_by="tanaka")
    unreported(runtime, clock, heard_by="suzuki")
    account(runtime, "auditor", "audrey")
    with runtime.sessions.begin() as session:
        key = session.scalars(select(ViolationRow.key).order_by(ViolationRow.key)).first()
        assert key is not None
        rule(session, key, Ruling.DISPUTE, reason="asking", auditor="audrey", now=clock.now())
        rule(session, key, Ruling.CONFIRM, reason="no call on record", auditor="audrey", now=clock.now())
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(DecisionLogRow.seq)
                .where(DecisionLogRow.kind.like("violation%"))
                .order_by(DecisionLogRow.seq)
            )
        )


def _report(runtime: Runtime) -> Report:
    with runtime.sessions() as session:
        return verify(session)


def test_untouched_decisions_and_violations_verify_clean(runtime: Runtime, clock: FakeClock) -> None:
    seqs = _decided(runtime, clock)
    report = _report(runtime)
    assert report.broken is None
    assert report.violations == 8
    assert report.decisions >= len(seqs) == 10  # plus the policy activation entry
    assert report.events == 2


@pytest.mark.parametrize(
    ("tamper", "row", "reason"),
    [
        (
            "UPDATE decision_log SET payload = replace(payload, 'asking', 'asked') WHERE seq = {0}",
            8,
            "edited",
        ),
        ("UPDATE decision_log SET actor = 'someone' WHERE seq = {0}", 0, "edited"),
        ("DELETE FROM decision_log WHERE seq = {0}", 3, "deleted or reordered"),
    ],
)
def test_tampering_with_the_decision_log_is_reported_at_the_row(
    runtime: Runtime, clock: FakeClock, tamper: str, row: int, reason: str
) -> None:
    seqs = _decided(runtime, clock)
    with runtime.sessions.begin() as session:
        session.execute(text(tamper.format(seqs[row])))
    broken = _report(runtime).broken
    assert broken is not None
    assert broken.table == "decision_log"
    named = seqs[row] + 1 if "deleted" in reason else seqs[row]
    assert f"seq={named} " in str(broken)
    assert reason in str(broken)


def test_swapping_two_decisions_is_found(runtime: Runtime, clock: FakeClock) -> None:
    seqs = _decided(runtime, clock)
    columns = "kind, subject, actor, at, payload, prev_hash, hash"
    with runtime.sessions.begin() as session:
        first, second = (
            session.execute(text(f"SELECT {columns} FROM decision_log WHERE seq = :s"), {"s": s}).one()
            for s in (seqs[2], seqs[3])
        )
        for seq, values in ((seqs[2], second), (seqs[3], first)):
            session.execute(
                text(
                    "UPDATE decision_log SET kind = :k, subject = :u, actor = :a, at = :t, payload = :p,"
                    " prev_hash = :v, hash = :h WHERE seq = :s"
                ),
                dict(zip("kuatpvh", values, strict=True), s=seq),
            )
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith(f"decision_log row seq={seqs[2]} ")


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("UPDATE violations SET penalty = NULL WHERE key = :k", "edited directly: penalty is None"),
        (
            "UPDATE violations SET status = 'waived' WHERE key = :k",
            "status is 'waived' but it was never ruled on",
        ),
        ("UPDATE violations SET due_at = detected_at WHERE key = :k", "edited directly: due_at"),
        ("DELETE FROM violations WHERE key = :k", "deleted directly"),
    ],
)
def test_editing_or_deleting_a_violation_row_is_reported_by_key(
    runtime: Runtime, clock: FakeClock, tamper: str, reason: str
) -> None:
    _decided(runtime, clock)
    with runtime.sessions() as session:
        key = session.scalars(
            select(ViolationRow.key).where(ViolationRow.penalty.is_not(None)).order_by(ViolationRow.key)
        ).first()
    with runtime.sessions.begin() as session:
        session.execute(text(tamper), {"k": key})
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith(f"violations row key={key}: ")
    assert reason in str(broken)


def test_a_violation_inserted_directly_or_its_log_tail_cut_is_found(
    runtime: Runtime, clock: FakeClock
) -> None:
    unreported(runtime, clock, heard_by="tanaka")
    unreported(runtime, clock, heard_by="suzuki")
    with runtime.sessions() as session:
        last = session.scalars(select(DecisionLogRow).order_by(DecisionLogRow.seq.desc())).first()
        assert last is not None
        recorded = session.scalars(
            select(DecisionLogRow)
            .where(DecisionLogRow.kind == "violation_recorded")
            .order_by(DecisionLogRow.seq.desc())
        ).first()
        assert recorded is not None
    with runtime.sessions.begin() as session:
        # The newest entries are cut off: the chain before them still holds, the table does not.
        session.execute(text("DELETE FROM decision_log WHERE seq >= :s"), {"s": recorded.seq})
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken) == (
        f"violations row key={recorded.subject}: not in the decision log: inserted directly"
        " (or its violation_recorded entry was deleted)"
    )


def test_cutting_the_newest_processed_events_is_found(runtime: Runtime, clock: FakeClock) -> None:
    _decided(runtime, clock)
    with runtime.sessions.begin() as session:
        session.execute(text("DELETE FROM events WHERE seq = 2"))
    broken = _report(runtime).broken
    assert broken is not None
    assert broken.table == "events"
    assert "was processed up to seq=2: the newest rows were deleted" in str(broken)


def test_audit_verify_names_a_broken_decision_or_violation(
    runtime: Runtime, clock: FakeClock, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seqs = _decided(runtime, clock)
    _cli_env(monkeypatch, runtime, database_url)
    runner = CliRunner()
    clean = runner.invoke(app, ["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "2 event rows" in clean.output
    assert "8 violations" in clean.output
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE violations SET actor = 'ito' WHERE actor = 'suzuki'"))
    edited = runner.invoke(app, ["audit", "verify"])
    assert edited.exit_code == 1
    assert "violations row key=2026-000002/" in edited.output
    assert "edited directly: actor is 'ito' but was recorded as 'suzuki'" in edited.output
    with runtime.sessions.begin() as session:
        session.execute(
            text("UPDATE decision_log SET at = :t WHERE seq = :s"),
            {"t": clock.now() + timedelta(minutes=1), "s": seqs[5]},
        )
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN: decision_log row seq={seqs[5]} " in broken.output


def test_an_activation_without_its_decision_log_entry_is_found(runtime: Runtime, clock: FakeClock) -> None:
    assert _report(runtime).broken is None
    with runtime.sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO policy_activations"
                " (version, org_hash, source, org_source, activated_by, activated_at)"
                " SELECT version, org_hash, source, org_source, 'mallory', activated_at"
                " FROM policy_activations"
            )
        )
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("policy_activations row seq=2: activation of sha256:")
    assert str(broken).endswith("edited or inserted directly: the decision log has no entry")


# --- keyed chains and the records that are not chained ------------------------------------------------


def _published_hash(row: EventRow, prev: str) -> str:
    """The event hash as documented before keyed chains: anyone with the database could compute it."""
    content = {
        "seq": row.seq,
        "complaint": row.complaint_id,
        "type": row.type,
        "at": row.at.isoformat(),
        "payload": json.loads(row.payload),
        "prev": prev,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_an_edit_rehashed_with_the_published_formula_is_found(runtime: Runtime, clock: FakeClock) -> None:
    _history(runtime, clock)
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE events SET payload = replace(payload, 'sato', 'ito') WHERE seq = 4"))
    with runtime.sessions.begin() as session:
        rows = session.scalars(select(EventRow).order_by(EventRow.seq)).all()
        previous = rows[2].hash
        for row in rows[3:]:
            row.prev_hash, row.hash = previous, _published_hash(row, previous)
            previous = row.hash
    checked, broken = _verify(runtime)
    assert checked == 3
    assert broken is not None
    assert broken.startswith("events row seq=4 (complaint 2026-000002): its hash is the unkeyed sha256")


def _without_foreign_keys(runtime: Runtime, statement: str) -> None:
    """Run ``statement`` the way a database administrator can: with foreign keys not enforced."""
    engine = runtime.sessions.kw["bind"]
    sqlite = engine.dialect.name == "sqlite"
    off, on = (
        ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON")  # outside a transaction, per connection
        if sqlite
        else ("SET session_replication_role = replica", "SET session_replication_role = DEFAULT")
    )
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(off)
        cursor.execute(statement)
        connection.commit()
        cursor.execute(on)
    finally:
        connection.close()


def test_a_deleted_complaint_row_is_found(runtime: Runtime, clock: FakeClock) -> None:
    _history(runtime, clock)
    _without_foreign_keys(runtime, "DELETE FROM complaints WHERE id = '2026-000002'")
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("complaints row id=2026-000002: the event log has events of complaint")
    assert "deleted directly" in str(broken)


def test_a_complaint_row_inserted_directly_is_found(runtime: Runtime, clock: FakeClock) -> None:
    _history(runtime, clock)
    with runtime.sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO complaints"
                " (id, seq, policy_version, org_hash, channel, received_at, processed_seq, created_at)"
                " SELECT '2026-000009', 2026000009, policy_version, org_hash, channel, received_at, 0,"
                " created_at"
                " FROM complaints WHERE id = '2026-000001'"
            )
        )
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("complaints row id=2026-000009: no complaint_received event")


def test_an_edited_activated_by_is_found(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE policy_activations SET activated_by = 'mallory'"))
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("policy_activations row seq=1: edited directly: activated_by is 'mallory'")
    assert "says 'configuration' activated it" in str(broken)


def test_an_attachment_whose_bytes_changed_is_found(runtime: Runtime, clock: FakeClock) -> None:
    scan = Attachment(filename="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.7 receipt")
    complaint = accept_complaint(
        runtime.sessions, runtime.registry, clock, NewComplaint(channel=Channel.WEB), attachments=[scan]
    )
    assert _report(runtime).attachments == 1
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE attachments SET content = :c"), {"c": b"%PDF-1.7 forged!"})
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith(f"attachments row id=1 (complaint {complaint}): its bytes")
    assert "the file was changed" in str(broken)
