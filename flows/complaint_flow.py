"""The Prefect flow each policy compiles into: one run per wake-up of a complaint.

A run is named ``complaint-<id>`` and tagged with the complaint, the policy and its version, so an
operator finds a complaint's whole history in the Prefect UI. The run carries out the pure engine's
decisions and sends what that queued; both steps are idempotent (keyed records, claimed outbox
rows), so a retried or repeated run changes nothing. They are not separate Prefect tasks: each task
costs several more API calls and events per run, and measured here that doubled a run's cost.
"""

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from prefect import Flow, tags

from flows.apply import process_complaint
from flows.outbox import drain
from flows.runtime import current


async def _handle(complaint_id: str) -> datetime | None:
    runtime = current()
    # The database work is synchronous; keep it off the event loop that serves other runs.
    wake_at = await asyncio.to_thread(process_complaint, runtime, complaint_id)
    await drain(runtime, complaint_id)
    return wake_at


ComplaintFlow = Flow[[str], Coroutine[Any, Any, datetime | None]]
_flows: dict[str, ComplaintFlow] = {}


def flow_for(policy_id: str) -> ComplaintFlow:
    """The flow compiled for a policy: its runs group under the policy's name in the UI."""
    if policy_id not in _flows:
        _flows[policy_id] = Flow(
            _handle,
            name=f"policy-{policy_id}",
            flow_run_name="complaint-{complaint_id}",
            persist_result=False,
            log_prints=False,
            retries=1,
            retry_delay_seconds=1,
        )
    return _flows[policy_id]


async def run_complaint(complaint_id: str, policy_id: str, version: str) -> datetime | None:
    """One flow run for the complaint; returns the engine's next wake-up time."""
    with tags(f"complaint:{complaint_id}", f"policy:{policy_id}", f"version:{version}"):
        result = await flow_for(policy_id)(complaint_id)
    return result if isinstance(result, datetime) else None
