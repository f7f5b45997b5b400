"""Filling a database with open complaints and obligations in bulk, for the benchmarks that measure
the system with work already waiting (bench.storage_scale, bench.runtime_latency).

Complaints are genuine: each has its hash-chained ``complaint_received`` event and is pinned to the
runtime's active policy, so the scheduler and the engine can process any of them. Their ids use the
year before ``now`` so intake's own numbering (this year, from 1) never collides with them.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from flows.records import keys as audit_keys
from flows.records.events import GENESIS, event_hash
from flows.runtime.assembly import Runtime
from models.events import ComplaintReceived
from models.tables import ComplaintRow, EventRow, ObligationRow

BATCH = 10_000
When = Callable[[int, int], datetime]  # (index, count) -> a due or wake-up time


def complaint_id(now: datetime, i: int) -> str:
    return f"{now.year - 1:04d}-{i + 1:06d}"


def open_complaints(session: Session, runtime: Runtime, count: int, now: datetime, when: When) -> None:
    """``count`` open complaints received a day before ``now``, each waking at ``when(i, count)``."""
    pinned = runtime.registry.active
    assert pinned is not None
    previous, key = GENESIS, audit_keys.installed().chain
    received = now - timedelta(days=1)
    for start in range(0, count, BATCH):
        complaints, events = [], []
        for i in range(start, min(count, start + BATCH)):
            cid = complaint_id(now, i)
            number = (now.year - 1) * 1_000_000 + i + 1
            complaints.append(
                {"id": cid, "seq": number, "policy_version": pinned.policy.version,
                 "org_hash": pinned.org_hash, "channel": "phone", "status": "open", "processed_seq": 0,
                 "wake_at": when(i, count), "received_at": received, "created_at": received}
            )  # fmt: skip
            event = ComplaintReceived(complaint=cid, at=received, channel="phone", heard_by="tanaka")
            row = EventRow(seq=i + 1, complaint_id=cid, type=event.type, at=received, recorded_at=received,
                           payload=event.model_dump_json(), prev_hash=previous, hash="")  # fmt: skip
            row.hash = previous = event_hash(row, key)
            events.append({c: getattr(row, c) for c in ("seq", "complaint_id", "type", "at", "payload",
                                                         "recorded_at", "prev_hash", "hash")})  # fmt: skip
        session.execute(insert(ComplaintRow), complaints)
        session.execute(insert(EventRow), events)
    if session.get_bind().dialect.name == "postgresql":
        # Explicit seqs leave the column's sequence behind: later appends must continue after them.
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('events', 'seq'), :last)"), {"last": count}
        )


def open_obligations(session: Session, complaints: int, count: int, now: datetime, when: When) -> None:
    """``count`` open obligations spread over the first ``complaints`` preloaded complaints."""
    for start in range(0, count, BATCH):
        rows = []
        for i in range(start, min(count, start + BATCH)):
            rows.append(
                {"key": f"o{i}", "complaint_id": complaint_id(now, i % complaints), "step": "report",
                 "occurrence": i // complaints, "actor": "tanaka", "started_at": now - timedelta(days=1),
                 "due_at": when(i, count), "status": "open", "done_at": None, "updated_at": now}
            )  # fmt: skip
        session.execute(insert(ObligationRow), rows)
