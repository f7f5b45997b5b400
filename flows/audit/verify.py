"""Tamper evidence: re-walk both keyed hash chains, check them against the signed checkpoints, and the
unchained tables against the chains; report the first broken link.

Each event and each decision log row carries the hash of its predecessor (in ``seq`` order) and an
HMAC-SHA256, under the audit key kept outside the database, over its own content and that link
(``event_log.event_hash``, ``decision_log.decision_hash``). Editing a row changes its hash, and
without the key nobody can compute the new one; deleting or reordering rows breaks the ``prev_hash``
link of the row after. Cutting off the newest rows or wiping a table leaves a chain that still links
up: the signed checkpoints outside the database (``flows.audit.checkpoints``) show it. The violations
table, which is not chained, is checked against the decision log: each row must equal what its one
``violation_recorded`` entry says, its status must be the latest ruling's, and every recorded entry
must still have its row; so must each policy activation, with the account that activated it. Each
complaint id in the events must have its row and each row its received event; each attachment's
bytes must hash to its stored sha256. Everything is read in batches (keyset pages), so memory stays
flat however long the logs are (the checkpoint file's lines are held, a few hundred bytes each).
"""

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.audit.against import contradiction
from flows.audit.checkpoints import BadCheckpointFile, Checkpoint, read
from flows.audit.enforcement import check_enforcement
from flows.audit.records import attachment_problem, complaint_problem
from flows.audit.violations import recorded_rows_exist, verify_violations
from flows.records import events as event_log
from flows.records import keys as audit_keys
from flows.records.decisions import DecisionKind, decision_content
from flows.records.keys import AuditKeys
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
class Against:
    """The checkpoint file and the public key its lines must be signed with (an auditor's own copies,
    or this installation's)."""

    path: Path
    public_key: Ed25519PublicKey


@dataclass(frozen=True)
class Report:
    events: int  # rows checked and found good, per table
    decisions: int
    violations: int
    broken: Break | None
    attachments: int = 0
    checkpoints: int = 0  # checkpoint lines the database was checked against
    checkpoint_file: Path | None = None
    problems: tuple[Break, ...] = ()  # findings of further checks (each its own line), after `broken`

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.problems

    def with_problems(self, problems: Iterable[Break]) -> "Report":
        return dataclasses.replace(self, problems=(*self.problems, *problems))


