"""Signed checkpoints: the heads of both chains and the row counts, kept outside the database.

A keyed chain alone does not show a log cut short or wiped: what is left still links up. So now and
then (``audit checkpoint``, and the scheduler every ``audit_checkpoint_minutes``) a record of both
chains' head (seq and hash), the row counts of the covered tables and a digest of the attachments'
hashes is signed with Ed25519 and appended to a JSON-lines file outside the database. Each line also
carries the sha256 of the line before it, so a line taken out of the middle of the file shows too.
``audit verify`` checks the database against every line (``flows.audit.against``): a head row that is
gone or has another hash, or a table with fewer rows than a checkpoint counted, names that checkpoint.
Like Certificate Transparency's signed tree heads, this is only as good as the copies kept where the
database's administrators cannot write (docs/audit.md).
"""

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.records.decisions import GENESIS, canonical
from flows.records.keys import AuditKeys
from models.tables import (
    AttachmentRow,
    ComplaintRow,
    DecisionLogRow,
    EventRow,
    ObligationRow,
    OutboxRow,
    PolicyActivationRow,
    ViolationRow,
)

VERSION = 1
BATCH = 1000
# Tables whose rows are never deleted by complaintflow: fewer rows than a checkpoint counted is a deletion.
COUNTED: dict[str, Any] = {
    "events": EventRow,
    "decision_log": DecisionLogRow,
    "complaints": ComplaintRow,
    "attachments": AttachmentRow,
    "violations": ViolationRow,
    "policy_activations": PolicyActivationRow,
    "obligations": ObligationRow,
    "outbox": OutboxRow,
}


@dataclass(frozen=True)
class Checkpoint:
    """One verified line of the checkpoint file."""

    line: int
    at: str
    heads: dict[str, tuple[int, str]]  # "events" / "decision_log" -> (seq, hash); seq 0: empty
    rows: dict[str, int]
    attachments: tuple[int, str]  # (last id, digest of "id:sha256" lines up to it)

    def name(self, path: Path) -> str:
        return f"the checkpoint of {self.at} ({path} line {self.line})"


class BadCheckpointFile(Exception):
    """A line that is not a checkpoint signed by the expected key, or not linked to the line before."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path} line {line}: {reason}")
        self.path, self.line, self.reason = path, line, reason


def state(session: Session, now: datetime) -> dict[str, object]:
    """What a checkpoint records about the database now (unsigned)."""
    heads: dict[str, object] = {}
    for name, table in (("events", EventRow), ("decision_log", DecisionLogRow)):
        head = session.execute(select(table.seq, table.hash).order_by(table.seq.desc()).limit(1)).first()
        heads[name] = {"seq": head[0], "hash": head[1]} if head else {"seq": 0, "hash": GENESIS}
    last_id, digest = attachment_digest(session)
    return {
        "v": VERSION,
        "at": now.isoformat(),
        "heads": heads,
        "rows": {
            name: session.scalar(select(func.count()).select_from(t)) or 0 for name, t in COUNTED.items()
        },
        "attachments": {"last_id": last_id, "digest": digest},
    }


def attachment_digest(session: Session, upto: int | None = None) -> tuple[int, str]:
    """(highest attachment id, sha256 over "id:sha256" lines in id order up to it).

    Ids are handed out in commit order: intake inserts attachments while it holds the event chain's
    lock (``event_log``), so no attachment with a lower id can commit after a checkpoint saw a higher one.
    """
    running, last = hashlib.sha256(), 0
    for row_id, sha in attachment_hashes(session, upto):
        running.update(f"{row_id}:{sha}\n".encode())
        last = row_id
    return last, running.hexdigest()


def attachment_hashes(session: Session, upto: int | None = None) -> Iterator[tuple[int, str]]:
    last = 0
    while True:
        query = select(AttachmentRow.id, AttachmentRow.sha256).where(AttachmentRow.id > last)
        if upto is not None:
            query = query.where(AttachmentRow.id <= upto)
        batch = session.execute(query.order_by(AttachmentRow.id).limit(BATCH)).all()
        if not batch:
            return
        yield from ((int(r[0]), str(r[1])) for r in batch)
        last = batch[-1][0]


def write(session: Session, keys: AuditKeys, now: datetime) -> dict[str, Any]:
    """Sign the database's state now and append it to the checkpoint file; the record written."""
    record = state(session, now)
    keys.checkpoints.parent.mkdir(parents=True, exist_ok=True)
    with keys.checkpoints.open("a+b") as file:
        # Another process (the scheduler, an operator's `audit checkpoint`) may append at the same time.
        fcntl.flock(file, fcntl.LOCK_EX)
        record["prev"] = _last_line_hash(file)
        line = _signed(record, keys.signing)
        file.write(line.encode() + b"\n")
        file.flush()
        os.fsync(file.fileno())
    return json.loads(line)  # type: ignore[no-any-return]


def _signed(record: dict[str, object], key: Ed25519PrivateKey) -> str:
    signature = key.sign(canonical(record).encode())
    return canonical({**record, "sig": base64.b64encode(signature).decode()})


def _last_line_hash(file: Any) -> str:
    file.seek(0, os.SEEK_END)
    end = file.tell()
    start = max(0, end - 64 * 1024)  # a line is well under 1 kB
    file.seek(start)
    lines = file.read().splitlines()
    return hashlib.sha256(lines[-1]).hexdigest() if lines else GENESIS


def read(path: Path, key: Ed25519PublicKey) -> Iterator[Checkpoint]:
    """The file's checkpoints in order, each checked (signature, link to the line before); raises
    ``BadCheckpointFile`` at the first line that is not. A missing file has no checkpoints."""
    if not path.exists():
        return
    previous = GENESIS
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            yield _checked(path, number, line, key, previous)
            previous = hashlib.sha256(line).hexdigest()


def _checked(path: Path, number: int, line: bytes, key: Ed25519PublicKey, previous: str) -> Checkpoint:
    try:
        record = json.loads(line)
        signature = base64.b64decode(record.pop("sig"), validate=True)
        key.verify(signature, canonical(record).encode())
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadCheckpointFile(path, number, "not a checkpoint record (damaged or edited)") from exc
    except InvalidSignature as exc:
        raise BadCheckpointFile(
            path, number, "its signature does not verify under the public key: edited or forged"
        ) from exc
    if record.get("prev") != previous:
        raise BadCheckpointFile(
            path, number, "does not follow the line before it: a line was removed or inserted"
        )
    heads = record["heads"]
    return Checkpoint(
        line=number,
        at=str(record["at"]),
        heads={name: (int(heads[name]["seq"]), str(heads[name]["hash"])) for name in heads},
        rows={name: int(count) for name, count in record["rows"].items()},
        attachments=(int(record["attachments"]["last_id"]), str(record["attachments"]["digest"])),
    )
