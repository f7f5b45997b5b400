"""The Prefect flow each policy compiles into: one run per wake-up of a complaint.

A run is named ``complaint-<id>`` and tagged with the complaint, the policy and its version, so an
operator finds a complaint's whole history in the Prefect UI. Its two tasks carry out the pure
engine's decisions (``decide-and-record``) and send what that queued (``send-email``); both are
idempotent, so Prefect's retries are safe.
"""

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from prefect import Flow, tags, task
from prefect.cache_policies import NO_CACHE

from flows.apply import process_complaint
from flows.outbox import drain
from flows.runtime import current


@task(name="decide-and-record", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE, persist_result=False)
async def decide_and_record(complaint_id: str) -> datetime | None:
    # The database work is synchronous; keep it off the event loop that serves other runs.
    return await asyncio.to_thread(process_complaint, current(), complaint_id)


@task(name="send-email", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE, persist_result=False)
async def send_email(complaint_id: str) -> int:
    return await drain(current(), complaint_id)


async def _handle(complaint_id: str) -> datetime | None:
    wake_at = await decide_and_record(complaint_id)
    await send_email(complaint_id)
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
            retries=0,
        )
    return _flows[policy_id]


async def run_complaint(complaint_id: str, policy_id: str, version: str) -> datetime | None:
    """One flow run for the complaint; returns the engine's next wake-up time."""
    with tags(f"complaint:{complaint_id}", f"policy:{policy_id}", f"version:{version}"):
        result = await flow_for(policy_id)(complaint_id)
    return result if isinstance(result, datetime) else None
