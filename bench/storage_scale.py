"""Storage at scale: finding what is due among a million open obligations, and the runtime's memory
with 100,000 open complaints, on SQLite and PostgreSQL.

Run: .venv/bin/python -m bench.storage_scale [--complaints 100000] [--per-complaint 10] [--repeat 200]
Each database gets N genuine open complaints (a hash-chained ``complaint_received`` event each, pinned
to the benchmark policy) and N x per-complaint open obligations; 1% of each are due now.
  due_obligations: ``status = 'open' AND due_at <= now ORDER BY due_at LIMIT 200`` (the shape
    ``ix_obligations_status_due_at`` serves), with its query plan; baseline: the same query with the
    index switched off (SQLite ``NOT INDEXED``, PostgreSQL ``enable_indexscan/bitmapscan = off``).
  due_complaints: the scheduler's own claim query on ``complaints.wake_at``, with its plan.
  runtime_memory: peak RSS of a fresh process that builds the runtime on that database and enforces
    every due complaint (the engine, the records, the queued mail); baseline: the same on an empty one.
Prints one JSON object; times in ms.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from bench import audit_keys as bench_keys
from bench import postgres, preload
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime, build_runtime
from flows.settings import Settings
from models.db import make_engine
from models.tables import ComplaintRow

POLICY = Path(__file__).resolve().parent / "policies" / "latency.yaml"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
LIMIT = 200


def _runtime(database: str) -> Runtime:
    settings = Settings(
        secret_key=bench_keys.SECRET,
        audit_key=bench_keys.AUDIT_KEY,
        audit_signing_key=bench_keys.SIGNING_KEY,
        database_url=database,
        policy_path=POLICY,
        mail_from="bench@keieikai.example",
        smtp_port=9,  # nothing listens: queued mail stays queued, as with an SMTP outage
    )
    return build_runtime(bench_keys.installed(settings), FakeClock(NOW))


def _when(i: int, count: int) -> datetime:
    """1% due (in the past), the rest spread over the next 30 days."""
    if i % 100 == 0:
        return NOW - timedelta(minutes=1 + i % 50)
    return NOW + timedelta(seconds=30 * 86400 * i / count)


def _timed(engine: Engine, sql: str, repeat: int, setup: str | None = None) -> dict[str, float]:
    samples = []
    with engine.connect() as connection:
        if setup:
            connection.exec_driver_sql(setup)
        for _ in range(repeat):
            started = time.perf_counter()
            found = connection.execute(text(sql), {"now": NOW, "limit": LIMIT}).all()
            samples.append((time.perf_counter() - started) * 1000)
        if not found:
            raise SystemExit(f"nothing due found by: {sql}")
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[int(0.99 * len(ordered)) - 1], 3),
    }


def _plan(engine: Engine, sql: str) -> list[str]:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + sql), {"now": NOW, "limit": LIMIT}).all()
    return [str(r[-1]) for r in rows]


DUE_OBLIGATIONS = "SELECT key, complaint_id, due_at FROM obligations {hint} WHERE status = 'open' AND due_at <= :now ORDER BY due_at LIMIT :limit"  # noqa: E501
DUE_COMPLAINTS = (
    "SELECT id, policy_version FROM complaints WHERE wake_at <= :now ORDER BY wake_at LIMIT :limit"
)


def _lookups(engine: Engine, repeat: int) -> dict[str, Any]:
    sqlite = engine.dialect.name == "sqlite"
    indexed = DUE_OBLIGATIONS.format(hint="")
    unindexed = DUE_OBLIGATIONS.format(hint="NOT INDEXED" if sqlite else "")
    off = None if sqlite else "SET enable_indexscan = off; SET enable_bitmapscan = off"
    if not sqlite:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return {
        "due_obligations": _timed(engine, indexed, repeat) | {"plan": _plan(engine, indexed)},
        "due_obligations_baseline_no_index": _timed(engine, unindexed, max(5, repeat // 20), off),
        "due_complaints": _timed(engine, DUE_COMPLAINTS, repeat) | {"plan": _plan(engine, DUE_COMPLAINTS)},
    }


def memory_child(database: str) -> None:
    """Child process: build the runtime on ``database``, enforce everything due, print peak RSS."""
    import resource  # noqa: PLC0415 - only the child measures itself

    from flows.runtime.apply import process_complaint  # noqa: PLC0415

    runtime = _runtime(database)
    with runtime.sessions() as session:
        due = session.scalars(select(ComplaintRow.id).where(ComplaintRow.wake_at <= NOW)).all()
    started = time.perf_counter()
    for complaint_id in due:
        process_complaint(runtime, complaint_id)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": round(peak_mb, 1), "enforced": len(due), "seconds": round(seconds, 2)}))


def _memory(database: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - this script, as the measured child
        [sys.executable, "-m", "bench.storage_scale", "--memory-child", database],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run_backend(
    name: str, database: str, empty: str, *, complaints: int, per: int, repeat: int
) -> dict[str, Any]:
    baseline = _memory(empty)  # before filling: the same process on an empty database
    runtime = _runtime(database)
    started = time.perf_counter()
    with runtime.sessions.begin() as session:
        preload.open_complaints(session, runtime, complaints, NOW, _when)
        preload.open_obligations(session, complaints, complaints * per, NOW, _when)
    fill = time.perf_counter() - started
    engine = make_engine(database)
    result = {
        "database": name,
        "complaints": complaints,
        "obligations": complaints * per,
        "fill_s": round(fill, 1),
    }
    result |= _lookups(engine, repeat)
    result["runtime_memory"] = _memory(database)
    result["runtime_memory_baseline_empty"] = baseline
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--per-complaint", type=int, default=10, help="open obligations per complaint")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    folder = Path(tempfile.mkdtemp(prefix="cf-bench-storage-"))
    results = [
        run_backend("sqlite", f"sqlite:///{folder / 'full.db'}", f"sqlite:///{folder / 'empty.db'}",
                    complaints=args.complaints, per=args.per_complaint, repeat=args.repeat)
    ]  # fmt: skip
    with postgres.cluster() as server:
        results.append(
            run_backend("postgresql", postgres.database(server, "full"), postgres.database(server, "empty"),
                        complaints=args.complaints, per=args.per_complaint, repeat=args.repeat)
        )  # fmt: skip
    print(json.dumps({"benchmark": "storage_scale", "limit": LIMIT, "results": results}, indent=2))


if __name__ == "__main__":
    main()
