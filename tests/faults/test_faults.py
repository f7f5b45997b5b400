"""Fault tests: each runs the system as separate processes (web app, `complaintflow worker`s, a Prefect
server, PostgreSQL or SQLite, an SMTP server), breaks one part for real and then counts, from the
database and from what the SMTP server received, that every accepted complaint is stored, every due
violation recorded once and every email sent once; and then that the invariant ``audit verify``
checks holds (no obligation past due without its violation, no complaint owing work without a
``wake_at``: ``Ledger.assert_enforced``).

Databases: the SMTP outage runs on SQLite (the embedded default: one worker); the others run on
PostgreSQL, as scale-out mode does, each on a fresh database; the database restart on a cluster of its
own so that the suite's shared cluster is not disturbed. Deadlines are 4 real seconds (short.yaml).
"""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.schemas.objects import FlowRun

from notifiers.outbound.sink import MailSink
from tests.factories import REPO
from tests.faults.accounting import Ledger
from tests.faults.cluster import Cluster, new_database
from tests.faults.conftest import PrefectService
from tests.faults.processes import wait_for
from tests.faults.stack import CALM, Stack, running, worker_tag
from tests.faults.submit import submit

pytestmark = pytest.mark.faults

ARTIFACTS = REPO / "artifacts"  # where the browser tests put their screenshots
SETTLE = 2.0  # seconds of further scheduler ticks after the last email: nothing more may happen
MAIL_WAIT = 120.0  # generous: other test processes may be sharing the two cores


def _finish(stack: Stack, ledger: Ledger, emails: int) -> dict[str, int | None]:
    wait_for(lambda: ledger.settled(emails), MAIL_WAIT, f"{emails} emails sent and recorded")
    time.sleep(SETTLE)
    return stack.stop()


def test_smtp_down_then_up_delivers_every_email_once(
    prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'complaintflow.db'}"
    ledger = Ledger(database, sink)
    with running(tmp_path, database, prefect_api, sink) as stack:
        stack.start("worker")
        sink.stop()
        accepted, _ = submit(stack.web_url, 10, token=stack.token)
        # Deadlines pass while the server is down: violations are recorded, every email has failed
        # at least once and waits in the outbox.
        wait_for(lambda: ledger.attempted() == 20, 60, "requests and escalations failing")
        assert sum(ledger.stored().violations.values()) == 10
        assert sink.messages() == []
        sink.start()
        exits = _finish(stack, ledger, 20)
    ledger.assert_exactly_once(accepted)
    assert exits["worker"] == 0


