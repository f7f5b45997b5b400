"""The ``complaintflow`` command as an administrator runs it: exit codes, timeline and JSON contract."""

import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import app
from tests.factories import REPO

SCENARIO = REPO / "tests" / "scenarios" / "keieikai" / "nobody_reports.yaml"
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")
runner = CliRunner()


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", "from app.cli.main import main; main()", *args]
    return subprocess.run(command, capture_output=True, cwd=REPO, check=False, stdin=subprocess.DEVNULL)


def test_simulate_json_is_byte_for_byte_stable_across_runs() -> None:
    first, second = _run("simulate", str(SCENARIO), "--json"), _run("simulate", str(SCENARIO), "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout


def test_simulate_json_follows_the_documented_contract() -> None:
    result = runner.invoke(app, ["simulate", str(SCENARIO), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document) == {"policy", "notifications", "violations", "obligations"}
    assert document["policy"]["id"] == "keieikai-clinic"
    assert document["policy"]["version"].startswith("sha256:")
    shapes = {
        "notifications": {"at", "complaint", "step", "to", "template", "kind"},
        "violations": {"complaint", "step", "actor", "due_at", "detected_at", "penalty"},
        "obligations": {"complaint", "step", "actor", "due_at", "status"},
    }
    for section, keys in shapes.items():
        assert document[section], section
        for row in document[section]:
            assert set(row) == keys
            for field in ("at", "due_at", "detected_at"):
                if field in row:
                    assert ISO_WITH_OFFSET.match(row[field]), row[field]
                    assert row[field].endswith("+09:00")  # rendered in the policy's zone (Asia/Tokyo)
    times = [n["at"] for n in document["notifications"]]
    assert times == sorted(times)
    assert [v["due_at"] for v in document["violations"]] == sorted(
        v["due_at"] for v in document["violations"]
    )
    assert {(v["actor"], v["penalty"]) for v in document["violations"]} == {
        ("tanaka", "bonus_half_cut"),
        ("sato", "bonus_half_cut"),
        ("sato", None),
    }


def test_simulate_prints_a_readable_timeline() -> None:
    result = runner.invoke(app, ["simulate", str(SCENARIO)])
    assert result.exit_code == 0, result.output
    assert (
        "VIOLATION  C-1 report_to_supervisor: 田中 一郎 (tanaka) missed it; penalty: 一年間賞与を半額カット"
        in result.output
    )
    assert "2026-04-01 10:30:00 JST" in result.output


def test_check_exit_codes(tmp_path: Path) -> None:
    assert (
        runner.invoke(app, ["policy", "check", str(REPO / "policies" / "keieikai_clinic.yaml")]).exit_code
        == 0
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nsteps: [\n", encoding="utf-8")
    invalid = runner.invoke(app, ["policy", "check", str(broken)])
    assert invalid.exit_code == 1
    assert re.search(rf"^{re.escape(str(broken))}:\d+:\d+: invalid YAML", invalid.output, re.MULTILINE)
    assert runner.invoke(app, ["policy", "check", str(tmp_path / "missing.yaml")]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_simulate_reports_a_broken_scenario_with_its_location(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"policy: {REPO / 'policies' / 'keieikai_clinic.yaml'}\nuntil: 2026-04-01T18:00:00+09:00\n"
        "events:\n  - type: complaint_received\n    complaint: C-1\n    at: 2026-04-01T10:00:00\n"
        "    channel: fax\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["simulate", str(scenario)])
    assert result.exit_code == 1
    assert f"{scenario}:6:9: at: " in result.output
    assert "UTC offset" in result.output
    assert f"{scenario}:7:14: channel: " in result.output


def test_policy_check_prints_warnings_and_still_accepts_the_policy() -> None:
    result = runner.invoke(app, ["policy", "check", str(REPO / "policies" / "nursing_care.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("3 steps, org ankang (9 people)")
    [warning] = [line for line in lines if ": warning: " in line]
    assert "nursing_care.yaml:44:15: warning: step 'initial_reaction'" in warning
