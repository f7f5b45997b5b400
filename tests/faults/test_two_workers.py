"""Scale-out mode on one machine: PostgreSQL for the application database and for a Prefect server, two
`complaintflow worker` processes and the web app alone. Complaints arrive over the HTTP API for a few
seconds; both workers process some of them, and each deadline is enforced once (one violation, one
escalation) with every email sent once.
"""

import time
from pathlib import Path

import pytest

from notifiers.outbound.sink import MailSink
from tests.faults.accounting import Ledger
from tests.faults.cluster import new_database
from tests.faults.processes import wait_for
from tests.faults.stack import running, worker_tag
from tests.faults.submit import submit

pytestmark = pytest.mark.faults

WAVES, PER_WAVE = 8, 5  # 40 complaints arriving over a few seconds: both workers' polls find some


def test_two_workers_share_complaints_and_enforce_every_deadline_once(
    postgres_url: str, prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    database = new_database(postgres_url, "scaleout")
    ledger = Ledger(database, sink)
    with running(tmp_path, database, prefect_api, sink) as stack:
        first, second = stack.start("worker-1", "worker-2")
        accepted: set[str] = set()
        for _ in range(WAVES):
            accepted |= submit(stack.web_url, PER_WAVE, token=stack.token)[0]
            time.sleep(0.4)
        assert len(accepted) == WAVES * PER_WAVE
        wait_for(lambda: ledger.settled(2 * len(accepted)), 120, "every request and escalation")
        time.sleep(2)  # settle: more scheduler ticks on both workers must record and send nothing more
        exits = stack.stop()

    ledger.assert_exactly_once(accepted)
    tags = {tag for run in stack.flow_runs("faults-short") for tag in run.tags}
    assert {worker_tag(first.pid), worker_tag(second.pid)} <= tags, sorted(t for t in tags if "worker" in t)
    # SIGTERM stops a worker cleanly (uvicorn, in the web app, re-raises the signal: not checked).
    assert (exits["worker-1"], exits["worker-2"]) == (0, 0), exits
