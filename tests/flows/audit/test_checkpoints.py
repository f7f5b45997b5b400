"""Signed checkpoints: a log cut short, wiped or rewritten is found against the checkpoint file, and
a checkpoint file that was tampered with is found too; the scheduler writes one every interval."""

import asyncio
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli.main import app
from flows.audit import checkpoints as audit_checkpoints
from flows.audit.verify import Report, verify
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records import keys as audit_keys
from flows.runtime.assembly import Runtime
from flows.runtime.scheduler import Scheduler
from models.complaint import Attachment, Channel
from tests.runtime_support import AUDIT_ENV
from tests.violation_support import unreported

# Children before parents: the order a database administrator deletes in, foreign keys enforced.
TABLES = ("action_tokens", "attachments", "obligations", "outbox", "violations", "inbound_mail", "events",
          "complaints", "decision_log")  # fmt: skip


def _checkpoint(runtime: Runtime) -> Path:
    with runtime.sessions() as session:
        audit_checkpoints.write(session, audit_keys.installed(), runtime.clock.now())
    return audit_keys.installed().checkpoints


def _report(runtime: Runtime) -> Report:
    with runtime.sessions() as session:
        return verify(session)


def _tamper(runtime: Runtime, *statements: str) -> None:
    with runtime.sessions.begin() as session:
        for statement in statements:
            session.execute(text(statement))


def test_an_untouched_database_verifies_against_its_checkpoints(runtime: Runtime, clock: FakeClock) -> None:
    _checkpoint(runtime)
    unreported(runtime, clock)
    _checkpoint(runtime)
    report = _report(runtime)
    assert report.broken is None
    assert report.checkpoints == 2


def test_wiping_every_table_is_found_against_a_checkpoint(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    path = _checkpoint(runtime)
    _tamper(runtime, *(f"DELETE FROM {table}" for table in TABLES))
    broken = _report(runtime).broken
    assert broken is not None
    assert broken.table == "events"
    assert f"the checkpoint of {clock.now().isoformat()} ({path} line 1)" in str(broken)
    assert "the table has no such row: the log was truncated or wiped" in str(broken)


def test_truncating_the_newest_rows_is_found_against_a_checkpoint(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock, heard_by="tanaka")
    first = clock.now().isoformat()
    _checkpoint(runtime)
    clock.advance(timedelta(hours=1))
    accept_complaint(runtime.sessions, runtime.registry, clock, NewComplaint(channel=Channel.WEB))
    path = _checkpoint(runtime)
    # The newest complaint and its event go, and nothing is left that says it was ever processed.
    _tamper(
        runtime,
        "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)",
        "DELETE FROM complaints WHERE id = '2026-000002'",
        "UPDATE complaints SET processed_seq = (SELECT max(seq) FROM events)",
    )
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("events row seq=")
    assert f"({path} line 2)" in str(broken)
    assert first not in str(broken)  # the first checkpoint is still consistent with what is left


def test_a_rewritten_head_contradicts_the_checkpoint(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    path = _checkpoint(runtime)
    _tamper(
        runtime, "UPDATE decision_log SET hash = prev_hash WHERE seq = (SELECT max(seq) FROM decision_log)"
    )
    broken = _report(runtime).broken
    assert broken is not None
    assert broken.table == "decision_log"  # the chain walk finds the edited row first
    _tamper(runtime, "DELETE FROM decision_log WHERE seq = (SELECT max(seq) FROM decision_log)")
    broken = _report(runtime).broken
    assert broken is not None
    assert f"contradicts the checkpoint of {clock.now().isoformat()} ({path} line 1)" in str(broken)


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_forged_checkpoint_line_is_found(runtime: Runtime, clock: FakeClock) -> None:
    unreported(runtime, clock)
    _checkpoint(runtime)
    path = _checkpoint(runtime)
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[1])
    record["rows"]["violations"] = 0  # a smaller count would let deleted violations pass
    path.write_text("\n".join([lines[0], json.dumps(record)]) + "\n", encoding="utf-8")
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken) == (
        f"checkpoints row {path} line 2: its signature does not verify under the public key: edited or forged"
    )


