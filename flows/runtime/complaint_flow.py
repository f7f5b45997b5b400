"""The Prefect flow each policy compiles into: one run carries out the decisions for the complaints
that became due together.

A run for one complaint is named ``complaint-<id>``; a run for several is named after the first and
how many more. Every run is tagged ``complaint:<id>`` for each complaint it handled, plus the policy,
its version and the worker process, so an operator finds a complaint's whole history in the Prefect UI
by its tag.

Why batches: a flow run costs ~0.18–0.25 s of Prefect API calls on this machine however little it
does, and the SQLite-backed server answers 503 when several runs write at once. One run per complaint
caps routing at a few complaints a second and made first emails wait seconds under load; one run in
flight per policy, taking everything that became due while the previous one ran, keeps the server
uncontended and the per-complaint cost small (see README, Performance). A run records the pure
engine's decisions and sends what that queued; both are idempotent (keyed records, claimed outbox
rows), so a retried or repeated run changes nothing. They are not separate Prefect tasks: each task
costs several more API calls per run, which measured here doubled a run's cost.
"""

import asyncio
import os
import socket
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from prefect import Flow, tags
from prefect.runtime import flow_run

from flows.runtime.apply import process_complaint
from flows.runtime.assembly import current
from flows.runtime.outbox import drain

# Which process ran a flow run: with several workers, an operator (and the scale-out test) can tell.
WORKER = f"worker:{socket.gethostname()}:{os.getpid()}"


async def _handle(complaint_ids: list[str]) -> dict[str, datetime | None]:
    runtime = current()
    woken: dict[str, datetime | None] = {}
    for complaint_id in complaint_ids:
        # The database work is synchronous; keep it off the event loop that serves other runs.
        woken[complaint_id] = await asyncio.to_thread(process_complaint, runtime, complaint_id)
        await drain(runtime, complaint_id)
    return woken


def run_name(complaint_ids: list[str]) -> str:
    first = complaint_ids[0] if complaint_ids else "none"
    more = len(complaint_ids) - 1
    return f"complaint-{first}" if more <= 0 else f"complaint-{first}-and-{more}-more"


def _run_name() -> str:
    ids = flow_run.parameters.get("complaint_ids", [])
    return run_name(list(ids))


ComplaintFlow = Flow[[list[str]], Coroutine[Any, Any, dict[str, datetime | None]]]
_flows: dict[str, ComplaintFlow] = {}


def flow_for(policy_id: str) -> ComplaintFlow:
    """The flow compiled for a policy: its runs group under the policy's name in the UI."""
    if policy_id not in _flows:
        _flows[policy_id] = Flow(
            _handle,
            name=f"policy-{policy_id}",
            flow_run_name=_run_name,
            persist_result=False,
            log_prints=False,
            retries=1,
            retry_delay_seconds=1,
        )
    return _flows[policy_id]


async def run_complaints(complaints: dict[str, str], policy_id: str) -> dict[str, datetime | None]:
    """One flow run for these complaints ({id: policy version}); returns each one's next wake-up."""
    labels = [f"complaint:{c}" for c in complaints]
    labels += [f"policy:{policy_id}", *sorted({f"version:{v}" for v in complaints.values()}), WORKER]
    with tags(*labels):
        result = await flow_for(policy_id)(list(complaints))
    return result if isinstance(result, dict) else {}


async def run_complaint(complaint_id: str, policy_id: str, version: str) -> datetime | None:
    """One flow run for a single complaint; returns the engine's next wake-up time."""
    return (await run_complaints({complaint_id: version}, policy_id)).get(complaint_id)
