"""What one incoming email means, recorded in the caller's transaction with the mail itself.

- A machine's mail (auto-reply, bounce, delivery or read report) and our own mail: nothing.
- A reply whose In-Reply-To/References names a request or reminder we sent (with a valid reply
  token, see ``flows.runtime.reply_tokens``), from the address of the person it was sent to: that person
  did the step (``StepDone``; without ``to``, which the engine infers when the step has one target).
- Any other mail referring to one of ours: counted, nothing else (an out-of-thread "thanks", a reply
  from a colleague's address): it is not a new complaint, and guessing what it means would be worse.
- Anything else: a new complaint on the email channel, from the sender, with subject and text.

The ``inbound_mail`` row is inserted first: a second poller taking the same message fails on its key
before doing any work, and the row commits or rolls back together with the complaint or event.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.intake.store import NewComplaint, store_complaint
from flows.records.events import append_event
from flows.runtime.assembly import Runtime
from flows.runtime.reply_tokens import is_ours, stored_message_id
from models.complaint import Attachment as StoredFile
from models.complaint import Channel, Complainant
from models.events import StepDone
from models.tables import ComplaintRow, InboundMailRow, OutboxRow
from notifiers.addresses import parse_mailbox
from notifiers.inbound.parsing import ParsedMail

ACTIONABLE_KINDS = ("request", "reminder")
REPLY_NOTE = "email reply"
_ATTACHMENTS_HEADING = {"ja": "添付ファイル", "zh": "附件", "en": "Attachments"}
MAX_STORED_BYTES = 10 * 1024 * 1024  # per complaint, as on the web form
_KIB = 1024


class Outcome(StrEnum):
    COMPLAINT = "complaint"
    STEP_DONE = "step_done"
    AUTOMATED = "automated"
    UNMATCHED_REPLY = "unmatched_reply"
    OWN_MAIL = "own_mail"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class MailLocation:
    """Where a message was found: ``mailbox`` is ``user@host/folder`` (``ImapSettings.account``)."""

    mailbox: str
    uidvalidity: int
    uid: int


def record_mail(
    session: Session,
    runtime: Runtime,
    where: MailLocation,
    mail: ParsedMail,
    *,
    received_at: datetime | None,
    now: datetime,
) -> InboundMailRow:
    """Act on one message and record it, in the caller's transaction (commit, then mark it seen)."""
    seen_before = session.scalar(
        select(InboundMailRow.uid).where(InboundMailRow.message_key == mail.key).limit(1)
    )
    row = InboundMailRow(
        mailbox=where.mailbox,
        uidvalidity=where.uidvalidity,
        uid=where.uid,
        message_key=None if seen_before is not None else mail.key,
        outcome=Outcome.DUPLICATE.value,
        received_at=received_at,
        processed_at=now,
    )
    session.add(row)
    session.flush()  # claims the location and the Message-ID before any work is done
    if seen_before is None:
        # A reply counts from when it reached the mailbox, not from when we polled it; the
        # server's arrival time, unlike the Date header, is not the sender's to choose.
        at = min(received_at, now) if received_at is not None else now
        outcome, complaint_id = _act(session, runtime, mail, at=at, now=now)
        row.outcome, row.complaint_id = outcome.value, complaint_id
    return row


def _act(
    session: Session, runtime: Runtime, mail: ParsedMail, *, at: datetime, now: datetime
) -> tuple[Outcome, str | None]:
    if mail.automated is not None:
        return Outcome.AUTOMATED, None
    if mail.from_address == parse_mailbox(runtime.mail_from).addr_spec.lower():
        return Outcome.OWN_MAIL, None  # e.g. our own notification copied to the mailbox: no loop
    replied = _replied_request(session, runtime, mail)
    if replied is not None and replied.step is not None:
        event = StepDone(
            complaint=replied.complaint_id, at=at, step=replied.step, by=replied.recipient, note=REPLY_NOTE
        )
        append_event(session, event, now)
        return Outcome.STEP_DONE, replied.complaint_id
    if any(is_ours(reference) for reference in mail.replies_to):
        return Outcome.UNMATCHED_REPLY, None
    complaint = _complaint(runtime, mail)
    return Outcome.COMPLAINT, store_complaint(session, runtime.registry, complaint, now, _files(mail))


def _replied_request(session: Session, runtime: Runtime, mail: ParsedMail) -> OutboxRow | None:
    """The request or reminder this mail answers, if it came from the address we sent it to."""
    if mail.from_address is None:
        return None
    for reference in mail.replies_to:
        stored = stored_message_id(runtime.links.secret, reference)
        if stored is None:
            continue
        sent = session.scalars(select(OutboxRow).where(OutboxRow.message_id == stored).limit(1)).first()
        if sent is None or sent.kind not in ACTIONABLE_KINDS or sent.step is None:
            continue
        complaint = session.get(ComplaintRow, sent.complaint_id)
        if complaint is None:
            continue
        org = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash).org
        person = org.person(sent.recipient)
        if person is not None and person.email.strip().lower() == mail.from_address:
            return sent
    return None


def _complaint(runtime: Runtime, mail: ParsedMail) -> NewComplaint:
    active = runtime.registry.active
    language = active.policy.language if active is not None else "en"
    return NewComplaint(
        channel=Channel.EMAIL,
        subject=mail.subject or None,
        body=_with_attachments(mail, language) or None,
        complainant=Complainant(name=mail.from_name, email=mail.from_address, language=mail.language),
    )


def _files(mail: ParsedMail) -> list[StoredFile]:
    """The attachments kept with the complaint, in order, until the per-complaint cap is reached;
    larger ones stay listed in the text (marked too large) so staff can ask for them."""
    kept: list[StoredFile] = []
    total = 0
    for attachment in mail.attachments:
        if attachment.too_large or not attachment.content or total + attachment.size > MAX_STORED_BYTES:
            continue
        total += attachment.size
        kept.append(
            StoredFile(
                filename=attachment.name, content_type=attachment.content_type, content=attachment.content
            )
        )
    return kept


def _with_attachments(mail: ParsedMail, language: str) -> str:
    """The body, then a list of the attachments, so staff reading the notification see them."""
    if not mail.attachments:
        return mail.body
    lines = [f"[{_ATTACHMENTS_HEADING.get(language, _ATTACHMENTS_HEADING['en'])}]"]
    for attachment in mail.attachments:
        lines.append(f"- {attachment.name} ({attachment.content_type}, {_size(attachment.size)})")
    if mail.more_attachments:
        lines.append(f"- … +{mail.more_attachments}")
    return (mail.body + "\n\n" + "\n".join(lines)).strip()


def _size(size: int) -> str:
    if size < _KIB:
        return f"{size} B"
    if size < _KIB * _KIB:
        return f"{size / _KIB:.1f} KB"
    return f"{size / (_KIB * _KIB):.1f} MB"