def test_a_checkpoint_signed_with_another_key_or_a_line_removed_is_found(
    runtime: Runtime, clock: FakeClock
) -> None:
    unreported(runtime, clock)
    for _ in range(3):
        path = _checkpoint(runtime)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lines[0]}\n{lines[2]}\n", encoding="utf-8")
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).endswith("line 2: does not follow the line before it: a line was removed or inserted")
    path.unlink()
    keys = audit_keys.installed()
    mallory = audit_keys.AuditKeys(keys.chain, Ed25519PrivateKey.generate(), path, keys.interval)
    with runtime.sessions() as session:
        audit_checkpoints.write(session, mallory, clock.now())
    broken = _report(runtime).broken
    assert broken is not None
    assert "line 1: its signature does not verify" in str(broken)


def test_an_attachment_rewritten_with_its_hash_is_found_against_a_checkpoint(
    runtime: Runtime, clock: FakeClock
) -> None:
    scan = Attachment(filename="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.7 receipt")
    accept_complaint(
        runtime.sessions, runtime.registry, clock, NewComplaint(channel=Channel.WEB), attachments=[scan]
    )
    path = _checkpoint(runtime)
    forged = b"%PDF-1.7 forged"
    with runtime.sessions.begin() as session:
        session.execute(
            text("UPDATE attachments SET content = :c, size = :n, sha256 = :h"),
            {"c": forged, "n": len(forged), "h": hashlib.sha256(forged).hexdigest()},
        )
    broken = _report(runtime).broken
    assert broken is not None
    assert str(broken).startswith("attachments row id<=1: the rows up to id=1 do not match the checkpoint of")
    assert f"({path} line 1)" in str(broken)


def test_the_scheduler_writes_a_checkpoint_when_the_interval_elapses(
    runtime: Runtime, clock: FakeClock
) -> None:
    scheduler = Scheduler(runtime)
    path = audit_keys.installed().checkpoints
    asyncio.run(scheduler.tick())
    assert len(_lines(path)) == 1  # one when it starts
    clock.advance(timedelta(minutes=59))
    asyncio.run(scheduler.tick())
    assert len(_lines(path)) == 1
    clock.advance(timedelta(minutes=1))
    asyncio.run(scheduler.tick())
    lines = _lines(path)
    assert [line["at"] for line in lines] == [
        (clock.now() - timedelta(hours=1)).isoformat(),
        clock.now().isoformat(),
    ]
    assert _report(runtime).checkpoints == 2


def test_the_audit_commands_checkpoint_export_the_key_and_verify_an_auditors_copy(
    runtime: Runtime, clock: FakeClock, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreported(runtime, clock)
    monkeypatch.setenv("COMPLAINTFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("COMPLAINTFLOW_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("COMPLAINTFLOW_AUDIT_CHECKPOINT_PATH", str(tmp_path / "server" / "checkpoints.jsonl"))
    for name, value in AUDIT_ENV.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    written = runner.invoke(app, ["audit", "checkpoint"])
    assert written.exit_code == 0, written.output
    assert written.output.startswith(f"checkpoint written to {tmp_path / 'server' / 'checkpoints.jsonl'}:")
    public = runner.invoke(app, ["audit", "public-key"])
    assert public.output.startswith("-----BEGIN PUBLIC KEY-----")
    # The auditor keeps copies where the database's administrators cannot write.
    (tmp_path / "auditor.pem").write_text(public.output, encoding="ascii")
    copy = tmp_path / "auditor.jsonl"
    copy.write_bytes((tmp_path / "server" / "checkpoints.jsonl").read_bytes())
    own = ["audit", "verify", "--checkpoints", str(copy), "--public-key", str(tmp_path / "auditor.pem")]
    clean = runner.invoke(app, own)
    assert clean.exit_code == 0, clean.output
    assert "1 checkpoints" in clean.output
    _tamper(runtime, *(f"DELETE FROM {table}" for table in TABLES))
    (tmp_path / "server" / "checkpoints.jsonl").unlink()  # whoever wiped the tables removed this too
    wiped = runner.invoke(app, own)
    assert wiped.exit_code == 1
    assert f"({copy} line 1)" in wiped.output
    assert "truncated or wiped" in wiped.output
