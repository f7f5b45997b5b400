"""The ``complaintflow`` command: check and explain policies, simulate scenarios.

Exit codes: 0 success (valid), 1 invalid input (every problem printed as ``file:line:col: message``),
2 usage errors (unknown command, missing file).
"""

import asyncio
import importlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from pydantic import ValidationError

from app.timeline import render_timeline
from flows.audit import verify_events
from flows.errors import RuntimeProblem
from flows.settings import SHIPPED_POLICY, Settings, load_settings
from flows.violation_export import ViolationFilter, iter_violations, write_csv, write_json
from models.db import make_engine, make_sessions
from policies.api import prepare, prepare_scenario
from policies.errors import PolicyInvalid
from policies.explain import explain_policy
from policies.simulate import simulate

DEMO_POLICY = SHIPPED_POLICY.parent / "demo_clinic.yaml"

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
policy_app = typer.Typer(no_args_is_help=True, help="Check and explain policy files.")
app.add_typer(policy_app, name="policy")

ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


@policy_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    templates: Annotated[
        Path | None,
        typer.Option(
            help="Template folder to verify (<dir>/<lang>/<name>.j2 for every template).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Check policy files and the org directories they name; print every problem."""
    failed = False
    for path in files:
        try:
            ready = prepare(path, templates=templates)
        except PolicyInvalid as exc:
            failed = True
            for problem in exc.problems:
                typer.echo(str(problem))
            continue
        typer.echo(
            f"{path}: ok: policy {ready.policy.id} {ready.policy.version},"
            f" {len(ready.policy.steps)} steps, org {ready.org.id} ({len(ready.org.people)} people)"
        )
    raise typer.Exit(1 if failed else 0)


@policy_app.command("explain")
def explain(path: ExistingFile) -> None:
    """Summarise a policy's reporting chain in its own language, with a Mermaid diagram."""
    try:
        ready = prepare(path)
    except PolicyInvalid as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from exc
    typer.echo(explain_policy(ready))


@app.command("simulate")
def simulate_command(
    scenario: ExistingFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Replay a scenario's events on a fake clock and print what the policy decides."""
    try:
        loaded, ready = prepare_scenario(scenario)
    except PolicyInvalid as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from exc
    result = simulate(ready.policy, ready.org, loaded.events, loaded.until)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_timeline(result, ready.org))


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (COMPLAINTFLOW_* variables override it).")
]


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, **overrides)
    except (ValidationError, RuntimeProblem) as exc:
        typer.echo(f"complaintflow: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command("serve")
def serve_command(
    config: ConfigOption = None,
    dev: Annotated[bool, typer.Option("--dev", help="Dev mode: generated secret, local SMTP sink.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Dev mode plus a one-minute demo complaint.")] = False,
) -> None:
    """Run everything on this machine: database, Prefect server, scheduler, web app (and SMTP sink in dev)."""
    overrides: dict[str, object] = {}
    if dev or demo:
        overrides.update(dev=True, sink_enabled=True)
    if demo:
        overrides["policy_path"] = DEMO_POLICY
    settings = _settings(config, **overrides)
    asyncio.run(_runtime_entry().run_serve(settings, demo=demo))


@app.command("worker")
def worker_command(config: ConfigOption = None) -> None:
    """Run only the scheduler (wakes due complaints, sends queued mail) against configured services."""
    asyncio.run(_runtime_entry().run_worker(_settings(config)))


audit_app = typer.Typer(no_args_is_help=True, help="Check that the records were not altered.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None) -> None:
    """Re-walk the hash-chained event log; exit 1 naming the first row that was edited, deleted or moved."""
    settings = _settings(config)
    with make_sessions(make_engine(settings.database))() as session:
        checked, broken = verify_events(session)
    if broken is not None:
        typer.echo(f"BROKEN after {checked} good rows: {broken}")
        raise typer.Exit(1)
    typer.echo(f"ok: {checked} event rows, hash chain intact")


violations_app = typer.Typer(no_args_is_help=True, help="Read and export the violation log.")
app.add_typer(violations_app, name="violations")
Since = Annotated[datetime | None, typer.Option(help="Detected at or after (ISO-8601 with offset).")]
Until = Annotated[datetime | None, typer.Option(help="Detected before (ISO-8601 with offset).")]


def _filter(
    actor: str | None, step: str | None, since: datetime | None, until: datetime | None
) -> ViolationFilter:
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            typer.echo(
                "complaintflow: --since/--until need a UTC offset, e.g. 2026-04-01T00:00:00+09:00", err=True
            )
            raise typer.Exit(2)
    return ViolationFilter(actor=actor, step=step, since=since, until=until)


@violations_app.command("list")
def violations_list(
    config: ConfigOption = None,
    actor: Annotated[str | None, typer.Option()] = None,
    step: Annotated[str | None, typer.Option()] = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """One line per violation: when detected, who, which step, due when, penalty."""
    settings = _settings(config)
    with make_sessions(make_engine(settings.database))() as session:
        for v in iter_violations(session, _filter(actor, step, since, until)):
            when, penalty = v["detected_at"], v["penalty"] or "-"
            typer.echo(f"{when}  {v['actor']:<16} {v['step']:<28} due {v['due_at']}  {penalty}  {v['key']}")


@violations_app.command("show")
def violations_show(key: str, config: ConfigOption = None) -> None:
    """Everything recorded for one violation (by its key), as JSON."""
    settings = _settings(config)
    with make_sessions(make_engine(settings.database))() as session:
        found = next((v for v in iter_violations(session, ViolationFilter()) if v["key"] == key), None)
    if found is None:
        typer.echo(f"no violation with key {key!r}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(found, ensure_ascii=False, indent=2))


@violations_app.command("export")
def violations_export(
    *,
    config: ConfigOption = None,
    format_: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    actor: Annotated[str | None, typer.Option()] = None,
    step: Annotated[str | None, typer.Option()] = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Stream the (filtered) violation log to standard output as CSV or a JSON array."""
    if format_ not in {"csv", "json"}:
        typer.echo("complaintflow: --format must be csv or json", err=True)
        raise typer.Exit(2)
    settings = _settings(config)
    write = write_csv if format_ == "csv" else write_json
    with make_sessions(make_engine(settings.database))() as session:
        write(iter_violations(session, _filter(actor, step, since, until)), sys.stdout)


def _runtime_entry() -> ModuleType:
    # Prefect reads its logging settings when first imported (and the import costs ~2 s, which
    # `policy check` and `simulate` need not pay): quiet it before importing the runtime.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return importlib.import_module("app.serve")


def main() -> None:
    app()
