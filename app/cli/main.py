"""The ``complaintflow`` command: check and explain policies, simulate scenarios.

Exit codes: 0 success (valid), 1 invalid input (every problem printed as ``file:line:col: message``),
2 usage errors (unknown command, missing file).
"""

import asyncio
import importlib
import json
import os
from collections.abc import Coroutine
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.accounts import accounts_app
from app.cli.policy import register as register_policy_lifecycle
from app.cli.timeline import render_timeline
from app.cli.violations import audit_app, violations_app
from flows.errors import RuntimeProblem
from flows.settings import SHIPPED_POLICY, Settings, load_settings
from notifiers.errors import NotifierError
from policies.api import prepare, prepare_scenario
from policies.engine.simulate import simulate
from policies.errors import PolicyInvalid
from policies.explain.rendering import explain_policy

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
        for warning in ready.loaded.warnings:  # advice; the policy is still valid
            typer.echo(str(warning))
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


register_policy_lifecycle(policy_app)  # diff, dry-run, activate


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
    _run_until_stopped(_runtime_entry().run_serve(settings, demo=demo))


@app.command("worker")
def worker_command(config: ConfigOption = None) -> None:
    """Run only the scheduler (wakes due complaints, sends queued mail) against configured services."""
    _run_until_stopped(_runtime_entry().run_worker(_settings(config)))


def _run_until_stopped(main: Coroutine[object, object, None]) -> None:
    """Run a long-lived process; a start-up problem it names (a taken port) is one line and exit 2."""
    try:
        asyncio.run(main)
    except (RuntimeProblem, NotifierError) as exc:
        typer.echo(f"complaintflow: {exc}", err=True)
        raise typer.Exit(2) from exc


app.add_typer(audit_app, name="audit")
app.add_typer(violations_app, name="violations")
app.add_typer(accounts_app, name="accounts")


def _runtime_entry() -> ModuleType:
    # Prefect reads its logging settings when first imported (and the import costs ~2 s, which
    # `policy check` and `simulate` need not pay): quiet it before importing the runtime.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return importlib.import_module("app.serve")


def main() -> None:
    app()
