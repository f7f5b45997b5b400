"""The long-lived loop that wakes complaints when the database says they are due.

``complaints.wake_at`` is the source of truth: the engine sets it to the next deadline, reminder or
escalation, and every new event sets it to now. The loop sleeps until the earliest ``wake_at`` (at
most ``poll_seconds``, so another process's events are seen quickly), then runs each due complaint's
flow in this process: no process spawn per run, no Prefect polling lag. After downtime, everything
overdue is due at once and is enforced on the first tick; the engine's keys make it happen once.
"""

import asyncio
import logging
from datetime import datetime

from sqlalchemy import func, select

from flows.complaint_flow import run_complaint
from flows.outbox import drain
from flows.runtime import Runtime
from models.tables import ComplaintRow

log = logging.getLogger("complaintflow.scheduler")
BATCH = 200


class Scheduler:
    def __init__(self, runtime: Runtime, *, poll_seconds: float = 0.5, concurrency: int = 4) -> None:
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[str] = set()
        self._kicked = asyncio.Event()

    def kick(self) -> None:
        """Something was just recorded in this process: look now instead of at the next poll."""
        self._kicked.set()

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """(complaint id, policy version) of complaints due now, earliest first."""
        with self.runtime.sessions() as session:
            rows = session.execute(
                select(ComplaintRow.id, ComplaintRow.policy_version)
                .where(ComplaintRow.wake_at <= now)
                .order_by(ComplaintRow.wake_at)
                .limit(BATCH)
            )
            return [(r[0], r[1]) for r in rows if r[0] not in self._running]

    def next_wake(self) -> datetime | None:
        with self.runtime.sessions() as session:
            return session.scalar(select(func.min(ComplaintRow.wake_at)))

    async def tick(self) -> int:
        """Run every complaint due now, then retry queued mail; return how many complaints ran."""
        due = self.due(self.runtime.clock.now())
        await asyncio.gather(*(self._run(complaint_id, version) for complaint_id, version in due))
        await drain(self.runtime)
        return len(due)

    async def _run(self, complaint_id: str, version: str) -> None:
        self._running.add(complaint_id)
        try:
            async with self._slots:
                policy_id = self.runtime.registry.policy_id(version)
                await run_complaint(complaint_id, policy_id, version)
        except Exception:
            # Leave wake_at as it is: the complaint stays due and the next tick retries it.
            log.exception("run for complaint %s failed; it stays due", complaint_id)
        finally:
            self._running.discard(complaint_id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._kicked.clear()  # before the tick: a kick during it makes the wait return at once
            await self.tick()
            delay = self.poll_seconds
            upcoming = self.next_wake()
            if upcoming is not None:
                delay = min(delay, max((upcoming - self.runtime.clock.now()).total_seconds(), 0.0))
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._kicked.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
