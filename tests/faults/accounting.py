"""Counting after a fault: complaints, violations and outbox rows from the database, messages from the
SMTP sink, and the exactly-once checks every fault test ends with (the enforcement invariant among
them: every deadline past has its violation, everything owed has a wake-up)."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from flows.audit.enforcement import check_enforcement, grace_for
from models.db import make_engine, make_sessions
from models.tables import ComplaintRow, OutboxRow, ViolationRow
from notifiers.outbound.sink import MailSink

POLL_SECONDS = 0.2  # the stack's scheduler poll (stack.py): the grace the invariant allows
REQUESTED = "tanaka@keieikai.example"  # the first hearer, asked to report
ESCALATED = "sato@keieikai.example"  # their supervisor, told when the report is missed

Mail = tuple[str, str, str]  # (complaint, kind, recipient address)


@dataclass(frozen=True)
class Stored:
    """What the database holds."""

    complaints: set[str]
    violations: Counter[str]  # complaint -> violations recorded
    outbox: Counter[Mail]  # queued emails
    unsent: list[tuple[str, str, str]]  # (complaint, kind, status) of rows not marked sent


def expected_mail(complaints: set[str], *, escalated: bool) -> Counter[Mail]:
    """The request to the first hearer, and the escalation to the supervisor once the report is missed."""
    mail = Counter((c, "request", REQUESTED) for c in complaints)
    if escalated:
        mail.update((c, "escalation", ESCALATED) for c in complaints)
    return mail


class Ledger:
    """Reads one test's database and SMTP sink."""

    def __init__(self, database_url: str, sink: MailSink) -> None:
        self.engine: Engine = make_engine(database_url)
        self.sessions = make_sessions(self.engine)
        self.sink = sink

    def close(self) -> None:
        self.engine.dispose()

    def stored(self) -> Stored:
        with self.sessions() as session:
            complaints = set(session.scalars(select(ComplaintRow.id)))
            violations = Counter(session.scalars(select(ViolationRow.complaint_id)))
            rows = session.execute(
                select(OutboxRow.complaint_id, OutboxRow.kind, OutboxRow.to_address, OutboxRow.status)
            ).all()
        return Stored(
            complaints=complaints,
            violations=violations,
            outbox=Counter((c, kind, to) for c, kind, to, _ in rows),
            unsent=[(c, kind, status) for c, kind, _, status in rows if status != "sent"],
        )

    def received(self) -> Counter[Mail]:
        """Each (complaint, kind, recipient) the SMTP server accepted, with how many times."""
        return Counter(
            (str(m.message["X-Complaintflow-Complaint"]), str(m.message["X-Complaintflow-Kind"]), address)
            for m in self.sink.messages()
            for address in m.envelope_to
        )

    def attempted(self) -> int:
        """Outbox rows tried and not sent yet (their error recorded): mail waiting out an outage."""
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(OutboxRow.status != "sent", OutboxRow.last_error.is_not(None))
                )
                or 0
            )

    def enforcement_lags(self, complaints: set[str]) -> list[timedelta]:
        """For each violation of these complaints, how long after its due time it was recorded."""
        with self.sessions() as session:
            rows = session.execute(
                select(ViolationRow.due_at, ViolationRow.detected_at).where(
                    ViolationRow.complaint_id.in_(complaints)
                )
            ).all()
        return [detected - due for due, detected in rows]

    def in_doubt(self) -> set[Mail]:
        """Rows claimed for sending whose message the server already holds: a worker killed now would
        leave them to be sent again when their lease runs out (the one window flows/runtime/outbox.py
        names)."""
        with self.sessions() as session:
            rows = session.execute(
                select(OutboxRow.complaint_id, OutboxRow.kind, OutboxRow.to_address).where(
                    OutboxRow.status == "sending"
                )
            ).all()
        return {(c, kind, to) for c, kind, to in rows} & set(self.received())

    def message_ids(self) -> dict[Mail, list[str]]:
        """The Message-ID of every copy the server received, by (complaint, kind, recipient)."""
        found: dict[Mail, list[str]] = {}
        for m in self.sink.messages():
            key = (str(m.message["X-Complaintflow-Complaint"]), str(m.message["X-Complaintflow-Kind"]))
            for address in m.envelope_to:
                found.setdefault((*key, address), []).append(str(m.message["Message-ID"]))
        return found

    def settled(self, emails: int) -> bool:
        """Cheap enough to poll: ``emails`` arrived and the outbox holds that many rows, all sent."""
        if len(list(self.sink.store.glob("*.eml"))) < emails:
            return False
        with self.sessions() as session:
            queued = session.scalar(select(func.count()).select_from(OutboxRow))
            unsent = session.scalar(select(func.count()).where(OutboxRow.status != "sent"))
        return queued == emails and unsent == 0

    def assert_exactly_once(
        self, accepted: set[str], *, escalated: bool = True, in_doubt: frozenset[Mail] = frozenset()
    ) -> Stored:
        """Every accepted complaint stored; one violation each if its report was due, none otherwise;
        every email queued once, marked sent and received once, no Message-ID twice. The one
        exception: a message in doubt when a worker was killed (see ``in_doubt``) may arrive twice,
        both copies with the same Message-ID so that mail clients drop the second."""
        now = self.stored()
        assert now.complaints == accepted, f"lost: {sorted(accepted - now.complaints)[:10]}"
        if escalated:
            assert now.violations == Counter(dict.fromkeys(accepted, 1)), _odd(now.violations)
        else:
            assert not now.violations, f"violations before any deadline: {now.violations.most_common(5)}"
        expected = expected_mail(accepted, escalated=escalated)
        assert now.outbox == expected, _odd(now.outbox)
        assert not now.unsent, f"not sent: {now.unsent[:10]}"
        copies = self.message_ids()
        assert set(copies) == set(expected), f"unexpected or missing: {set(copies) ^ set(expected)}"
        for key, ids in copies.items():
            if key in in_doubt:
                assert len(ids) <= 2, f"{key} received {len(ids)} times"
                assert len(set(ids)) == 1, f"{key} sent again under another Message-ID: {ids}"
            else:
                assert len(ids) == 1, f"{key} received {len(ids)} times"
        assert len({ids[0] for ids in copies.values()}) == len(copies), "two emails share a Message-ID"
        self.assert_enforced()
        return now

    def assert_enforced(self) -> None:
        """The invariant ``audit verify`` checks: no obligation past due without its violation, no
        complaint owing work with nothing to wake it (flows/audit/enforcement.py)."""
        with self.sessions() as session:
            problems = check_enforcement(session, datetime.now(UTC), grace=grace_for(POLL_SECONDS))
        assert not problems, f"{len(problems)} not enforced: {[str(p) for p in problems[:10]]}"


def _odd(counts: Counter[Any]) -> str:
    odd = [(key, n) for key, n in counts.items() if n != 1]
    return f"{len(odd)} not exactly once: {odd[:10]}"
