"""Latency and throughput of the runtime, with Prefect and without (the same-run baseline).

Run: .venv/bin/python -m bench.runtime_latency [--seconds 12] [--rates 1,5] [--postgres]
        [--open-complaints 1000] [--open-obligations 100000]
For each mode (``prefect``: the scheduler hands complaints to Prefect flow runs on a local Prefect
server; ``direct``: the same scheduler calls the engine and SMTP itself) and each rate, complaints are
POSTed to the real web app (uvicorn) at that rate and measured:
  first_email: HTTP submission -> the first email accepted by the SMTP sink (aiosmtpd, loopback);
  routed_per_s: complaints / (last first email - first submission): the rate routing sustained;
  violation_lag: a 3-second deadline's due time -> the violation row's detected_at.
The embedded default is SQLite for the application and for the Prefect server; ``--postgres`` starts
a throwaway PostgreSQL cluster and puts both databases there (scale-out mode's storage). The
``--open-*`` options preload each database with that many open complaints and open obligations,
waking and due over the next 30 days, so the scheduler works among them.
Prints one JSON object with medians and p99 in milliseconds.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_LOGGING_LEVEL,
    PREFECT_LOGGING_TO_API_ENABLED,
    temporary_settings,
)
from sqlalchemy import select

from app.prefect_server import free_port, start_prefect_server
from app.serve import EmbeddedServer
from app.web.application import create_app
from bench import audit_keys as bench_keys
from bench import postgres, preload
from bench.staff import bearer, staff_token
from flows.clock import SystemClock
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime, build_runtime, install
from flows.runtime.outbox import drain
from flows.runtime.scheduler import Scheduler
from flows.settings import Settings
from models.tables import ViolationRow
from notifiers.outbound.sink import MailSink

POLICY = Path(__file__).resolve().parent / "policies" / "latency.yaml"


class DirectScheduler(Scheduler):
    """The baseline: the same loop, calling the engine and SMTP without a Prefect flow run."""

    async def _run(self, complaint_id: str, version: str) -> None:
        self._running.add(complaint_id)
        try:
            async with self._slots:
                await asyncio.to_thread(process_complaint, self.runtime, complaint_id)
                await drain(self.runtime, complaint_id)
        finally:
            self._running.discard(complaint_id)


@dataclass(frozen=True)
class Setup:
    """Where each measurement's databases live, and what they hold before it starts."""

    postgres: str | None  # the cluster's maintenance URL; None: SQLite files
    open_complaints: int
    open_obligations: int

    def database(self, folder: Path, name: str) -> str:
        if self.postgres is None:
            return f"sqlite:///{folder / 'bench.db'}"
        return postgres.database(self.postgres, name)

    def preload(self, runtime: Runtime) -> None:
        if not self.open_complaints:
            return
        now = datetime.now(UTC)

        def later(i: int, count: int) -> datetime:
            return now + timedelta(hours=1) + timedelta(seconds=30 * 86400 * i / count)

        with runtime.sessions.begin() as session:
            preload.open_complaints(session, runtime, self.open_complaints, now, later)
            preload.open_obligations(session, self.open_complaints, self.open_obligations, now, later)


def _runtime(database: str, sink: MailSink) -> Runtime:
    settings = Settings(
        secret_key=bench_keys.SECRET,
        audit_key=bench_keys.AUDIT_KEY,
        audit_signing_key=bench_keys.SIGNING_KEY,
        database_url=database,
        policy_path=POLICY,
        smtp_port=sink.port,
        mail_from="bench@keieikai.example",
    )
    return install(build_runtime(bench_keys.installed(settings), SystemClock()))


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered), 1), "p99_ms": round(p99, 1)}