def _chain(session: Session, table: Any) -> Iterator[Any]:
    last = 0
    while True:
        batch = session.scalars(select(table).where(table.seq > last).order_by(table.seq).limit(BATCH)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
        session.expunge_all()


def _walk(
    rows: Iterator[Any], content_of: Callable[[Any], bytes], key: bytes
) -> Iterator[tuple[Any, str | None]]:
    """Each row with the reason its link is broken (or None); stops after the first broken one."""
    previous, first = event_log.GENESIS, True
    for row in rows:
        if row.prev_hash != previous:
            yield row, "does not follow the row before it (deleted or reordered)"
            return
        content = content_of(row)
        if not hmac.compare_digest(hmac.new(key, content, hashlib.sha256).hexdigest(), row.hash):
            yield row, _mismatch(content, row.hash, first=first)
            return
        yield row, None
        previous, first = row.hash, False


def _mismatch(content: bytes, stored: str, *, first: bool) -> str:
    if hashlib.sha256(content).hexdigest() == stored:
        # The formula before keyed chains, which anyone can compute: re-hashed by hand, or an old database.
        return (
            "its hash is the unkeyed sha256 of its content, not the HMAC under the audit key: edited and"
            " re-hashed with the published formula, or a database from before keyed chains (recreate it)"
        )
    if first:
        return (
            "its content does not match its hash (edited, or this is not the audit key the log was"
            " written with)"
        )
    return "its content does not match its hash (edited)"


def verify_events(
    session: Session, key: bytes | None = None, *, processed: bool = True
) -> tuple[int, Break | None]:
    """(event rows checked, the first break or None); ``processed``: also look for the newest rows
    cut off below what complaints were processed up to (``verify`` does after the checkpoints, which
    name more)."""
    chain_key = key if key is not None else audit_keys.installed().chain
    checked, last = 0, 0
    for row, broken in _walk(_chain(session, EventRow), event_log.event_content, chain_key):
        if broken is not None:
            return checked, Break("events", _event_name(row), broken)
        checked, last = checked + 1, row.seq
    return checked, _processed_break(session, last) if processed else None


def _processed_break(session: Session, last: int) -> Break | None:
    processed = session.scalar(select(func.max(ComplaintRow.processed_seq))) or 0
    if processed > last:
        complaint = session.scalars(
            select(ComplaintRow.id).where(ComplaintRow.processed_seq == processed)
        ).first()
        reason = f"complaint {complaint} was processed up to seq={processed}: the newest rows were deleted"
        return Break("events", f"seq={last} (the last one)", reason)
    return None


def _event_name(row: EventRow) -> str:
    return f"seq={row.seq} (complaint {row.complaint_id})"


def verify_decisions(session: Session, key: bytes | None = None) -> tuple[int, Break | None]:
    """(decision log rows checked, the first break or None); deleted violation rows are found here."""
    chain_key = key if key is not None else audit_keys.installed().chain
    checked = 0
    pending: list[DecisionLogRow] = []
    for row, broken in _walk(_chain(session, DecisionLogRow), decision_content, chain_key):
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


def verify_checkpoints(session: Session, against: Against) -> tuple[int, Break | None]:
    """(checkpoint lines checked, the first line that is bad or that the database contradicts)."""
    try:
        checkpoints: list[Checkpoint] = list(read(against.path, against.public_key))
    except BadCheckpointFile as exc:
        return exc.line - 1, Break("checkpoints", f"{exc.path} line {exc.line}", exc.reason)
    found = contradiction(session, against.path, checkpoints)
    if found is not None:
        return len(checkpoints), Break(found.table, found.row, found.reason)
    return len(checkpoints), None


def verify(session: Session, keys: AuditKeys | None = None, against: Against | None = None) -> Report:
    """Both chains, the checkpoints, then the unchained tables against the chains; the first break wins."""
    keys = keys or audit_keys.installed()
    against = against or Against(keys.checkpoints, keys.public_key())
    report = Report(0, 0, 0, None, checkpoint_file=against.path)
    events, broken = verify_events(session, keys.chain, processed=False)
    report = dataclasses.replace(report, events=events, broken=broken)
    if broken is None:
        decisions, broken = verify_decisions(session, keys.chain)
        report = dataclasses.replace(report, decisions=decisions, broken=broken)
    if broken is None:
        lines, broken = verify_checkpoints(session, against)
        broken = broken or _processed_break(session, session.scalar(select(func.max(EventRow.seq))) or 0)
        report = dataclasses.replace(report, checkpoints=lines, broken=broken)
    if broken is None:
        violations, problem = verify_violations(session)
        broken = Break("violations", f"key={problem[0]}", problem[1]) if problem else None
        report = dataclasses.replace(report, violations=violations, broken=broken)
    if broken is None:
        broken = verify_activations(session) or _as_break(complaint_problem(session))
        report = dataclasses.replace(report, broken=broken)
    if broken is None:
        attachments, bad = attachment_problem(session)
        report = dataclasses.replace(report, attachments=attachments, broken=_as_break(bad))
    return report


def verify_live(
    session: Session,
    now: datetime,
    *,
    grace: timedelta,
    keys: AuditKeys | None = None,
    against: Against | None = None,
) -> Report:
    """``verify``, plus the enforcement invariant on the live database: no obligation past due
    without its violation, no open complaint with owed work and no ``wake_at``."""
    report = verify(session, keys, against)
    problems = check_enforcement(session, now, grace=grace)
    row = {"obligations": "key", "complaints": "id"}
    return report.with_problems(
        Break(p.table, f"{row.get(p.table, 'key')}={p.key}", p.reason) for p in problems
    )


def _as_break(problem: tuple[str, str, str] | None) -> Break | None:
    return Break(*problem) if problem is not None else None


def verify_activations(session: Session) -> Break | None:
    """Each policy activation has its ``policy_activated`` entry, in the same order, naming the same
    version, org snapshot, account and time (activations are few: one per upload made live). Also
    finds the newest decision log entries cut off."""
    logged = session.scalars(
        select(DecisionLogRow)
        .where(DecisionLogRow.kind == DecisionKind.POLICY_ACTIVATED.value)
        .order_by(DecisionLogRow.seq)
    ).all()
    rows = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq)).all()
    for index, row in enumerate(rows):
        entry = logged[index] if index < len(logged) else None
        problem = _activation_problem(row, entry)
        if problem is not None:
            return Break("policy_activations", f"seq={row.seq}", problem)
    if len(logged) > len(rows):
        extra = logged[len(rows)]
        return Break("policy_activations", f"(none for decision log seq={extra.seq})", "deleted directly")
    return None


def _activation_problem(row: PolicyActivationRow, entry: DecisionLogRow | None) -> str | None:
    facts = json.loads(entry.payload) if entry is not None else None
    if (
        entry is None
        or facts is None
        or (facts.get("version"), facts.get("org_hash")) != (row.version, row.org_hash)
    ):
        said = (
            f"the decision log's entry says {facts.get('version')}"
            if facts
            else "the decision log has no entry"
        )
        return f"activation of {row.version} edited or inserted directly: {said}"
    if row.activated_by != entry.actor:
        return (
            f"edited directly: activated_by is {row.activated_by!r} but the decision log"
            f" (seq={entry.seq}) says {entry.actor!r} activated it"
        )
    if row.activated_at != entry.at:
        return (
            f"edited directly: activated_at is {row.activated_at.isoformat()} but the decision log"
            f" (seq={entry.seq}) says {entry.at.isoformat()}"
        )
    return None
