"""Reading the violation log for auditors: filtered, in detection order, streamed in batches.

The same filter serves the web list, the exports and the CLI. Exports write rows as they are read
(``yield_per``), so a million violations take constant memory. A department filter uses the org
snapshot each complaint pinned: the people in that department then (and shared ``role:x`` owners
whose holders all were), not today's directory.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, and_, false, or_, select
from sqlalchemy.orm import Session

from models.org import Org
from models.tables import ComplaintRow, OrgSnapshotRow, ViolationRow

FIELDS = (
    "key",
    "complaint",
    "step",
    "occurrence",
    "actor",
    "due_at",
    "detected_at",
    "penalty",
    "policy_version",
    "status",
)
BATCH = 1000
STATUSES = ("recorded", "confirmed", "disputed", "waived")


@dataclass(frozen=True)
class ViolationFilter:
    actor: str | None = None
    step: str | None = None
    since: datetime | None = None  # detected at or after
    until: datetime | None = None  # detected before
    status: str | None = None
    policy_version: str | None = None
    department: str | None = None  # a department id in the complaint's org snapshot
    due_since: datetime | None = None  # due at or after
    due_until: datetime | None = None  # due before


def filtered(session: Session, query: Select[Any], where: ViolationFilter) -> Select[Any]:
    """``query`` (over ``ViolationRow``) narrowed to the filter."""
    equal = (
        (ViolationRow.actor, where.actor),
        (ViolationRow.step, where.step),
        (ViolationRow.status, where.status),
        (ViolationRow.policy_version, where.policy_version),
    )
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    ranges = (
        (ViolationRow.detected_at, where.since, where.until),
        (ViolationRow.due_at, where.due_since, where.due_until),
    )
    for moment, lower, upper in ranges:
        if lower is not None:
            query = query.where(moment >= lower)
        if upper is not None:
            query = query.where(moment < upper)
    if where.department is not None:
        query = query.where(_in_department(session, where.department))
    return query


def _in_department(session: Session, department: str) -> Any:
    # Org snapshots are few (one per directory edit): one clause per snapshot that has the department.
    clauses = []
    for org_hash, document in session.execute(select(OrgSnapshotRow.hash, OrgSnapshotRow.document)):
        owners = department_owners(Org.model_validate_json(document), department)
        if owners:
            members = select(ComplaintRow.id).where(ComplaintRow.org_hash == org_hash)
            clauses.append(ViolationRow.complaint_id.in_(members) & ViolationRow.actor.in_(owners))
    return or_(*clauses) if clauses else false()


def department_owners(org: Org, department: str) -> list[str]:
    """Who counts as the department in this directory: its people, and roles held only by them."""
    people = [p.id for p in org.people if p.department == department]
    roles = [
        f"role:{role}"
        for role in org.role_names()
        if set(org.holders(role)) <= set(people) and org.holders(role)
    ]
    return people + roles


def newest_first(
    session: Session, where: ViolationFilter, *, after: str | None, limit: int
) -> list[tuple[ViolationRow, str]]:
    """A page of violations, latest detected first, each with its complaint's org snapshot hash;
    keyset-paged after the row keyed ``after``. One extra row tells whether another page follows."""
    query = filtered(session, select(ViolationRow, ComplaintRow.org_hash), where).join(
        ComplaintRow, ComplaintRow.id == ViolationRow.complaint_id
    )
    cursor = session.get(ViolationRow, after) if after else None
    if cursor is not None:
        query = query.where(
            or_(
                ViolationRow.detected_at < cursor.detected_at,
                and_(ViolationRow.detected_at == cursor.detected_at, ViolationRow.key < cursor.key),
            )
        )
    query = query.order_by(ViolationRow.detected_at.desc(), ViolationRow.key.desc()).limit(limit + 1)
    return list(session.execute(query).tuples())


def iter_violations(session: Session, where: ViolationFilter) -> Iterator[dict[str, object]]:
    query = filtered(session, select(ViolationRow), where).order_by(
        ViolationRow.detected_at, ViolationRow.key
    )
    for row in session.scalars(query.execution_options(yield_per=BATCH)):
        yield record(row)
        session.expunge(row)  # keep the identity map from growing with the export


def record(row: ViolationRow) -> dict[str, object]:
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
        "status": row.status,
    }


def write_csv(records: Iterator[dict[str, object]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    count = 0
    for item in records:
        writer.writerow(item)
        count += 1
    return count


def csv_chunks(records: Iterator[dict[str, object]], rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV as text chunks, for a streamed HTTP response (never more than one chunk in memory)."""
    buffer = _Buffer()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for n, item in enumerate(records, 1):
        writer.writerow(item)
        if n % rows_per_chunk == 0:
            yield buffer.take()
    yield buffer.take()


def json_chunks(records: Iterator[dict[str, object]], rows_per_chunk: int = 500) -> Iterator[str]:
    """One JSON array as text chunks, element by element."""
    parts = ["["]
    for n, item in enumerate(records):
        parts.append(("," if n else "") + "\n" + json.dumps(item, ensure_ascii=False))
        if len(parts) >= rows_per_chunk:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n")
    yield "".join(parts)


def write_json(records: Iterator[dict[str, object]], out: IO[str]) -> int:
    """One JSON array, written element by element."""
    out.write("[")
    count = 0
    for item in records:
        out.write(("," if count else "") + "\n" + json.dumps(item, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


class _Buffer:
    """A write target that hands back what was written since the last ``take``."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, text: str) -> int:
        self._parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self._parts = "".join(self._parts), []
        return text
