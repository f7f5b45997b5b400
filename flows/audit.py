"""Tamper evidence: re-walk both hash chains and the violations table, report the first broken link.

Each event and each decision log row carries the hash of its predecessor (in ``seq`` order) and a
hash over its own content and that link (``event_log.event_hash``, ``decision_log.decision_hash``).
Editing a row changes its hash; deleting or reordering rows breaks the ``prev_hash`` link of the row
after. Deleting the newest events is seen where a complaint was already processed past them
(``complaints.processed_seq``). The violations table, which is not chained, is checked against the
decision log: each row must equal what its one ``violation_recorded`` entry says, its status must be
the latest ruling's, and every recorded entry must still have its row; so must each policy activation.
Cutting off the newest decision log entries is found through those projections. Everything is read in batches
(keyset pages), so memory stays flat however long the logs are.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows import event_log
from flows.audit_violations import recorded_rows_exist, verify_violations
from flows.decision_log import DecisionKind, decision_hash
from models.tables import ComplaintRow, DecisionLogRow, EventRow, PolicyActivationRow

BATCH = 1000


@dataclass(frozen=True)
class Break:
    """The first row at which the records do not hold, and why."""

    table: str
    row: str  # "seq=12 (complaint 2026-000003)" or "key=2026-000003/report/1/tanaka"
    reason: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}: {self.reason}"


@dataclass(frozen=True)
class Report:
    events: int  # rows checked and found good, per table
    decisions: int
    violations: int
    broken: Break | None


def _chain(session: Session, table: Any) -> Iterator[Any]:
    last = 0
    while True:
        batch = session.scalars(select(table).where(table.seq > last).order_by(table.seq).limit(BATCH)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def _walk(rows: Iterator[Any], hash_of: Callable[[Any], str]) -> Iterator[tuple[Any, str | None]]:
    """Each row with the reason its link is broken (or None); stops after the first broken one."""
    previous = event_log.GENESIS
    for row in rows:
        if row.prev_hash != previous:
            yield row, "does not follow the row before it (deleted or reordered)"
            return
        if hash_of(row) != row.hash:
            yield row, "its content does not match its hash (edited)"
            return
        yield row, None
        previous = row.hash


def verify_events(session: Session) -> tuple[int, Break | None]:
    """(event rows checked, the first break or None)."""
    checked, last = 0, 0
    for row, broken in _walk(_chain(session, EventRow), event_log.event_hash):
        if broken is not None:
            return checked, Break("events", _event_name(row), broken)
        checked, last = checked + 1, row.seq
    processed = session.scalar(select(func.max(ComplaintRow.processed_seq))) or 0
    if processed > last:
        complaint = session.scalars(
            select(ComplaintRow.id).where(ComplaintRow.processed_seq == processed)
        ).first()
        reason = f"complaint {complaint} was processed up to seq={processed}: the newest rows were deleted"
        return checked, Break("events", f"seq={last} (the last one)", reason)
    return checked, None


def _event_name(row: EventRow) -> str:
    return f"seq={row.seq} (complaint {row.complaint_id})"


def verify_decisions(session: Session) -> tuple[int, Break | None]:
    """(decision log rows checked, the first break or None); deleted violation rows are found here."""
    checked = 0
    pending: list[DecisionLogRow] = []
    for row, broken in _walk(_chain(session, DecisionLogRow), decision_hash):
        if broken is not None:
            return checked, Break("decision_log", _decision_name(row), broken)
        pending.append(row)
        if len(pending) == BATCH:
            missing = recorded_rows_exist(session, pending)
            if missing is not None:
                return checked, Break("violations", f"key={missing.subject}", _DELETED.format(missing.seq))
            checked, pending = checked + len(pending), []
    missing = recorded_rows_exist(session, pending)
    if missing is not None:
        return checked, Break("violations", f"key={missing.subject}", _DELETED.format(missing.seq))
    return checked + len(pending), None


_DELETED = "deleted directly: the decision log recorded it (seq={}) but the table no longer has it"


def _decision_name(row: DecisionLogRow) -> str:
    return f"seq={row.seq} ({row.kind} {row.subject})"


def verify(session: Session) -> Report:
    """Both chains, then the violations table against the decision log; the first break wins."""
    events, broken = verify_events(session)
    if broken is not None:
        return Report(events, 0, 0, broken)
    decisions, broken = verify_decisions(session)
    if broken is not None:
        return Report(events, decisions, 0, broken)
    violations, problem = verify_violations(session)
    if problem is not None:
        key, reason = problem
        return Report(events, decisions, violations, Break("violations", f"key={key}", reason))
    return Report(events, decisions, violations, verify_activations(session))


def verify_activations(session: Session) -> Break | None:
    """Each policy activation has its ``policy_activated`` entry, in the same order (activations are
    few: one per upload made live). Also finds the newest decision log entries cut off."""
    logged = session.scalars(
        select(DecisionLogRow)
        .where(DecisionLogRow.kind == DecisionKind.POLICY_ACTIVATED.value)
        .order_by(DecisionLogRow.seq)
    ).all()
    rows = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq)).all()
    for index, row in enumerate(rows):
        entry = json.loads(logged[index].payload) if index < len(logged) else None
        if entry is None or (entry.get("version"), entry.get("org_hash")) != (row.version, row.org_hash):
            said = (
                f"the decision log's entry says {entry.get('version')}"
                if entry
                else "the decision log has no entry"
            )
            reason = f"activation of {row.version} edited or inserted directly: {said}"
            return Break("policy_activations", f"seq={row.seq}", reason)
    if len(logged) > len(rows):
        extra = logged[len(rows)]
        return Break("policy_activations", f"(none for decision log seq={extra.seq})", "deleted directly")
    return None
