"""Peak memory of exporting the violation log, with a million rows, against a same-run baseline.

Run: .venv/bin/python -m bench.violation_export_memory [--rows 1000000]
Fills a fresh SQLite database with ``--rows`` violations, then runs in a child process (a) the
baseline: the same CLI loading settings and opening the database, exporting nothing; (b) the real
``complaintflow violations export`` to /dev/null, as CSV and as JSON. Prints one JSON object with
each child's peak resident memory (ru_maxrss) and wall time.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench import audit_keys as bench_keys
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.registry import PolicyRegistry
from models.complaint import Channel
from models.db import make_engine, make_sessions, migrate
from models.tables import ViolationRow

POLICY = Path(__file__).resolve().parent.parent / "policies" / "keieikai_clinic.yaml"
CHUNK = 20_000


def fill(url: str, rows: int) -> None:
    migrate(url)
    sessions = make_sessions(make_engine(url))
    bench_keys.install_defaults()
    registry = PolicyRegistry(sessions)
    pinned = registry.activate(POLICY)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    complaint = accept_complaint(
        sessions, registry, FakeClock(start), NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    )
    with sessions.begin() as session:
        for offset in range(0, rows, CHUNK):
            batch = [
                {
                    "key": f"{complaint}/report_to_supervisor/{n}/tanaka",
                    "complaint_id": complaint,
                    "step": "report_to_supervisor",
                    "occurrence": n,
                    "actor": "tanaka",
                    "due_at": start + timedelta(seconds=n),
                    "detected_at": start + timedelta(seconds=n),
                    "penalty": "bonus_half_cut",
                    "policy_version": pinned.policy.version,
                }
                for n in range(offset, min(offset + CHUNK, rows))
            ]
            session.execute(insert(ViolationRow), batch)


def child(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run the CLI in a child process and report its own peak RSS.

    VmHWM from /proc, not getrusage: Linux carries ru_maxrss across fork and exec, so a child would
    report its parent's peak (this process just filled the database)."""
    code = (
        "import re, sys; from app.cli.main import main; sys.argv = ['complaintflow', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "status = open('/proc/self/status').read()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)"
    )
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own CLI
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.decode().strip().splitlines()[-1])
    return {"peak_mb": round(peak_kb / 1024, 1), "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cf-export-"))
    url = f"sqlite:///{folder / 'export.db'}"
    started = time.perf_counter()
    fill(url, args.rows)
    filled = time.perf_counter() - started
    env = {
        **os.environ,
        "COMPLAINTFLOW_DEV": "1",
        "COMPLAINTFLOW_DATA_DIR": str(folder),
        "COMPLAINTFLOW_DATABASE_URL": url,
    }
    result = {
        "benchmark": "violation_export_memory",
        "rows": args.rows,
        "fill_seconds": round(filled, 1),
        "baseline_no_export": child(["violations", "list", "--actor", "nobody"], env),
        "export_csv": child(["violations", "export", "--format", "csv"], env),
        "export_json": child(["violations", "export", "--format", "json"], env),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
