"""Email intake: poll the configured IMAP folders and act on each new message exactly once.

For each folder: the UIDs that are unread, plus any above the highest one already recorded (staff may
have opened a message in a mail client before the poll). For each UID:

1. already in ``inbound_mail``: it was stored before a crash that came before step 3; mark it seen.
2. otherwise fetch it unread (``BODY.PEEK``), parse it, and in ONE transaction record it in
   ``inbound_mail`` together with the complaint or event it causes (``flows.intake.mail``).
3. after the commit, mark it ``\\Seen``.

A crash before the commit stored nothing: the message is still unread and is processed next time. A
crash between commit and ``\\Seen`` is step 1 next time. Two pollers racing on one message collide on
its ``inbound_mail`` key; the loser rolls back and finds it recorded. Logs name the folder and UID,
never the sender, subject or text.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

from prefect import Flow
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from flows.intake.mail import MailLocation, Outcome, record_mail
from flows.runtime.assembly import Runtime, current
from models.tables import InboundMailRow
from notifiers.errors import MailboxFailed
from notifiers.inbound.imap import ImapSession, connect
from notifiers.inbound.parsing import parse_mail

log = logging.getLogger("complaintflow.email_intake")
ALREADY_RECORDED = "already_recorded"
VANISHED = "vanished"
FAILED = "failed"


def poll_once(runtime: Runtime) -> dict[str, int]:
    """One pass over every configured folder; returns how many messages had each outcome."""
    settings = runtime.imap
    if settings is None:
        return {}
    counts: Counter[str] = Counter()
    with connect(settings) as imap:
        for folder in settings.mailboxes:
            uidvalidity = imap.select(folder)
            mailbox = settings.account(folder)
            for uid in _candidates(runtime, imap, mailbox, uidvalidity):
                counts[_take(runtime, imap, MailLocation(mailbox, uidvalidity, uid))] += 1
    return dict(counts)


def _candidates(runtime: Runtime, imap: ImapSession, mailbox: str, uidvalidity: int) -> list[int]:
    with runtime.sessions() as session:
        highest = session.scalar(
            select(func.max(InboundMailRow.uid)).where(
                InboundMailRow.mailbox == mailbox, InboundMailRow.uidvalidity == uidvalidity
            )
        )
    # Without a record for this folder (first poll, or the server renumbered it), only unread mail:
    # a folder's old, read history is not a pile of new complaints.
    newer = imap.newer_than(highest) if highest is not None else []
    return sorted({*imap.unseen(), *newer})


def _take(runtime: Runtime, imap: ImapSession, where: MailLocation) -> str:
    for attempt in range(2):
        try:
            return _take_once(runtime, imap, where)
        except IntegrityError:
            # Another poller recorded this message, or a copy of it, first; look again.
            if attempt:
                log.warning("email intake: %s uid %d keeps colliding; left unread", where.mailbox, where.uid)
                return FAILED
        except MailboxFailed:
            raise  # the connection is gone: end this poll, the next one resumes
        except Exception as exc:
            # Only the type: a database error's text can quote the complaint it tried to store.
            log.warning(
                "email intake: %s uid %d not processed (%s); left unread for the next poll",
                where.mailbox,
                where.uid,
                type(exc).__name__,
            )
            return FAILED
    return FAILED


def _take_once(runtime: Runtime, imap: ImapSession, where: MailLocation) -> str:
    with runtime.sessions() as session:
        recorded = session.get(InboundMailRow, (where.mailbox, where.uidvalidity, where.uid))
    if recorded is not None:
        imap.mark_seen(where.uid)
        return ALREADY_RECORDED
    fetched = imap.fetch(where.uid)
    if fetched is None:
        return VANISHED
    mail = parse_mail(fetched.raw)
    with runtime.sessions.begin() as session:
        row = record_mail(
            session, runtime, where, mail, received_at=fetched.received_at, now=runtime.clock.now()
        )
        outcome = row.outcome
    imap.mark_seen(where.uid)
    if outcome == Outcome.UNMATCHED_REPLY:
        log.info("email intake: %s uid %d answers our mail but matches no request", where.mailbox, where.uid)
    return outcome


async def _poll() -> dict[str, int]:
    # imaplib and the database block: keep them off the loop that runs the complaint flows.
    return await asyncio.to_thread(poll_once, current())


EmailIntakeFlow = Flow[[], Coroutine[Any, Any, dict[str, int]]]
email_intake: EmailIntakeFlow = Flow(
    _poll, name="email-intake", flow_run_name="email-intake", persist_result=False, log_prints=False
)


async def poll_forever(runtime: Runtime, stop: asyncio.Event, kick: Callable[[], None]) -> None:
    """Run the ``email-intake`` flow every ``poll_seconds`` until ``stop``; a failed poll is retried
    at the next interval (the mail stays unread on the server, so nothing is lost meanwhile)."""
    settings = runtime.imap
    if settings is None:
        return
    while not stop.is_set():
        try:
            counts = await email_intake()
        except MailboxFailed as exc:
            log.warning("email intake: %s", exc)  # server, command and its answer; no mail content
        except Exception as exc:
            log.warning("email intake poll failed (%s)", type(exc).__name__)
        else:
            if isinstance(counts, dict) and (counts.get(Outcome.COMPLAINT) or counts.get(Outcome.STEP_DONE)):
                kick()  # new events: let the scheduler run them now rather than at its next look
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.poll_seconds)
