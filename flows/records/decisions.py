"""The append-only, hash-chained decision log: violations as recorded, auditors' rulings, activations.

It is the second chain `audit verify` walks (the event log is the first). Each row carries the hash of
the row before it, so an edit, a deletion or a reordering done directly in the database breaks the
chain at that row; the hash is an HMAC-SHA256 under the audit key kept outside the database
(``flows.records.keys``), so the chain cannot be re-hashed after an edit without it. Rows are only
ever appended; the ``violations.status`` column is a projection of the latest ruling, which
`audit verify` checks against this log.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flows.records import keys as audit_keys
from models.tables import DecisionLogRow, ViolationRow

GENESIS = "0" * 64
_CHAIN_LOCK = 0x64656369  # PostgreSQL advisory lock id guarding this chain's head ("deci")
ENGINE = "engine"


class DecisionKind(StrEnum):
    VIOLATION_RECORDED = "violation_recorded"
    VIOLATION_CONFIRMED = "violation_confirmed"
    VIOLATION_DISPUTED = "violation_disputed"
    VIOLATION_WAIVED = "violation_waived"
    POLICY_ACTIVATED = "policy_activated"


def canonical(document: object) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def decision_content(row: DecisionLogRow) -> bytes:
    """The canonical bytes a row's hash covers: its content and its predecessor's hash."""
    content = {
        "seq": row.seq,
        "kind": row.kind,
        "subject": row.subject,
        "actor": row.actor,
        "at": row.at.isoformat(),
        "payload": json.loads(row.payload),
        "prev": row.prev_hash,
    }
    return canonical(content).encode()


def decision_hash(row: DecisionLogRow, key: bytes) -> str:
    """HMAC-SHA256 of the row's content under the audit key; what `audit verify` recomputes."""
    return hmac.new(key, decision_content(row), hashlib.sha256).hexdigest()


def append_decision(
    session: Session,
    kind: DecisionKind,
    subject: str,
    *,
    actor: str,
    at: datetime,
    payload: Mapping[str, object],
) -> DecisionLogRow:
    """Append one decision in the caller's transaction, linked to the current head of the chain."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK})
    last = session.scalars(select(DecisionLogRow).order_by(DecisionLogRow.seq.desc()).limit(1)).first()
    row = DecisionLogRow(
        kind=kind.value,
        subject=subject,
        actor=actor,
        at=at,
        payload=canonical(dict(payload)),
        prev_hash=last.hash if last is not None else GENESIS,
        hash="",
    )
    session.add(row)
    session.flush()  # assigns seq, which the hash covers
    row.hash = decision_hash(row, audit_keys.installed().chain)
    return row


def violation_facts(row: ViolationRow) -> dict[str, object]:
    """What was recorded about a violation: the payload of its ``violation_recorded`` entry, and what
    `audit verify` compares the violations table against."""
    return {
        "key": row.key,
        "complaint": row.complaint_id,
        "step": row.step,
        "occurrence": row.occurrence,
        "actor": row.actor,
        "due_at": row.due_at.isoformat(),
        "detected_at": row.detected_at.isoformat(),
        "penalty": row.penalty,
        "policy_version": row.policy_version,
    }


def record_violation(session: Session, row: ViolationRow) -> DecisionLogRow:
    """Log a newly recorded violation (same transaction as its row)."""
    return append_decision(
        session,
        DecisionKind.VIOLATION_RECORDED,
        row.key,
        actor=ENGINE,
        at=row.detected_at,
        payload=violation_facts(row),
    )
