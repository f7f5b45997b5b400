"""Submitting complaints through the public HTTP API, as phone staff's tools would: concurrently, each
one answered 201 with its id once it is stored."""

import asyncio
import time
from typing import Any

import httpx

PHONE_COMPLAINT: dict[str, Any] = {"channel": "phone", "heard_by": "tanaka", "subject": "待合室が寒い"}


def submit(base_url: str, count: int, *, connections: int = 8) -> tuple[set[str], float]:
    """POST ``count`` complaints over ``connections`` connections; the ids and the seconds it took.
    Any answer but 201 fails the test: every submission must be taken."""
    return asyncio.run(_submit(base_url, count, connections))


async def _submit(base_url: str, count: int, connections: int) -> tuple[set[str], float]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    numbers = iter(range(count))
    ids: set[str] = set()

    async def sender(client: httpx.AsyncClient) -> None:
        for number in numbers:  # one shared iterator: each number is taken by one sender
            body = {**PHONE_COMPLAINT, "body": f"complaint {number}"}
            response = await client.post("/api/complaints", json=body)
            assert response.status_code == 201, f"complaint {number}: {response.status_code} {response.text}"
            ids.add(response.json()["id"])

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(sender(client) for _ in range(connections)))
    return ids, time.monotonic() - started
