"""Submitting complaints through the public HTTP API, as phone staff's tools would: concurrently, each
one answered 201 with its id once it is stored. Who heard a complaint on the phone is a staff-only
fact, so every request carries a staff account's API token (``Stack.token``).

The client is the standard library's ``http.client`` on keep-alive connections, one thread each: it
costs ~0.3 ms of CPU per request where httpx cost ~3 ms, and the client shares the two cores with
the system under test, so a heavy client would slow the burst it measures.
"""

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

PHONE_COMPLAINT: dict[str, Any] = {"channel": "phone", "heard_by": "tanaka", "subject": "待合室が寒い"}
CREATED = 201


def submit(base_url: str, count: int, *, token: str, connections: int = 8) -> tuple[set[str], float]:
    """POST ``count`` complaints over ``connections`` connections as the staff account of the API
    ``token``; the ids and the seconds it took. Any answer but 201 fails the test: every submission
    must be taken."""
    address = urlsplit(base_url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    numbers = iter(range(count))
    taking = threading.Lock()
    ids: set[str] = set()

    def sender() -> None:
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
        try:
            while True:
                with taking:  # one shared iterator: each number is taken by one sender
                    number = next(numbers, None)
                if number is None:
                    return
                ids.add(_post(connection, number, headers))
        finally:
            connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        for sent in [pool.submit(sender) for _ in range(connections)]:
            sent.result()  # re-raises a sender's failure
    return ids, time.monotonic() - started


def _post(connection: http.client.HTTPConnection, number: int, headers: dict[str, str]) -> str:
    body = json.dumps({**PHONE_COMPLAINT, "body": f"complaint {number}"}).encode()
    connection.request("POST", "/api/complaints", body, headers)
    response = connection.getresponse()
    answer = response.read()
    assert response.status == CREATED, f"complaint {number}: {response.status} {answer!r}"
    complaint_id: str = json.loads(answer)["id"]
    return complaint_id
