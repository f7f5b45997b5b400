"""Auditors' rulings on violations: confirm, dispute or waive, each with a written reason.

A ruling appends one entry to the hash-chained decision log and moves ``violations.status`` (the
projection `audit verify` checks) in the same transaction, so the two never disagree.

Allowed transitions: any ruling that changes the status. ``recorded`` (the engine's initial status)
may become confirmed, disputed or waived; a disputed violation is later confirmed or waived; a
confirmed or waived one may be re-ruled (new evidence, a waiver reversed), and that re-ruling is logged
like the first. Ruling a violation into the status it already has is refused: it would log a decision
that decides nothing. Nothing is ever deleted: earlier rulings stay in the log, in order.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from flows.admin.accounts import Role, find_account
from flows.errors import RuntimeProblem
from flows.records.decisions import DecisionKind, append_decision
from models.tables import AccountRow, DecisionLogRow, ViolationRow

MAX_REASON = 2000


class Ruling(StrEnum):
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    WAIVE = "waive"


# What each ruling sets the status to, and which decision log entry records it.
STATUS = {Ruling.CONFIRM: "confirmed", Ruling.DISPUTE: "disputed", Ruling.WAIVE: "waived"}
KIND = {
    Ruling.CONFIRM: DecisionKind.VIOLATION_CONFIRMED,
    Ruling.DISPUTE: DecisionKind.VIOLATION_DISPUTED,
    Ruling.WAIVE: DecisionKind.VIOLATION_WAIVED,
}
STATUS_OF_KIND = {KIND[r].value: STATUS[r] for r in Ruling}
RECORDED = "recorded"


class RulingRefused(RuntimeProblem):
    """The ruling cannot be made as asked; ``code`` says why for pages that explain it in their language:
    "reason" (blank or too long), "same" (already that status), "unknown" (no such violation) or
    "auditor" (not an active auditor account)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def check_reason(reason: str) -> str:
    """The reason as stored (surrounding whitespace removed); refused when blank or too long."""
    cleaned = reason.strip()
    if not cleaned:
        raise RulingRefused("a ruling needs a written reason", "reason")
    if len(cleaned) > MAX_REASON:
        raise RulingRefused(
            f"the reason is {len(cleaned)} characters long; at most {MAX_REASON} are kept", "reason"
        )
    return cleaned


def auditor_account(session: Session, username: str) -> AccountRow:
    """The active auditor account with this username: only auditors rule."""
    account = find_account(session, username)
    if account is None or not account.active:
        raise RulingRefused(f"no active account named {username!r}", "auditor")
    if account.role != Role.AUDITOR:
        raise RulingRefused(
            f"{username!r} has the {account.role} role; only auditors rule on violations", "auditor"
        )
    return account


def rule(
    session: Session, key: str, ruling: Ruling, *, reason: str, auditor: str, now: datetime
) -> DecisionLogRow:
    """Record the ruling in the caller's transaction: one decision log entry plus the new status."""
    text = check_reason(reason)
    account = auditor_account(session, auditor)
    violation = session.get(ViolationRow, key, with_for_update=True)
    if violation is None:
        raise RulingRefused(f"no violation with key {key!r}", "unknown")
    previous, status = violation.status, STATUS[ruling]
    if previous == status:
        raise RulingRefused(f"violation {key} is already {status}", "same")
    entry = append_decision(
        session,
        KIND[ruling],
        key,
        actor=account.username,
        at=now,
        payload={"reason": text, "previous": previous, "status": status},
    )
    violation.status = status
    return entry
