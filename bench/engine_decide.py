"""How long the pure engine takes to decide one complaint, against a baseline of merely indexing its events.

Run: .venv/bin/python -m bench.engine_decide [--repeat N]
Prints one JSON object: per history size, median and p99 in microseconds for ``decide`` (the Japanese
clinic policy, 5 steps) and for the baseline ``facts_of`` (sorting and indexing the same events).
"""

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from models.complaint import Channel
from models.events import ComplaintReceived, Event, StepDone
from policies.api import prepare
from policies.engine.decide import decide
from policies.engine.facts import facts_of

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def history(extra_events: int) -> list[Event]:
    events: list[Event] = [
        ComplaintReceived(complaint="C-1", at=T0, channel=Channel.PHONE, heard_by="tanaka")
    ]
    for i in range(extra_events):
        events.append(
            StepDone(complaint="C-1", at=T0 + timedelta(minutes=i), step="apology_call", by="suzuki", to="x")
        )
    return events


def measure(function: Callable[[], object], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        function()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {
        "median_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    ready = prepare(REPO / "policies" / "keieikai_clinic.yaml")
    now = T0 + timedelta(hours=8)
    results = []
    for size in (0, 10, 100):
        events = history(size)

        def engine(events: list[Event] = events) -> object:
            return decide(ready.policy, ready.org, events, now)

        def baseline(events: list[Event] = events) -> object:
            return facts_of(events)

        row = {"events": size + 1, "decide": measure(engine, args.repeat)}
        results.append({**row, "baseline_facts_of": measure(baseline, args.repeat)})
    print(json.dumps({"benchmark": "engine_decide", "policy": ready.policy.id, "results": results}, indent=2))


if __name__ == "__main__":
    main()
