"""The long-lived loop that wakes complaints when the database says they are due.

``complaints.wake_at`` is the source of truth: the engine sets it to the next deadline, reminder or
escalation, and every new event sets it to now. The loop sleeps until the earliest ``wake_at`` (at
most ``poll_seconds``, so another process's events are seen quickly), then runs each due complaint's
flow in this process: no process spawn per run, no Prefect polling lag. After downtime, everything
overdue is due at once and is enforced on the first tick; the engine's keys make it happen once.
When an IMAP mailbox is configured, the loop also runs email intake every ``imap_poll_seconds``.
With audit keys installed it appends a signed checkpoint (``flows.audit.checkpoints``) when it
starts and then every ``audit_checkpoint_minutes``, on the runtime's clock.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from flows.audit import checkpoints as audit_checkpoints
from flows.intake.imap_poll import poll_forever
from flows.records import keys as audit_keys
from flows.records.keys import AuditKeys
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.complaint_flow import run_complaints
from flows.runtime.outbox import drain
from models.tables import ComplaintRow

log = logging.getLogger("complaintflow.scheduler")
BATCH = 200
FLOW_BATCH = 50  # complaints per flow run at most: keeps one run's tags and duration bounded
LEASE = timedelta(seconds=10)  # a claimed complaint is not claimed again by another worker before this
MIN_PAUSE = 0.05
CHECKPOINT_RETRY = timedelta(minutes=1)  # after a failed checkpoint (database or disk unavailable)


class Scheduler:
    def __init__(
        self,
        runtime: Runtime,
        *,
        poll_seconds: float = 0.5,
        concurrency: int = 4,
        audit: AuditKeys | None = None,
    ) -> None:
        self.runtime = runtime
        # The process's audit keys unless given: checkpoints are off only where none are installed.
        self.audit = audit if audit is not None else audit_keys.installed_or_none()
        self._next_checkpoint: datetime | None = None  # None: one is due now
        self.poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: dict[str, dict[str, str]] = {}  # policy id -> {complaint id: version} awaiting a run
        self._routing: set[str] = set()  # policy ids with a run loop going
        self._failures: dict[str, tuple[int, datetime]] = {}  # complaint -> (failures, retry not before)
        self._kicked = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unreachable = False  # the last look at the database failed (logged once per outage)

    def kick(self) -> None:
        """Something was just recorded in this process: look now instead of at the next poll.

        Safe from any thread (the web app's handlers run in a thread pool)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._kicked.set)

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """Claim the complaints due now, earliest first: (complaint id, policy version) each.

        Claiming moves ``wake_at`` a lease ahead, so another worker polling the same database does not
        take the same complaint meanwhile; processing sets the real next time. If this worker dies,
        the lease runs out and another one takes the complaint over."""
        with self.runtime.sessions() as session:
            if session.scalar(select(func.min(ComplaintRow.wake_at))) is None:
                return []
        with self.runtime.sessions.begin() as session:
            query = (
                select(ComplaintRow.id, ComplaintRow.policy_version)
                .where(ComplaintRow.wake_at <= now)
                .order_by(ComplaintRow.wake_at)
                .limit(BATCH)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)  # another worker's claim: leave it
            rows = [
                (r[0], r[1])
                for r in session.execute(query)
                if r[0] not in self._running and not self._held(r[0], now)
            ]
            if rows:
                session.execute(
                    update(ComplaintRow)
                    .where(ComplaintRow.id.in_([r[0] for r in rows]), ComplaintRow.wake_at <= now)
                    .values(wake_at=now + LEASE)
                )
            return rows

    def _held(self, complaint_id: str, now: datetime) -> bool:
        failed = self._failures.get(complaint_id)
        return failed is not None and failed[1] > now

    def next_wake(self) -> datetime | None:
        with self.runtime.sessions() as session:
            return session.scalar(select(func.min(ComplaintRow.wake_at)))

    async def tick(self) -> int:
        """Run every complaint due now and retry queued mail, waiting for all of it (tests use this)."""
        started = await self.start_due()
        await asyncio.gather(*started)
        await asyncio.gather(*list(self._tasks))  # runs of complaints folded into an earlier batch
        await drain(self.runtime)
        await self.checkpoint_if_due()
        return len(started)

    async def start_due(self) -> list[asyncio.Task[None]]:
        """Start a run for each due complaint without waiting: one slow run must not hold up the
        complaints behind it (a Prefect API retry can stall a run for seconds)."""
        # Database calls go to a thread: SQLite may make them wait for its write lock, and the
        # event loop must keep serving the runs in flight meanwhile.
        due = await asyncio.to_thread(self.due, self.runtime.clock.now())
        started = []
        for complaint_id, version in due:
            self._running.add(complaint_id)
            task = asyncio.create_task(self._run(complaint_id, version))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started.append(task)
        return started

    async def _run(self, complaint_id: str, version: str) -> None:
        try:
            # Enforce first, outside the run slots: recording what is due (violations, queued
            # escalations) must not wait on the Prefect API, whose SQLite server answers 503 under
            # concurrent writes and makes its client retry for seconds.
            await asyncio.to_thread(process_complaint, self.runtime, complaint_id)
            self._failures.pop(complaint_id, None)
        except Exception:
            self._failed(complaint_id)
            return
        finally:
            self._running.discard(complaint_id)
        await self._flow_run(complaint_id, version)

    async def _flow_run(self, complaint_id: str, version: str) -> None:
        """Hand the complaint to its policy's Prefect runs: one run in flight per policy, each taking
        every complaint that became due meanwhile (see complaint_flow for why batches)."""
        policy_id = self.runtime.registry.policy_id(version)
        self._pending.setdefault(policy_id, {})[complaint_id] = version
        if policy_id in self._routing:
            return
        self._routing.add(policy_id)
        try:
            while pending := self._pending.get(policy_id):
                batch = dict(list(pending.items())[:FLOW_BATCH])
                for key in batch:
                    del pending[key]
                try:
                    async with self._slots:
                        await run_complaints(batch, policy_id)
                except Exception:
                    log.warning("a flow run for %d complaint(s) failed; sending their mail here", len(batch))
                    await self._send_without_run(batch)
        finally:
            self._routing.discard(policy_id)

    async def _send_without_run(self, complaints: dict[str, str]) -> None:
        """The run is over and failed (the Prefect server is down, say): send what it queued now rather
        than after the outbox's first-attempt grace, which is for runs still going. Claims are
        atomic, so whatever the run did send is not sent again; what cannot be sent now (the database
        is down too) stays queued for the outbox's retry pass."""
        for complaint_id in complaints:
            try:
                await drain(self.runtime, complaint_id)
            except SQLAlchemyError:
                return

    def _failed(self, complaint_id: str) -> None:
        # Leave wake_at as it is: the complaint stays due and is retried, backing off to 30 s.
        # Only the id is logged: never complaint data.
        count = self._failures.get(complaint_id, (0, None))[0] + 1
        retry = self.runtime.clock.now() + timedelta(seconds=min(2 ** (count - 1), 30))
        self._failures[complaint_id] = (count, retry)
        log.warning(
            "complaint %s could not be processed (%d in a row); retry at %s", complaint_id, count, retry
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        mail: asyncio.Task[None] | None = None
        intake = asyncio.create_task(poll_forever(self.runtime, stop, self.kick))  # ends at once if off
        while not stop.is_set():
            self._kicked.clear()  # before looking: a kick from now on makes the wait return at once
            upcoming = await self._look()
            if mail is None or mail.done():
                mail = asyncio.create_task(self._retry_mail())
            await self.checkpoint_if_due()
            delay = self.poll_seconds
            if upcoming is not None:
                # At least MIN_PAUSE: a complaint still running is due until its run records the next time.
                delay = min(delay, max((upcoming - self.runtime.clock.now()).total_seconds(), MIN_PAUSE))
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._kicked.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        await asyncio.gather(*self._tasks, intake)

    async def _look(self) -> datetime | None:
        """Start what is due; the next wake-up. A database that cannot be reached (restarting, failing
        over) must not end the worker: it looks again at the next poll, and the pool replaces its dead
        connections (pre_ping), so the worker recovers by itself when the database is back."""
        try:
            await self.start_due()
            upcoming = await asyncio.to_thread(self.next_wake)
        except SQLAlchemyError as exc:
            if not self._unreachable:  # once per outage; the error's type only (its text may hold SQL)
                log.warning("cannot read due complaints (%s); trying again every poll", type(exc).__name__)
            self._unreachable = True
            return None
        if self._unreachable:
            log.warning("the database answers again")
        self._unreachable = False
        return upcoming

    async def _retry_mail(self) -> None:
        try:
            await drain(self.runtime, retries_only=True)
        except SQLAlchemyError as exc:
            # The database is unreachable (_look says so, once); the next pass, a poll later, retries.
            log.debug("the outbox pass failed (%s)", type(exc).__name__)

    async def checkpoint_if_due(self) -> bool:
        """Append a signed checkpoint if the interval has elapsed since the last one; True if written."""
        now = self.runtime.clock.now()
        if self.audit is None or (self._next_checkpoint is not None and now < self._next_checkpoint):
            return False
        try:
            await asyncio.to_thread(self._checkpoint, self.audit, now)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("could not write an audit checkpoint (%s); trying again shortly", type(exc).__name__)
            self._next_checkpoint = now + CHECKPOINT_RETRY
            return False
        self._next_checkpoint = now + self.audit.interval
        return True

    def _checkpoint(self, keys: AuditKeys, now: datetime) -> None:
        with self.runtime.sessions() as session:
            audit_checkpoints.write(session, keys, now)
