"""HTTP intake throughput: complaint submissions per second until p99 latency passes 100 ms.

Run: .venv/bin/python -m bench.intake_http [--seconds 8] [--postgres | --database postgresql+psycopg://...]
The web app (uvicorn, one process, as `serve` runs it) is started in a child process on a fresh
database; `wrk` (Debian package, installed by this script if missing and possible) drives
``POST /api/complaints`` with 1, 2, 4 ... 64 connections. The same-run baseline drives ``GET /healthz``
(the framework's floor: no database) the same way. Intake never waits on Prefect: the scheduler is not
running here, its cost is measured by bench.runtime_latency. Afterwards the complaints stored are
counted against the 201s wrk saw, so a lost submission shows as ``lost``. The submissions are phone
staff's (channel, who heard it): they carry the API token of a staff account created for the run.
Prints one JSON object: per connection count, requests/s and median/p99 latency in ms.
"""

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from app.prefect_server import free_port
from app.web.application import create_app
from bench import audit_keys as bench_keys
from bench import postgres
from bench.staff import staff_token
from flows.clock import SystemClock
from flows.runtime.assembly import build_runtime
from flows.settings import Settings
from models.tables import ComplaintRow

POLICY = Path(__file__).resolve().parent / "policies" / "latency.yaml"
CONNECTIONS = (1, 2, 4, 8, 16, 32, 64)
TARGET_P99_MS = 100.0
_POST = """wrk.method = "POST"
wrk.body = '{"channel":"phone","heard_by":"tanaka","subject":"bench","body":"The waiting room was cold."}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def _settings(database: str) -> Settings:
    return bench_keys.installed(
        Settings(
            secret_key=bench_keys.SECRET,
            audit_key=bench_keys.AUDIT_KEY,
            audit_signing_key=bench_keys.SIGNING_KEY,
            database_url=database,
            policy_path=POLICY,
            mail_from="bench@keieikai.example",
        )
    )


def serve(database: str, port: int) -> None:
    """Child process: the web app alone, as `serve` builds it."""
    runtime = build_runtime(_settings(database), SystemClock())
    uvicorn.run(create_app(runtime), port=port, log_level="warning", access_log=False)


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        apt = shutil.which("apt-get") or "/usr/bin/apt-get"
        subprocess.run([apt, "install", "-y", "-qq", "wrk"], check=True, capture_output=True)  # noqa: S603
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _run_wrk(wrk: str, url: str, connections: int, seconds: int, script: Path | None) -> dict[str, Any]:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    # wrk, with arguments built here
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "connections": connections,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "median_ms": round(latency["50"], 2),
        "p99_ms": round(latency["99"], 2),
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == httpx.codes.OK:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the web app did not start")


def _best(rows: list[dict[str, Any]]) -> float:
    within = [r["requests_per_s"] for r in rows if r["p99_ms"] <= TARGET_P99_MS and r["non_2xx"] == 0]
    return max(within, default=0.0)


def measure(database: str, seconds: int) -> dict[str, Any]:
    wrk = _wrk()
    # Before the server starts, so the token is there for its first request (building migrates).
    token = staff_token(build_runtime(_settings(database), SystemClock()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child = subprocess.Popen(  # noqa: S603 - this script, as the server child
        [sys.executable, "-m", "bench.intake_http", "--serve", database, "--port", str(port)]
    )
    script = Path(tempfile.mkdtemp(prefix="cf-wrk-")) / "post.lua"
    script.write_text(_POST % token)  # a token is URL-safe base64: nothing to escape in Lua
    try:
        _wait_up(url)
        intake = [_run_wrk(wrk, f"{url}/api/complaints", c, seconds, script) for c in CONNECTIONS]
        floor = [_run_wrk(wrk, f"{url}/healthz", c, seconds, None) for c in CONNECTIONS]
    finally:
        child.terminate()
        child.wait(timeout=30)
    runtime = build_runtime(_settings(database), SystemClock())
    with runtime.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(ComplaintRow)) or 0
    accepted = sum(r["requests"] - r["non_2xx"] for r in intake)
    return {
        "intake": intake,
        "baseline_healthz": floor,
        "best_requests_per_s_within_p99_100ms": _best(intake),
        "baseline_best_requests_per_s_within_p99_100ms": _best(floor),
        "accepted": accepted,
        "stored": stored,
        "lost": max(0, accepted - stored),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per connection count")
    parser.add_argument("--database", help="application database URL; default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster's database")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    with contextlib.ExitStack() as stack:
        database = args.database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='cf-intake-')) / 'bench.db'}"
        if args.postgres:
            database = postgres.database(stack.enter_context(postgres.cluster()), "intake")
        backend = "postgresql" if database.startswith("postgresql") else "sqlite"
        result = {"benchmark": "intake_http", "database": backend, "seconds_per_step": args.seconds}
        result |= measure(database, args.seconds)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