async def _measure(mode: str, rate: float, seconds: float, setup: Setup) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"cf-bench-{mode}-"))
    sink = MailSink(store=folder / "mail")
    sink.start()
    runtime = _runtime(setup.database(folder, f"{mode}_{rate:g}".replace(".", "_")), sink)
    await asyncio.to_thread(setup.preload, runtime)
    scheduler = (Scheduler if mode == "prefect" else DirectScheduler)(
        runtime, poll_seconds=0.5, concurrency=4
    )
    port = free_port()
    server = EmbeddedServer(
        uvicorn.Config(create_app(runtime, kick=scheduler.kick), port=port, log_level="warning")
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(scheduler.run_forever(stop)), asyncio.create_task(server.serve())]
    submitted: dict[str, datetime] = {}
    # Who heard it on the phone is for staff to say: the submissions carry a staff account's token.
    headers = bearer(await asyncio.to_thread(staff_token, runtime))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
        while not server.started:
            await asyncio.sleep(0.05)
        start = time.monotonic()
        count = int(rate * seconds)
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent_at = datetime.now(UTC)
            answer = await http.post("/api/complaints", json={"channel": "phone", "heard_by": "tanaka"})
            submitted[answer.json()["id"]] = sent_at
    await asyncio.sleep(6)  # the last deadlines (3 s) pass and are recorded
    stop.set()
    server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    sink.stop()
    first: dict[str, datetime] = {}
    for mail in sink.messages():
        complaint = str(mail.message["X-Complaintflow-Complaint"])
        first[complaint] = min(first.get(complaint, mail.received_at), mail.received_at)
    with runtime.sessions() as session:
        lags = [
            (v.detected_at - v.due_at).total_seconds() * 1000 for v in session.scalars(select(ViolationRow))
        ]
    routed = [first[c] for c in submitted if c in first]
    span = (max(routed) - min(submitted.values())).total_seconds() if routed else 0.0
    return {
        "mode": mode,
        "rate_per_s": rate,
        "complaints": len(submitted),
        "first_email": _stats(
            [(first[c] - t).total_seconds() * 1000 for c, t in submitted.items() if c in first]
        ),
        "routed_per_s": round(len(routed) / span, 1) if span else None,
        "emails_missing": len(set(submitted) - set(first)),
        "violation_lag": _stats(lags),
        "violations_missing": len(submitted) - len(lags),
    }


async def main_async(seconds: float, rates: list[float], setup: Setup) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="cf-bench-prefect-"))
    prefect_database = None
    if setup.postgres is not None:
        prefect_database = postgres.database(setup.postgres, "prefect").replace("+psycopg", "+asyncpg")
    prefect = await asyncio.to_thread(start_prefect_server, home, free_port(), prefect_database)
    results = []
    try:
        updates = {
            PREFECT_API_URL: prefect.url,
            PREFECT_LOGGING_LEVEL: "WARNING",
            PREFECT_LOGGING_TO_API_ENABLED: False,
        }
        with temporary_settings(updates=updates):
            for rate in rates:
                for mode in ("prefect", "direct"):
                    results.append(await _measure(mode, rate, seconds, setup))
    finally:
        prefect.stop()
    return {
        "benchmark": "runtime_latency",
        "deadline_s": 3,
        "databases": "postgresql" if setup.postgres else "sqlite",
        "open_complaints": setup.open_complaints,
        "open_obligations": setup.open_obligations,
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=12.0, help="how long to submit at each rate")
    parser.add_argument("--rates", default="1,5", help="complaints per second, comma-separated")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL for the app and Prefect")
    parser.add_argument("--open-complaints", type=int, default=0, help="open complaints preloaded")
    parser.add_argument("--open-obligations", type=int, default=0, help="open obligations preloaded")
    args = parser.parse_args()
    if args.open_obligations and not args.open_complaints:
        parser.error("--open-obligations needs --open-complaints to hang them on")
    logging.getLogger("prefect").setLevel(logging.WARNING)  # as `serve` runs it: per-run INFO lines cost
    rates = [float(r) for r in args.rates.split(",")]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(postgres.cluster()) if args.postgres else None
        setup = Setup(server, args.open_complaints, args.open_obligations)
        print(json.dumps(asyncio.run(main_async(args.seconds, rates, setup)), indent=2))


if __name__ == "__main__":
    main()
