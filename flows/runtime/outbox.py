"""Draining the outbox: send each queued email once, retrying with backoff while SMTP is down.

A row is claimed by moving it to ``sending`` with a lease (its ``next_attempt_at`` pushed forward);
success marks it ``sent``. A worker that dies mid-send leaves the lease to expire and the row is
tried again, so mail is never lost; in that one window it may be sent twice, with the same
Message-ID, which receiving servers and clients use to drop the copy.

The lease follows the SMTP timeout: aiosmtplib applies it to each step of a send, so one send cannot
outlast ``SMTP_STEPS`` timeouts, and a worker starts a send only while that much of its lease is left.
Rows held by a dead worker come back after seconds (30 s with a 2 s timeout, 110 s with the default
10 s), not after a fixed number of minutes, and a live worker's slow sends are never overtaken.

A failed send is logged by ids only (row, complaint, kind, step, recipient id, error class): the
error's text can carry an address, and neither it nor the message is logged. The row keeps
``last_error`` as ``"<ErrorClass>: <text>"`` for the administrators' failed-mail page.
"""

import asyncio
import logging
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from flows.runtime.assembly import Runtime
from flows.runtime.reply_tokens import reply_token, sent_message_id
from models.tables import OutboxRow
from notifiers.errors import BadAddress, NotifierError, SendFailed
from notifiers.outbound.message import build_message
from notifiers.outbound.smtp import send
from notifiers.outbound.templates import RenderedEmail

SMTP_STEPS = 10  # connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA, the message, QUIT
SEND_WINDOW = timedelta(seconds=10)  # after a claim, how long this worker may still start sending a row
RECORD_RETRY_SECONDS = 0.5
MAX_BACKOFF = timedelta(minutes=5)
FIRST_ATTEMPT_GRACE = timedelta(seconds=30)
log = logging.getLogger("complaintflow.outbox")


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … capped at 5 minutes: an outage delays mail, it never drops it."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_time(runtime: Runtime) -> timedelta:
    """The longest one send can take before aiosmtplib gives up on it."""
    return timedelta(seconds=runtime.smtp.timeout * SMTP_STEPS)


def lease(runtime: Runtime) -> timedelta:
    return send_time(runtime) + SEND_WINDOW


def _claim(runtime: Runtime, complaint_id: str | None, limit: int, *, retries_only: bool) -> list[OutboxRow]:
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        query = (
            select(OutboxRow)
            .where(OutboxRow.status.in_(("pending", "sending")), OutboxRow.next_attempt_at <= now)
            .order_by(OutboxRow.next_attempt_at, OutboxRow.key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if complaint_id is not None:
            query = query.where(OutboxRow.complaint_id == complaint_id)
        if retries_only:
            # First attempts belong to the complaint's flow run; take a row only once it has failed
            # or that run had its chance (e.g. the Prefect server was down).
            query = query.where(
                (OutboxRow.attempts > 0) | (OutboxRow.created_at <= now - FIRST_ATTEMPT_GRACE)
            )
        rows = list(session.scalars(query))
        for row in rows:
            row.status = "sending"
            row.attempts += 1
            row.next_attempt_at = now + lease(runtime)
        return rows


def _finish(runtime: Runtime, key: str, error: str | None, attempts: int, *, permanent: bool = False) -> None:
    """Record the outcome; a permanent refusal (bad address, 5xx) is kept as ``failed`` for review."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        row = session.get(OutboxRow, key)
        if row is None or row.status == "sent":
            return
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        elif permanent:
            row.status, row.last_error = "failed", error
        else:
            row.status, row.last_error = "pending", error
            row.next_attempt_at = now + backoff(attempts)


async def drain(
    runtime: Runtime, complaint_id: str | None = None, limit: int = 50, *, retries_only: bool = False
) -> int:
    """Send what is due (for one complaint, or all); return how many were sent."""
    sent = 0
    # Database calls run in a thread: under SQLite they may wait for the write lock, and the event
    # loop they would block also carries the other flow runs and the web app.
    for row in await asyncio.to_thread(_claim, runtime, complaint_id, limit, retries_only=retries_only):
        if runtime.clock.now() + send_time(runtime) > row.next_attempt_at:
            # Too little of the lease is left to finish a send: once it runs out another worker may
            # take the row, and both would send it. Leave this and the rest for then.
            break
        # Errors are stored on the row, never raised: their text can carry an address, and what a
        # flow raises ends up in Prefect's logs.
        try:
            await send(runtime.smtp, _message(runtime, row))
        except NotifierError as exc:
            permanent = isinstance(exc, BadAddress) or (isinstance(exc, SendFailed) and exc.permanent)
            _log_failure(row, exc, permanent=permanent)
            await asyncio.to_thread(
                _finish, runtime, row.key, error_text(exc), row.attempts, permanent=permanent
            )
            continue
        await _record_sent(runtime, row)
        sent += 1
    return sent


def error_text(exc: Exception) -> str:
    """What ``last_error`` keeps: the error's class (shown to administrators) and its text."""
    return f"{type(exc).__name__}: {exc}"


def error_class(last_error: str | None) -> str | None:
    """The class part of a ``last_error`` written by ``error_text``; None for other texts."""
    if not last_error:
        return None
    head, colon, _ = last_error.partition(":")
    return head if colon and head.isidentifier() else None


def _log_failure(row: OutboxRow, exc: NotifierError, *, permanent: bool) -> None:
    outcome = "given up" if permanent else "will retry"
    log.warning(
        "outbox %s: send failed (%s), %s after %d attempt(s); complaint %s, %s, step %s, recipient %s",
        row.key, type(exc).__name__, outcome, row.attempts, row.complaint_id, row.kind,
        row.step or "-", row.recipient,
    )  # fmt: skip


async def _record_sent(runtime: Runtime, row: OutboxRow) -> None:
    """The server has the message now. If recording that fails (the database is restarting), the row
    would be sent again when its lease runs out: keep trying as long as the lease lasts."""
    tries = max(int(lease(runtime).total_seconds() / RECORD_RETRY_SECONDS), 1)
    for attempt in range(tries):
        try:
            await asyncio.to_thread(_finish, runtime, row.key, None, row.attempts)
            return
        except SQLAlchemyError:
            if attempt == tries - 1:
                raise
            await asyncio.sleep(RECORD_RETRY_SECONDS)


def _message(runtime: Runtime, row: OutboxRow) -> EmailMessage:
    # The reply token rides in the Message-ID, which every client's reply quotes (flows/reply_tokens).
    token = reply_token(runtime.links.secret, row.message_id)
    return build_message(
        sender=runtime.mail_from,
        to_name="",
        to_address=row.to_address,
        rendered=RenderedEmail(row.subject, row.text_body, row.html_body),
        message_id=sent_message_id(runtime.links.secret, row.message_id),
        headers={
            "X-Complaintflow-Complaint": row.complaint_id,
            "X-Complaintflow-Kind": row.kind,
            "X-Complaintflow-Step": row.step or "",
            "X-Complaintflow-Reply": token,
        },
    )
