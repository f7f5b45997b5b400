"""``complaintflow violations``: filters matching the web page, the evidence, and ruling as an auditor."""

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.cli.main import app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records import keys as audit_keys
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.tables import ComplaintRow, DecisionLogRow, ViolationRow
from notifiers.outbound.sink import MailSink
from tests.runtime_support import AUDIT_ENV, START, make_runtime
from tests.violation_support import account, unreported


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(database_url: str, sink: MailSink, clock: FakeClock) -> Runtime:
    return make_runtime(database_url, sink, clock)


@pytest.fixture
def cli(runtime: Runtime, clock: FakeClock, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Violations of tanaka (checkup department) and suzuki (clinic) and their supervisors."""
    unreported(runtime, clock, heard_by="tanaka")
    unreported(runtime, clock, heard_by="suzuki")
    account(runtime, "auditor", "audrey")
    account(runtime, "staff", "sam")
    monkeypatch.setenv("COMPLAINTFLOW_DEV", "1")
    monkeypatch.setenv("COMPLAINTFLOW_DATABASE_URL", database_url)
    # The runtime's audit keys and data folder: a ruling is appended to the keyed decision log.
    monkeypatch.setenv("COMPLAINTFLOW_DATA_DIR", str(audit_keys.installed().checkpoints.parent))
    for name, value in AUDIT_ENV.items():
        monkeypatch.setenv(name, value)
    return CliRunner()


def _export(cli: CliRunner, *options: str) -> list[dict[str, str]]:
    result = cli.invoke(app, ["violations", "export", *options])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def _key(runtime: Runtime, actor: str, step: str) -> str:
    with runtime.sessions() as session:
        return session.scalars(
            select(ViolationRow.key).where(ViolationRow.actor == actor, ViolationRow.step == step)
        ).one()


def test_rule_then_filter_by_status_department_and_version(cli: CliRunner, runtime: Runtime) -> None:
    key = _key(runtime, "suzuki", "report_to_supervisor")
    ruled = cli.invoke(
        app,
        ["violations", "rule", key, "--waive", "--reason", "Reported by phone at 10:05", "--by", "audrey"],
    )
    assert ruled.exit_code == 0, ruled.output
    assert f"{key}: waived (decision log seq=" in ruled.output
    checked = cli.invoke(app, ["audit", "verify"])  # the ruling was chained under the same audit key
    assert checked.exit_code == 0, checked.output
    assert [r["key"] for r in _export(cli, "--status", "waived")] == [key]
    assert len(_export(cli, "--status", "recorded")) == 7
    # The clinic department: suzuki and her supervisor kobayashi, as the complaint's org snapshot says.
    assert {r["actor"] for r in _export(cli, "--department", "clinic")} == {"suzuki", "kobayashi"}
    assert _export(cli, "--department", "no-such-department") == []
    version = runtime.registry.active.policy.version if runtime.registry.active else ""
    assert len(_export(cli, "--policy-version", version)) == 8
    assert _export(cli, "--policy-version", "sha256:0000000000000000") == []
    listed = cli.invoke(app, ["violations", "list", "--status", "waived"])
    assert listed.output.split()[-2:] == ["waived", key]
    assert cli.invoke(app, ["violations", "list", "--status", "deleted"]).exit_code == 2


def test_show_prints_the_evidence_and_the_rulings(cli: CliRunner, runtime: Runtime, clock: FakeClock) -> None:
    key = _key(runtime, "tanaka", "report_to_supervisor")
    clock.advance(timedelta(hours=1))
    for flag, reason in (("--dispute", "Tanaka says he called"), ("--confirm", "No call in the phone log")):
        assert (
            cli.invoke(app, ["violations", "rule", key, flag, "--reason", reason, "--by", "audrey"]).exit_code
            == 0
        )
    shown = cli.invoke(app, ["violations", "show", key])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert f"violation {key}" in text
    assert "上司へ事実を報告・連絡" in text
    assert "owed by    田中 一郎 (tanaka)" in text
    assert "due        2026-04-01 10:30 JST" in text
    assert "outcome    not done by the due time" in text
    assert "penalty    一年間賞与を半額カット [bonus_half_cut], 2026-04-01 to 2027-03-31, runs" in text
    assert "RULING" in text
    assert "recorded → disputed: Tanaka says he called" in text
    assert "disputed → confirmed: No call in the phone log" in text
    assert "email request report_to_supervisor → 田中 一郎 (tanaka) [sent]" in text
    document = json.loads(cli.invoke(app, ["violations", "show", key, "--json"]).output)
    assert document["status"] == "confirmed"
    assert [r["status"] for r in document["rulings"]] == ["disputed", "confirmed"]
    assert document["penalty_term"]["last_day"] == "2027-03-31"


def test_rule_refuses_what_it_must(cli: CliRunner, runtime: Runtime) -> None:
    key = _key(runtime, "tanaka", "report_to_supervisor")
    staff = cli.invoke(app, ["violations", "rule", key, "--confirm", "--reason", "x", "--by", "sam"])
    assert staff.exit_code == 1
    assert "only auditors rule" in staff.output
    blank = cli.invoke(app, ["violations", "rule", key, "--confirm", "--reason", "   ", "--by", "audrey"])
    assert blank.exit_code == 1
    assert "needs a written reason" in blank.output
    both = cli.invoke(
        app, ["violations", "rule", key, "--confirm", "--waive", "--reason", "x", "--by", "audrey"]
    )
    assert both.exit_code == 2
    unknown = cli.invoke(
        app, ["violations", "rule", "no/such", "--confirm", "--reason", "x", "--by", "audrey"]
    )
    assert unknown.exit_code == 1
    with runtime.sessions() as session:
        assert session.scalars(select(DecisionLogRow).where(DecisionLogRow.subject == key)).all()[
            -1
        ].kind == ("violation_recorded")


def test_audit_verify_names_a_complaint_owing_work_that_nothing_will_wake(
    cli: CliRunner, runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.cli.violations.SystemClock", lambda: clock)  # the runtime's time, not today
    new = NewComplaint.model_validate({"channel": Channel.PHONE, "heard_by": "tanaka"})
    complaint = accept_complaint(runtime.sessions, runtime.registry, clock, new)
    process_complaint(runtime, complaint)
    first = cli.invoke(app, ["audit", "verify"])
    assert first.exit_code == 0, first.output
    with runtime.sessions.begin() as session:
        session.execute(update(ComplaintRow).where(ComplaintRow.id == complaint).values(wake_at=None))
    result = cli.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"PROBLEM: complaints row id={complaint}: wake_at is NULL" in result.output
