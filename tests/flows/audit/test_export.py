"""The violation log for auditors from the command line: list, show, and streamed CSV/JSON export."""

import csv
import io
import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from flows.audit.export import FIELDS, csv_chunks, department_owners, json_chunks, write_csv, write_json
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.org import Org
from tests.factories import ORG


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
    shown = runner.invoke(app, ["violations", "show", key, "--json"])
    assert json.loads(shown.output)["actor"] == "sato"
    assert runner.invoke(app, ["violations", "show", "no/such/key"]).exit_code == 1
    assert runner.invoke(app, ["violations", "export", "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["violations", "list", "--since", "2026-04-01T00:00:00"]).exit_code == 2


def test_a_department_is_its_people_and_the_roles_only_they_hold() -> None:
    org = Org.model_validate(
        ORG
        | {
            "people": [
                *ORG["people"],
                {
                    "id": "nurse",
                    "name": "Nia",
                    "email": "n@x.example",
                    "roles": ["ward_desk"],
                    "department": "ward",
                },
                {
                    "id": "boss2",
                    "name": "Bea",
                    "email": "b@x.example",
                    "roles": ["desk"],
                    "department": "ward",
                },
            ]
        }
    )
    # "desk" is also held by d1 and d2, outside the ward: a shared desk obligation is not the ward's.
    assert department_owners(org, "ward") == ["nurse", "boss2", "role:ward_desk"]
    assert department_owners(org, "nowhere") == []


def test_streamed_chunks_equal_the_files_written_at_once() -> None:
    records: list[dict[str, object]] = [
        {field: f"{field}-{n}" if field != "penalty" or n % 2 else None for field in FIELDS}
        for n in range(1234)
    ]
    for chunks, write in ((csv_chunks, write_csv), (json_chunks, write_json)):
        whole = io.StringIO()
        assert write(iter(records), whole) == len(records)
        pieces = list(chunks(iter(records), 100))
        assert len(pieces) > 10
        assert "".join(pieces) == whole.getvalue()
    assert json.loads("".join(json_chunks(iter([])))) == []
