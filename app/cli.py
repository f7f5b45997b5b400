"""The ``complaintflow`` command: check and explain policies, simulate scenarios.

Exit codes: 0 success (valid), 1 invalid input (every problem printed as ``file:line:col: message``),
2 usage errors (unknown command, missing file).
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.timeline import render_timeline
from policies.api import prepare, prepare_scenario
from policies.errors import PolicyInvalid
from policies.explain import explain_policy
from policies.simulate import simulate

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


def main() -> None:
    app()
