"""What every route needs from the running system, handed over through FastAPI's app state."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anyio import CapacityLimiter
from fastapi import Request

from flows.runtime import Runtime


@dataclass(frozen=True)
class WebContext:
    runtime: Runtime
    kick: Callable[[], None]  # tell the scheduler something was recorded (thread-safe)
    mail_store: Path | None
    # Submissions storing at once. Each holds the event chain's lock for a few statements and needs
    # the GIL between them: with 16 threads at it the holder waits its turn behind the others and
    # throughput fell from ~120 to ~100 per second on PostgreSQL. Four keep the chain busy.
    intake_slots: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(4))


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context
