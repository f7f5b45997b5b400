"""Time to compute the dashboard over 100,000 obligations in SQLite, against a same-run baseline.

Run: .venv/bin/python -m bench.dashboard_queries [--obligations 100000] [--runs 20]
Fills a fresh SQLite database in bulk (rows inserted directly, not through the engine): complaints
spread over the last 100 days in four departments' hands under the clinic policy, five obligations
each (about 70 % met, 15 % late, 10 % missed, 5 % not yet due), a violation for every late or missed
one, and the received, step-done and resolved events the response and resolution times read. Then
times, in a fresh session each run: two baselines (``SELECT count(*) FROM obligations``, and one
grouped scan of every obligation, the least any aggregate over them costs) and the whole dashboard
for the default period (the last 90 days), as the page computes it. Prints one JSON object with
medians and p99 in milliseconds, the first (cold) dashboard run on its own, and the machine's load
average at the end (timings on a busy machine are slower across the board).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench import audit_keys as bench_keys
from flows.dashboard.report import build_dashboard, period_for
from flows.registry import Pinned, PolicyRegistry
from models.db import make_engine, make_sessions, migrate
from models.tables import ComplaintRow, EventRow, ObligationRow, ViolationRow

POLICY = Path(__file__).resolve().parent.parent / "policies" / "keieikai_clinic.yaml"
NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
CHUNK = 10_000
HEARERS = (("tanaka", "sato"), ("suzuki", "kobayashi"), ("takahashi", "kato"), ("watanabe", "kobayashi"))
STEPS = (  # step, owner (0: first hearer, 1: supervisor), minutes allowed
    ("report_to_supervisor", 0, 30),
    ("first_hearer_notifies_top", 0, 60),
    ("supervisor_consults_top", 1, 60),
    ("apology_call", 1, 120),
    ("incident_report", 1, 3 * 24 * 60),
)


# One status per roll of 0..99: 70 % met, 15 % late, 10 % missed, 5 % met; 5 % of incident reports open.
_ROLLS = ("met",) * 70 + ("late",) * 15 + ("overdue",) * 10 + ("met",) * 5
_OPEN_INCIDENT_REPORTS = 5


def _outcome(n: int, step: int) -> str:
    roll = (n * 7919 + step * 104729) % 100
    if step == len(STEPS) - 1 and roll < _OPEN_INCIDENT_REPORTS:
        return "open"
    return _ROLLS[roll]


def _complaint(n: int, count: int, pinned: Pinned) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    received = NOW - timedelta(minutes=(n * 100 * 24 * 60) // count)
    hearer, boss = HEARERS[n % len(HEARERS)]
    complaint_id = f"2026-{n:06d}"
    row = {
        "id": complaint_id,
        "seq": 2026000000 + n,
        "policy_version": pinned.policy.version,
        "org_hash": pinned.org_hash,
        "channel": "phone",
        "received_at": received,
        "status": "resolved" if n % 3 else "open",
    }
    obligations = []
    for index, (step, owner, minutes) in enumerate(STEPS):
        due = received + timedelta(minutes=minutes)
        status = _outcome(n, index)
        done = {"met": due - timedelta(minutes=5), "late": due + timedelta(minutes=20)}.get(status)
        obligations.append(
            {
                "key": f"{complaint_id}/{step}/0/0",
                "complaint_id": complaint_id,
                "step": step,
                "occurrence": 0,
                "actor": (hearer, boss)[owner],
                "started_at": received,
                "due_at": due,
                "status": status,
                "done_at": done,
                "updated_at": NOW,
            }
        )
    return row, obligations


def _events(complaint: dict[str, Any], obligations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def event(kind: str, at: datetime) -> dict[str, Any]:
        return {
            "complaint_id": complaint["id"],
            "type": kind,
            "at": at,
            "payload": "{}",
            "recorded_at": at,
            "prev_hash": "",
            "hash": "",
        }

    found = [event("complaint_received", complaint["received_at"])]
    found += [event("step_done", o["done_at"]) for o in obligations if o["done_at"] is not None]
    if complaint["status"] == "resolved":
        found.append(event("resolved", complaint["received_at"] + timedelta(hours=5)))
    return found


def _violations(obligations: list[dict[str, Any]], pinned: Pinned) -> list[dict[str, Any]]:
    return [
        {
            "key": o["key"],
            "complaint_id": o["complaint_id"],
            "step": o["step"],
            "occurrence": 0,
            "actor": o["actor"],
            "due_at": o["due_at"],
            "detected_at": o["due_at"],
            "penalty": None,
            "policy_version": pinned.policy.version,
            "status": "recorded",
        }
        for o in obligations
        if o["status"] in {"late", "overdue"}
    ]


def fill(sessions: sessionmaker[Session], pinned: Pinned, obligations: int) -> None:
    count = obligations // len(STEPS)
    for offset in range(1, count + 1, CHUNK):
        rows: dict[type[Any], list[dict[str, Any]]] = {
            ComplaintRow: [],
            ObligationRow: [],
            EventRow: [],
            ViolationRow: [],
        }
        for n in range(offset, min(offset + CHUNK, count + 1)):
            complaint, owed = _complaint(n, count, pinned)
            rows[ComplaintRow].append(complaint)
            rows[ObligationRow] += owed
            rows[EventRow] += _events(complaint, owed)
            rows[ViolationRow] += _violations(owed, pinned)
        with sessions.begin() as session:
            for table, batch in rows.items():
                session.execute(insert(table), batch)


def _timed(runs: int, work: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--obligations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='cf-dashboard-')) / 'dashboard.db'}"
    migrate(url)
    sessions = make_sessions(make_engine(url))
    bench_keys.install_defaults()
    registry = PolicyRegistry(sessions)
    pinned = registry.activate(POLICY)
    started = time.perf_counter()
    fill(sessions, pinned, args.obligations)
    filled = time.perf_counter() - started
    period = period_for(NOW, pinned.policy.calendar.zone)

    def baseline() -> object:
        with sessions() as session:
            return session.scalar(select(func.count()).select_from(ObligationRow))

    def one_scan() -> object:
        with sessions() as session:
            grouped = select(ObligationRow.status, func.count()).group_by(ObligationRow.status)
            return session.execute(grouped).all()

    def dashboard() -> object:
        with sessions() as session:
            return build_dashboard(session, registry, period, NOW)

    cold = _timed(1, dashboard)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(ObligationRow))
    result = {
        "benchmark": "dashboard_queries",
        "database": "sqlite",
        "obligations": stored,
        "runs": args.runs,
        "fill_seconds": round(filled, 1),
        "baseline_count_obligations": _summary(_timed(args.runs, baseline)),
        "baseline_group_obligations_by_status": _summary(_timed(args.runs, one_scan)),
        "dashboard_cold_ms": round(cold[0] * 1000, 1),
        "dashboard": _summary(_timed(args.runs, dashboard)),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