def test_prefect_server_killed_and_restarted(
    postgres_url: str, prefect: PrefectService, prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    database = new_database(postgres_url, "prefect_killed")
    ledger = Ledger(database, sink)
    try:
        with running(tmp_path, database, prefect_api, sink) as stack:
            stack.start("worker-1", "worker-2")
            before, _ = submit(stack.web_url, 10, token=stack.token)
            wait_for(lambda: len(sink.messages()) >= 10, 60, "the first requests")
            prefect.kill()
            during, _ = submit(stack.web_url, 10, token=stack.token)
            # Enforcement does not wait on Prefect: these deadlines pass and are recorded while it is down.
            wait_for(lambda: len(ledger.enforcement_lags(during)) == 10, 60, "violations without Prefect")
            assert not prefect.running()
            assert max(ledger.enforcement_lags(during)) < timedelta(seconds=3)
            prefect.start()
            after, _ = submit(stack.web_url, 10, token=stack.token)
            exits = _finish(stack, ledger, 60)
    finally:
        if not prefect.running():
            prefect.start()  # the next tests share it
    ledger.assert_exactly_once(before | during | after)
    assert (exits["worker-1"], exits["worker-2"]) == (0, 0), exits
    # Runs resumed on the restarted server: the complaints that came after it have theirs.
    assert after <= _complaints_in(stack.flow_runs("faults-short"))


def test_a_worker_killed_mid_flow(
    postgres_url: str, prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    database = new_database(postgres_url, "worker_killed")
    ledger = Ledger(database, sink)
    with running(tmp_path, database, prefect_api, sink) as stack:
        workers = {worker_tag(child.pid): child for child in stack.start("worker-1", "worker-2")}
        accepted, _ = submit(stack.web_url, 30, token=stack.token)
        busy: list[FlowRun] = []

        def several_in_flight() -> bool:
            busy[:] = [
                r for r in stack.flow_runs("faults-short", running=True) if len(_complaints_in([r])) > 1
            ]
            return bool(busy)

        wait_for(several_in_flight, 60, "a flow run with several complaints in flight")
        victim = workers[next(tag for tag in busy[0].tags if tag.startswith("worker:"))]
        victim.kill()
        in_doubt = frozenset(ledger.in_doubt())
        in_flight = len(_complaints_in(busy[:1]))
        print(f"killed {victim.name} running {in_flight} complaints; {len(in_doubt)} emails in doubt")
        victim.restart()  # the other worker takes over meanwhile; the restarted one must redo nothing
        exits = _finish(stack, ledger, 60)
    ledger.assert_exactly_once(accepted, in_doubt=in_doubt)
    assert (exits["worker-1"], exits["worker-2"]) == (0, 0), exits


def test_the_database_restarted_under_running_workers(
    prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    cluster = Cluster()
    try:
        database = cluster.start()
        ledger = Ledger(database, sink)
        with running(tmp_path, database, prefect_api, sink) as stack:
            workers = stack.start("worker-1", "worker-2")
            first, _ = submit(stack.web_url, 10, token=stack.token)
            wait_for(lambda: len(sink.messages()) >= 10, 60, "the first requests")
            cluster.stop()
            time.sleep(3)  # the outage: the first complaints' deadlines pass meanwhile
            cluster.start()
            second, _ = submit(stack.web_url, 10, token=stack.token)
            exits = _finish(stack, ledger, 40)
        ledger.assert_exactly_once(first | second)
        for child in workers:  # the same processes throughout, stopped cleanly at the end
            assert "cannot read due complaints" in child.output()
            assert exits[child.name] == 0, child.output()[-2000:]
    finally:
        cluster.remove()


BURST = 5000


def test_a_burst_of_5000_complaints_through_the_api(
    postgres_url: str, prefect_api: str, sink: MailSink, tmp_path: Path
) -> None:
    """5,000 staff-recorded complaints in under 90 s, every one answered 201, stored and sent its request
    once. The figures go to artifacts/burst.json before the assertions, so a slow run still reports them.

    Each submission is authenticated (a staff fact needs a staff token: one more transaction per
    request): 71-76 s measured on this 2-core machine, where anonymous submissions took 50 s. The bound
    catches a regression of a third, not the machine's noise."""
    database = new_database(postgres_url, "burst")
    ledger = Ledger(database, sink)
    with running(tmp_path, database, prefect_api, sink, CALM) as stack:
        # Workers at a lower CPU priority than the web app, as docs/scale-out.md advises when they
        # share a machine: a burst is taken first and drained after, instead of both crawling.
        stack.start("worker-1", "worker-2", nice=19)
        started = time.monotonic()
        accepted, submitting = submit(stack.web_url, BURST, token=stack.token, connections=16)
        wait_for(lambda: ledger.settled(BURST), 600, "the burst to drain")
        drained = time.monotonic() - started
        time.sleep(SETTLE)
        stack.stop()
    stored, copies = ledger.stored(), ledger.message_ids()
    report = {
        "complaints_accepted": len(accepted),
        "submission_seconds": round(submitting, 1),
        "submissions_per_second": round(len(accepted) / submitting, 1),
        "drain_seconds": round(drained, 1),  # from the first submission to the last email recorded sent
        "complaints_stored": len(stored.complaints & accepted),
        "emails_received": sum(len(ids) for ids in copies.values()),
        "duplicate_emails": sum(len(ids) - 1 for ids in copies.values()),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "burst.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nburst: {json.dumps(report)}")
    assert len(accepted) == BURST
    ledger.assert_exactly_once(accepted, escalated=False)
    assert submitting < 90, f"{BURST} submissions took {submitting:.1f} s"


def _complaints_in(runs: list[FlowRun]) -> set[str]:
    return {
        tag.removeprefix("complaint:") for run in runs for tag in run.tags if tag.startswith("complaint:")
    }
