"""``complaintflow policy diff|dry-run|activate``: the policy lifecycle from the command line.

``diff`` compares a policy file with another file or with the version active in the database;
``dry-run`` replays the complaints of the last N days under it; ``activate`` makes it the version new
complaints start under, recorded as an admin account's decision. Exit codes: 0 done, 1 invalid
policy or refused (not an admin account), 2 usage errors (bad settings or options).
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from flows.admin.dry_run import MAX_DAYS, DryRun, dry_run
from flows.admin.lifecycle import admin_username
from flows.clock import SystemClock
from flows.errors import RuntimeProblem
from flows.records import keys as audit_keys
from flows.registry import PolicyRegistry, latest_activation
from flows.settings import load_settings
from models.db import make_engine, make_sessions, migrate
from policies.api import Ready, prepare
from policies.engine.compare import Difference
from policies.errors import PolicyInvalid
from policies.explain.diff import PolicyDiff, diff_policies

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (COMPLAINTFLOW_* variables override it).")
]
PolicyFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
OrgOption = Annotated[
    Path | None,
    typer.Option(
        "--org", exists=True, dir_okay=False, help="Org directory YAML instead of the one it names."
    ),
]


def register(policy_app: typer.Typer) -> None:
    """Add the lifecycle commands to the ``policy`` command group."""
    policy_app.command("diff")(diff_command)
    policy_app.command("dry-run")(dry_run_command)
    policy_app.command("activate")(activate_command)


def diff_command(
    new: PolicyFile,
    against: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Compare with this file, not the active version."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """What changes from the active version (or --against FILE) to NEW: rules first, then every line."""
    ready = _prepare(new)
    if against is not None:
        old = _prepare(against)
        diff = diff_policies(
            old.loaded.spec, ready.loaded.spec, _text(against), _text(new), (str(against), str(new))
        )
    else:
        with _database(config) as sessions, sessions() as session:
            active = latest_activation(session)
            if active is None:
                typer.echo("complaintflow: no policy has been activated in this database yet", err=True)
                raise typer.Exit(1)
            spec = PolicyRegistry(sessions).pinned(session, active.version, active.org_hash).spec
            names = (f"active {active.version}", str(new))
            diff = diff_policies(spec, ready.loaded.spec, active.source, _text(new), names)
    _print_diff(diff)


def dry_run_command(
    new: PolicyFile,
    days: Annotated[
        int, typer.Option(min=1, max=MAX_DAYS, help="Replay complaints received in the last N days.")
    ] = 7,
    org: OrgOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    config: ConfigOption = None,
) -> None:
    """Replay recent complaints under NEW and list the violations and emails that would differ."""
    ready = _prepare(new, org)
    with _database(config) as sessions:
        registry = PolicyRegistry(sessions)
        now = SystemClock().now()
        result = dry_run(sessions, registry, ready.policy, ready.org if org else None, now=now, days=days)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in dry_run_lines(result, ready.policy.calendar.zone):
            typer.echo(line)


def activate_command(
    new: PolicyFile,
    by: Annotated[str, typer.Option("--by", help="The admin account activating it (recorded).")],
    org: OrgOption = None,
    config: ConfigOption = None,
) -> None:
    """Make NEW the policy new complaints start under; complaints in flight keep their version."""
    _prepare(new, org)  # every problem listed before anything is opened
    with _database(config, migrated=True) as sessions:
        with sessions() as session:
            try:
                username = admin_username(session, by)
            except RuntimeProblem as exc:
                typer.echo(f"complaintflow: {exc}", err=True)
                raise typer.Exit(1) from exc
            previous = latest_activation(session)
        registry = PolicyRegistry(sessions, clock=SystemClock())
        pinned = registry.activate(new, org, by=username)
    before = previous.version if previous else "none"
    if previous is not None and previous.version == pinned.policy.version:
        typer.echo(f"already active: policy {pinned.policy.id} {pinned.policy.version}")
        return
    typer.echo(f"activated policy {pinned.policy.id} {pinned.policy.version} (was {before}) by {username}")


def dry_run_lines(result: DryRun, zone: tzinfo) -> Iterator[str]:
    """The dry run as text: one block per complaint that would differ, then the totals."""

    def at(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"

    yield (
        f"replayed {result.replayed} complaints received since {at(result.since)};"
        f" {len(result.differences)} would differ"
    )
    for difference in result.differences:
        yield difference.complaint
        yield from _difference_lines(difference, at)
    t = result.totals
    yield (
        f"totals: violations +{t.violations_added} -{t.violations_removed},"
        f" notifications +{t.notifications_added} -{t.notifications_removed}"
    )


def _difference_lines(difference: Difference, at: Callable[[datetime], str]) -> Iterator[str]:
    for sign, violations in (("+", difference.violations_added), ("-", difference.violations_removed)):
        for v in violations:
            penalty = f"  penalty {v.penalty}" if v.penalty else ""
            yield f"  {sign} violation   {v.step} #{v.occurrence} by {v.actor}, due {at(v.due_at)}{penalty}"
    pairs = (("+", difference.notifications_added), ("-", difference.notifications_removed))
    for sign, notifications in pairs:
        for n in notifications:
            yield f"  {sign} {n.kind:<11} {n.step or '-'} to {n.recipient} at {at(n.at)} ({n.template})"


def _print_diff(diff: PolicyDiff) -> None:
    if diff.same:
        typer.echo("no rule changes")
    for change in diff.changes:
        typer.echo(str(change))
    if diff.text:
        typer.echo("")
        for line in diff.text:
            typer.echo(line)


def _prepare(path: Path, org: Path | None = None) -> Ready:
    try:
        return prepare(path, org_path=org)
    except PolicyInvalid as exc:
        typer.echo(str(exc))
        raise typer.Exit(1) from exc


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


@contextmanager
def _database(config: Path | None, *, migrated: bool = False) -> Iterator[sessionmaker[Session]]:
    try:
        settings = load_settings(config)
    except (ValidationError, RuntimeProblem) as exc:
        typer.echo(f"complaintflow: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    audit_keys.install(audit_keys.from_settings(settings))
    if migrated:
        migrate(settings.database)
    engine = make_engine(settings.database)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()
