"""``complaintflow policy diff|dry-run|activate`` against a real database."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli.main import app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records.events import append_event
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.events import StepDone
from models.tables import ComplaintRow, PolicyActivationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import make_account
from tests.factories import TOKYO
from tests.runtime_support import AUDIT_KEY, AUDIT_SIGNING_KEY, CLINIC, make_runtime

runner = CliRunner()
STRICTER = (
    CLINIC.read_text(encoding="utf-8")
    .replace("within: 30分", "within: 10分", 1)
    .replace("remind: {every: 10分}", "remind: {every: 5分}", 1)
)


@pytest.fixture
def stricter(tmp_path: Path) -> Path:
    """The stricter clinic policy in a folder of its own, beside copies of its org and templates."""
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copytree(CLINIC.parent / "orgs", folder / "orgs")
    shutil.copytree(CLINIC.parent / "templates", folder / "templates")
    path = folder / "stricter.yaml"
    path.write_text(STRICTER, encoding="utf-8")
    return path


@pytest.fixture
def two_days_ago() -> FakeClock:
    # `policy dry-run` replays up to the real now, so the recorded complaints must be recent.
    return FakeClock(datetime.now(UTC) - timedelta(days=2))


@pytest.fixture
def runtime(database_url: str, sink: MailSink, two_days_ago: FakeClock) -> Runtime:
    return make_runtime(database_url, sink, two_days_ago)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "complaintflow.toml"
    path.write_text(
        f'secret_key = "{"s" * 40}"\ndatabase_url = "{database_url}"\npolicy_path = "{CLINIC}"\n'
        f'audit_key = "{AUDIT_KEY}"\naudit_signing_key = "{AUDIT_SIGNING_KEY}"\n'
        f'data_dir = "{tmp_path}"\n',
        encoding="utf-8",
    )
    return path


def _invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", *(str(a) for a in args)])
    return result.exit_code, result.output


def test_diff_against_a_file_lists_the_rule_change_then_every_line(stricter: Path) -> None:
    code, output = _invoke("diff", stricter, "--against", CLINIC)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0] == "step report_to_supervisor: within 30分 → 10分"
    assert lines[1] == "step report_to_supervisor: remind {every: 10分} → {every: 5分}"
    assert "-    within: 30分" in lines
    assert "+    within: 10分" in lines


def test_diff_without_against_compares_with_the_version_active_in_the_database(
    runtime: Runtime, stricter: Path, config: Path
) -> None:
    active = runtime.registry.active
    assert active is not None
    code, output = _invoke("diff", stricter, "--config", config)
    assert code == 0, output
    assert output.splitlines()[0] == "step report_to_supervisor: within 30分 → 10分"
    assert f"--- active {active.policy.version}" in output.splitlines()


def test_the_same_policy_has_no_rule_changes(runtime: Runtime, config: Path) -> None:
    code, output = _invoke("diff", CLINIC, "--config", config)
    assert (code, output) == (0, "no rule changes\n")


def test_dry_run_lists_the_violations_a_stricter_policy_would_add(
    runtime: Runtime, stricter: Path, config: Path, two_days_ago: FakeClock
) -> None:
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    with runtime.sessions.begin() as session:
        reported = two_days_ago.now() + timedelta(minutes=20)
        event = StepDone(
            complaint=complaint_id, at=reported, step="report_to_supervisor", by="tanaka", to="sato"
        )
        append_event(session, event, reported)

    code, output = _invoke("dry-run", stricter, "--days", "7", "--json", "--config", config)

    assert code == 0, output
    document = json.loads(output)
    assert document["replayed"] == 1
    (complaint,) = document["complaints"]
    assert complaint["complaint"] == complaint_id
    (added,) = complaint["violations_added"]
    due = datetime.fromisoformat(added["due_at"])
    assert (added["step"], added["actor"], due) == (
        "report_to_supervisor", "tanaka", two_days_ago.now() + timedelta(minutes=10),
    )  # fmt: skip
    assert complaint["violations_removed"] == []
    code, text = _invoke("dry-run", stricter, "--days", "7", "--config", config)
    assert code == 0, text
    assert text.startswith("replayed 1 complaints received since ")
    tokyo = due.astimezone(TOKYO)
    due_line = f"due {tokyo:%Y-%m-%d %H:%M} JST  penalty bonus_half_cut"
    assert f"  + violation   report_to_supervisor #1 by tanaka, {due_line}" in text
    assert "totals: violations +1 -0" in text
    code, _ = _invoke("dry-run", stricter, "--days", "1", "--json", "--config", config)
    assert code == 0


def test_activate_records_the_admin_and_new_complaints_start_under_it(
    runtime: Runtime, stricter: Path, config: Path, database_url: str, sink: MailSink, two_days_ago: FakeClock
) -> None:
    admin = make_account(runtime, "admin")
    code, output = _invoke("activate", stricter, "--by", admin, "--config", config)
    assert code == 0, output
    assert output.startswith("activated policy keieikai-clinic sha256:")
    assert output.rstrip().endswith(f"by {admin}")

    restarted = make_runtime(database_url, sink, two_days_ago)
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    complaint_id = accept_complaint(restarted.sessions, restarted.registry, restarted.clock, new)
    with restarted.sessions() as session:
        row = session.get(ComplaintRow, complaint_id)
        latest = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq.desc())).first()
    assert row is not None
    assert latest is not None
    assert (latest.activated_by, latest.source) == (admin, STRICTER)
    assert row.policy_version == latest.version
    code, output = _invoke("activate", stricter, "--by", admin, "--config", config)
    assert (code, output.split(":")[0]) == (0, "already active")


def test_activate_refuses_anyone_but_an_admin_and_records_nothing(
    runtime: Runtime, stricter: Path, config: Path
) -> None:
    auditor = make_account(runtime, "auditor")
    for by in (auditor, "nobody"):
        code, output = _invoke("activate", stricter, "--by", by, "--config", config)
        assert code == 1
        assert "is not an active admin account" in output
    with runtime.sessions() as session:
        assert [r.activated_by for r in session.scalars(select(PolicyActivationRow))] == ["configuration"]


def test_a_broken_policy_is_refused_with_located_problems(tmp_path: Path, stricter: Path) -> None:
    broken = stricter.with_name("broken.yaml")
    broken.write_text(STRICTER.replace("within: 10分", "within: soon"), encoding="utf-8")
    commands: list[list[str | Path]] = [
        ["diff", broken, "--against", CLINIC],
        ["activate", broken, "--by", "x"],
    ]
    for command in commands:
        code, output = _invoke(*command)
        assert code == 1
        assert f"{broken}:47:13: within: 'soon' is not a duration" in output
    assert _invoke("dry-run", stricter, "--days", "0")[0] == 2
