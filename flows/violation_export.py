"""Reading the violation log for auditors: filtered, in detection order, streamed in batches.

Exports write rows as they are read (``yield_per``), so a million violations take constant memory.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import ViolationRow

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


@dataclass(frozen=True)
class ViolationFilter:
    actor: str | None = None
    step: str | None = None
    since: datetime | None = None  # detected at or after
    until: datetime | None = None  # detected before


def iter_violations(session: Session, where: ViolationFilter) -> Iterator[dict[str, object]]:
    query = select(ViolationRow).order_by(ViolationRow.detected_at, ViolationRow.key)
    if where.actor is not None:
        query = query.where(ViolationRow.actor == where.actor)
    if where.step is not None:
        query = query.where(ViolationRow.step == where.step)
    if where.since is not None:
        query = query.where(ViolationRow.detected_at >= where.since)
    if where.until is not None:
        query = query.where(ViolationRow.detected_at < where.until)
    for row in session.scalars(query.execution_options(yield_per=BATCH)):
        yield _record(row)
        session.expunge(row)  # keep the identity map from growing with the export


def _record(row: ViolationRow) -> dict[str, object]:
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
    for record in records:
        writer.writerow(record)
        count += 1
    return count


def write_json(records: Iterator[dict[str, object]], out: IO[str]) -> int:
    """One JSON array, written element by element."""
    out.write("[")
    count = 0
    for record in records:
        out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count
