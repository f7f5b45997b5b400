"""What every route needs from the running system, handed over through FastAPI's app state."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from flows.runtime import Runtime


@dataclass(frozen=True)
class WebContext:
    runtime: Runtime
    kick: Callable[[], None]  # tell the scheduler something was recorded (thread-safe)
    mail_store: Path | None


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.context
    return context
