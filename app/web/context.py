"""What every route needs from the running system, handed over through FastAPI's app state."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from anyio import CapacityLimiter, to_thread
from fastapi import Request

from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Attachment


@dataclass(frozen=True)
class WebContext:
    runtime: Runtime
    kick: Callable[[], None]  # tell the scheduler something was recorded (thread-safe)
    mail_store: Path | None
    # Submissions (API and forms) storing at once. Each holds the event chain's lock for a few
    # statements and needs the GIL between them: with 16 threads at it the holder waits its turn
    # behind the others and throughput fell from ~120 to ~100 per second on PostgreSQL. Four keep
    # the chain busy.
    intake_slots: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(4))

    async def accept(
        self, new: NewComplaint, attachments: Sequence[Attachment] = (), *, recorded_by: str | None = None
    ) -> str:
        """Store a submitted complaint (API or form) in a worker thread, then wake the scheduler.

        ``recorded_by`` is the signed-in account that entered it; None for a complainant's own."""
        runtime = self.runtime
        store = partial(accept_complaint, recorded_by=recorded_by)
        complaint_id = await to_thread.run_sync(
            store,
            runtime.sessions,
            runtime.registry,
            runtime.clock,
            new,
            attachments,
            limiter=self.intake_slots,
        )
        self.kick()
        return complaint_id


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context
