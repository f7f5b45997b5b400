"""Tamper evidence: re-walk the hash-chained event log and report the first broken link.

Each event row carries the hash of its predecessor (in ``seq`` order) and a hash over its own
content and that link (``event_log.event_hash``). Editing a row changes its hash; deleting or
reordering rows breaks the ``prev_hash`` link of the row after. Either is found here, by row.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.event_log import GENESIS, event_hash
from models.tables import EventRow

BATCH = 1000


@dataclass(frozen=True)
class Break:
    """The first row at which the chain does not hold, and why."""

    seq: int
    complaint: str
    reason: str

    def __str__(self) -> str:
        return f"events row seq={self.seq} (complaint {self.complaint}): {self.reason}"


def _rows(session: Session) -> Iterator[EventRow]:
    last = 0
    while True:
        batch = session.scalars(
            select(EventRow).where(EventRow.seq > last).order_by(EventRow.seq).limit(BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify_events(session: Session) -> tuple[int, Break | None]:
    """(rows checked, the first break or None); reads in batches, so memory stays flat."""
    previous = GENESIS
    checked = 0
    for row in _rows(session):
        if row.prev_hash != previous:
            return checked, Break(
                row.seq, row.complaint_id, "does not follow the row before it (deleted or reordered)"
            )
        if event_hash(row) != row.hash:
            return checked, Break(row.seq, row.complaint_id, "its content does not match its hash (edited)")
        previous = row.hash
        checked += 1
    return checked, None
