"""The database checked against every signed checkpoint: what a keyed chain cannot show by itself.

Run after both chains verified from their first row: then a head row that is still there with the
hash a checkpoint signed proves every row before it unchanged too. What it finds: a chain rewritten
past a checkpoint (its head row has another hash), truncated or wiped (the head row is gone), rows
deleted from a covered table (fewer than a checkpoint counted), and attachments deleted or re-hashed
(the digest of their sha256 column up to the checkpointed id differs).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.audit.checkpoints import COUNTED, Checkpoint, attachment_hashes
from models.tables import DecisionLogRow, EventRow


@dataclass(frozen=True)
class Contradiction:
    table: str
    row: str
    reason: str


_CHAINS: dict[str, Any] = {"events": EventRow, "decision_log": DecisionLogRow}


def contradiction(session: Session, path: Path, checkpoints: list[Checkpoint]) -> Contradiction | None:
    """The first way the database contradicts one of ``checkpoints`` (oldest first), or None."""
    counts = {name: session.scalar(select(func.count()).select_from(t)) or 0 for name, t in COUNTED.items()}
    for checkpoint in checkpoints:
        found = _heads(session, path, checkpoint) or _counts(counts, path, checkpoint)
        if found is not None:
            return found
    return _attachments(session, path, checkpoints)


def _heads(session: Session, path: Path, checkpoint: Checkpoint) -> Contradiction | None:
    for name, table in _CHAINS.items():
        seq, signed = checkpoint.heads.get(name, (0, ""))
        if seq == 0:
            continue
        stored = session.scalar(select(table.hash).where(table.seq == seq))
        if stored == signed:
            continue
        what = (
            "the table has no such row: the log was truncated or wiped"
            if stored is None
            else f"the row now has hash {stored[:12]}…: the log was rewritten"
        )
        reason = (
            f"contradicts {checkpoint.name(path)}, which signed seq={seq} with hash {signed[:12]}…; {what}"
        )
        return Contradiction(name, f"seq={seq}", reason)
    return None


def _counts(counts: dict[str, int], path: Path, checkpoint: Checkpoint) -> Contradiction | None:
    for name, counted in checkpoint.rows.items():
        now = counts.get(name, 0)
        if now < counted:
            reason = f"{now} rows, but {checkpoint.name(path)} counted {counted}: rows were deleted"
            return Contradiction(name, "(count)", reason)
    return None


def _attachments(session: Session, path: Path, checkpoints: Iterable[Checkpoint]) -> Contradiction | None:
    """One pass over the attachments' (id, sha256), compared with each checkpoint's digest as it passes."""
    wanted = sorted((c.attachments[0], c.line, c) for c in checkpoints if c.attachments[0] > 0)
    if not wanted:
        return None
    running, index = hashlib.sha256(), 0
    for row_id, sha in attachment_hashes(session, wanted[-1][0]):
        while index < len(wanted) and wanted[index][0] < row_id:
            found = _compare(running, path, wanted[index][2])
            if found is not None:
                return found
            index += 1
        running.update(f"{row_id}:{sha}\n".encode())
    for _, _, checkpoint in wanted[index:]:
        found = _compare(running, path, checkpoint)
        if found is not None:
            return found
    return None


def _compare(running: "hashlib._Hash", path: Path, checkpoint: Checkpoint) -> Contradiction | None:
    last_id, digest = checkpoint.attachments
    if running.hexdigest() == digest:
        return None
    reason = (
        f"the rows up to id={last_id} do not match {checkpoint.name(path)}:"
        " an attachment was deleted, or its stored sha256 changed"
    )
    return Contradiction("attachments", f"id<={last_id}", reason)
