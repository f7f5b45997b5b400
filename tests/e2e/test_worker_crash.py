"""Fault test: the worker is killed with SIGKILL while a deadline is pending, and restarted after
the deadline passed. The violation must be recorded once and its escalation emailed once.

Real processes and real seconds (an 8-second deadline): a Prefect server, a `complaintflow worker`
subprocess, SQLite on disk and an aiosmtpd sink.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from flows.clock import SystemClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.registry import PolicyRegistry
from models.complaint import Channel
from models.db import make_engine, make_sessions, migrate
from models.tables import ViolationRow
from notifiers.outbound.sink import MailSink
from tests.factories import REPO

FAST = REPO / "tests" / "e2e" / "policies" / "fast.yaml"


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli.main import main; main()", "worker"],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    _wait(lambda: "worker ready" in log.read_text(errors="replace"), 60, f"worker start (see {log})")
    return process


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_deadline_passing_while_the_worker_is_dead_is_enforced_once(
    prefect_api: str, tmp_path: Path, sink: MailSink
) -> None:
    url = f"sqlite:///{tmp_path / 'cf.db'}"
    migrate(url)
    sessions = make_sessions(make_engine(url))
    registry = PolicyRegistry(sessions)
    registry.activate(FAST)
    env = {
        **os.environ,
        "COMPLAINTFLOW_DEV": "1",
        "COMPLAINTFLOW_DATA_DIR": str(tmp_path / "var"),
        "COMPLAINTFLOW_DATABASE_URL": url,
        "COMPLAINTFLOW_POLICY_PATH": str(FAST),
        "COMPLAINTFLOW_SMTP_PORT": str(sink.port),
        "COMPLAINTFLOW_PREFECT_API_URL": prefect_api,
        "COMPLAINTFLOW_SCHEDULER_POLL_SECONDS": "0.2",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
    log = tmp_path / "worker.log"
    worker = _start_worker(env, log)
    complaint = accept_complaint(
        sessions, registry, SystemClock(), NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    )
    received = datetime.now(UTC)
    _wait(
        lambda: any("tanaka@keieikai.example" in m.envelope_to for m in sink.messages()),
        30,
        "the request email",
    )

    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert (datetime.now(UTC) - received).total_seconds() < 8, "the worker was killed after the deadline"
    _wait(lambda: (datetime.now(UTC) - received).total_seconds() > 9, 15, "the deadline to pass")
    with sessions() as session:
        assert session.scalars(select(ViolationRow)).all() == []  # nobody was up to notice

    worker = _start_worker(env, log)
    try:
        _wait(
            lambda: any("sato@keieikai.example" in m.envelope_to for m in sink.messages()),
            30,
            "the escalation",
        )
        time.sleep(2)  # several more scheduler ticks: nothing may be recorded or sent twice
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    with sessions() as session:
        violations = [
            (v.complaint_id, v.step, v.actor, v.penalty) for v in session.scalars(select(ViolationRow))
        ]
    assert violations == [(complaint, "report_to_supervisor", "tanaka", "bonus_half_cut")]
    kinds = sorted(str(m.message["X-Complaintflow-Kind"]) for m in sink.messages())
    assert kinds == ["escalation", "request"]
    assert worker.returncode == 0, log.read_text(errors="replace")[-2000:]
