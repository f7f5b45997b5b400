"""The violations table checked against the hash-chained decision log, a batch of rows at a time.

The table is not chained itself: the decision log is the record, the table a projection of it. A row
must equal its single ``violation_recorded`` entry (``violation_facts``) and carry the status of the
latest ruling on it; a recorded entry whose row is gone means the row was deleted.
"""

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.audit.rulings import RECORDED, STATUS_OF_KIND
from flows.records.decisions import DecisionKind, violation_facts
from models.tables import DecisionLogRow, ViolationRow

BATCH = 1000
_RECORDED = DecisionKind.VIOLATION_RECORDED.value
_ABOUT_VIOLATIONS = [_RECORDED, *STATUS_OF_KIND]


def recorded_rows_exist(session: Session, entries: Sequence[DecisionLogRow]) -> DecisionLogRow | None:
    """The first ``violation_recorded`` entry among ``entries`` whose violations row is gone, if any."""
    recorded = [e for e in entries if e.kind == _RECORDED]
    keys = {e.subject for e in recorded}
    present = (
        set(session.scalars(select(ViolationRow.key).where(ViolationRow.key.in_(keys)))) if keys else set()
    )
    return next((e for e in recorded if e.subject not in present), None)


def verify_violations(session: Session) -> tuple[int, tuple[str, str] | None]:
    """(rows checked and found good, (key, what is wrong) for the first bad row in key order, or None)."""
    checked, last = 0, ""
    while True:
        batch = session.scalars(
            select(ViolationRow).where(ViolationRow.key > last).order_by(ViolationRow.key).limit(BATCH)
        ).all()
        if not batch:
            return checked, None
        logged = _entries(session, [row.key for row in batch])
        for row in batch:
            problem = row_problem(row, logged.get(row.key, []))
            if problem is not None:
                return checked, (row.key, problem)
            checked += 1
        last = batch[-1].key
        session.expunge_all()


def _entries(session: Session, keys: list[str]) -> dict[str, list[DecisionLogRow]]:
    found: dict[str, list[DecisionLogRow]] = {}
    rows = session.scalars(
        select(DecisionLogRow)
        .where(DecisionLogRow.subject.in_(keys), DecisionLogRow.kind.in_(_ABOUT_VIOLATIONS))
        .order_by(DecisionLogRow.seq)
    )
    for row in rows:
        found.setdefault(row.subject, []).append(row)
    return found


def row_problem(row: ViolationRow, entries: list[DecisionLogRow]) -> str | None:
    """What is wrong with one violations row, given its decision log entries in seq order."""
    recorded = [e for e in entries if e.kind == _RECORDED]
    if not recorded:
        return "not in the decision log: inserted directly (or its violation_recorded entry was deleted)"
    if len(recorded) > 1:
        return f"recorded twice in the decision log (seq={recorded[0].seq} and seq={recorded[1].seq})"
    logged, facts = json.loads(recorded[0].payload), violation_facts(row)
    changed = next((name for name in facts if facts[name] != logged.get(name)), None)
    if changed is not None or set(logged) != set(facts):
        field = changed or "its set of fields"
        return (
            f"edited directly: {field} is {facts.get(field)!r} but was recorded as {logged.get(field)!r}"
            f" (decision log seq={recorded[0].seq})"
        )
    rulings = [e for e in entries if e.kind in STATUS_OF_KIND]
    expected = STATUS_OF_KIND[rulings[-1].kind] if rulings else RECORDED
    if row.status != expected:
        said = (
            f"the latest ruling (seq={rulings[-1].seq}) says {expected!r}"
            if rulings
            else "it was never ruled on"
        )
        return f"edited directly: status is {row.status!r} but {said}"
    return None
