"""The violation log for auditors from the command line: list, show, and streamed CSV/JSON export."""

import csv
import io
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from app.cli import app
from flows.apply import process_complaint
from flows.clock import FakeClock
from flows.intake import NewComplaint, accept_complaint
from flows.runtime import Runtime
from models.complaint import Channel


@pytest.fixture
def recorded(runtime: Runtime, clock: FakeClock, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two complaints nobody reported: each gives the clinic policy's four violations."""
    for _ in range(2):
        complaint = accept_complaint(
            runtime.sessions, runtime.registry, clock, NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
        )
        clock.advance(timedelta(hours=3))
        process_complaint(runtime, complaint)
    monkeypatch.setenv("COMPLAINTFLOW_DEV", "1")
    monkeypatch.setenv("COMPLAINTFLOW_DATABASE_URL", database_url)
    return database_url


def test_export_as_csv_and_json_agree_and_filter(recorded: str) -> None:
    runner = CliRunner()
    as_csv = runner.invoke(app, ["violations", "export", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == 8
    assert {r["actor"] for r in rows} == {"tanaka", "sato"}
    as_json = runner.invoke(app, ["violations", "export", "--format", "json"])
    assert [r["key"] for r in json.loads(as_json.output)] == [r["key"] for r in rows]
    tanaka = runner.invoke(
        app, ["violations", "export", "--actor", "tanaka", "--step", "report_to_supervisor"]
    )
    assert [r["penalty"] for r in csv.DictReader(io.StringIO(tanaka.output))] == ["bonus_half_cut"] * 2


def test_list_show_and_bad_options(recorded: str) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["violations", "list", "--actor", "sato"])
    assert listed.exit_code == 0
    assert len(listed.output.splitlines()) == 4
    key = listed.output.splitlines()[0].split()[-1]
    shown = runner.invoke(app, ["violations", "show", key])
    assert json.loads(shown.output)["actor"] == "sato"
    assert runner.invoke(app, ["violations", "show", "no/such/key"]).exit_code == 1
    assert runner.invoke(app, ["violations", "export", "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["violations", "list", "--since", "2026-04-01T00:00:00"]).exit_code == 2
