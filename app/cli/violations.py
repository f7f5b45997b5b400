"""``complaintflow violations list|show|export|rule`` and ``complaintflow audit`` (verify, checkpoint,
public-key).

Exit codes as for the whole command: 0 success, 1 a finding or a refused ruling (broken chain,
unknown key, not an auditor), 2 usage errors (bad option values, bad settings).
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from app.evidence_text import evidence_json, evidence_lines
from flows.audit import checkpoints as audit_checkpoints
from flows.audit.enforcement import grace_for
from flows.audit.evidence import evidence
from flows.audit.export import STATUSES, ViolationFilter, iter_violations, write_csv, write_json
from flows.audit.rulings import Ruling, RulingRefused, rule
from flows.audit.verify import Against, Report, verify_live
from flows.clock import SystemClock
from flows.errors import RuntimeProblem
from flows.records import keys as audit_keys
from flows.records.keys import AuditKeys
from flows.registry import PolicyRegistry
from flows.settings import Settings, load_settings
from models.db import make_engine, make_sessions

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (COMPLAINTFLOW_* variables override it).")
]
audit_app = typer.Typer(no_args_is_help=True, help="Check that the records were not altered.")
violations_app = typer.Typer(no_args_is_help=True, help="Read, export and rule on the violation log.")


def _load(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except (ValidationError, RuntimeProblem) as exc:
        typer.echo(f"complaintflow: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@contextmanager
def _database(config: Path | None) -> Iterator[sessionmaker[Session]]:
    settings = _load(config)
    engine = make_engine(settings.database)
    try:
        yield make_sessions(engine)
    finally:
        engine.dispose()


@contextmanager
def _session(config: Path | None) -> Iterator[Session]:
    with _database(config) as sessions, sessions() as session:
        yield session


def _keys(config: Path | None) -> AuditKeys:
    try:
        return audit_keys.install(audit_keys.from_settings(_load(config)))
    except RuntimeProblem as exc:
        typer.echo(f"complaintflow: {exc}", err=True)
        raise typer.Exit(2) from exc


CheckpointsOption = Annotated[
    Path | None,
    typer.Option("--checkpoints", help="Verify against this copy of the checkpoint file (an auditor's)."),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key", help="The PEM public key the checkpoints must be signed with (an auditor's copy)."
    ),
]


@audit_app.command("verify")
def audit_verify(
    config: ConfigOption = None, checkpoints: CheckpointsOption = None, public_key: PublicKeyOption = None
) -> None:
    """Re-walk both keyed hash chains (events, decisions), check them against every signed checkpoint,
    and the unchained tables against them; exit 1 naming the first row that was edited, deleted or
    moved directly in the database, or the checkpoint the database contradicts."""
    settings = _load(config)
    keys = _keys(config)
    try:
        against = Against(
            checkpoints or keys.checkpoints,
            audit_keys.load_public_key(public_key) if public_key else keys.public_key(),
        )
    except RuntimeProblem as exc:
        typer.echo(f"complaintflow: {exc}", err=True)
        raise typer.Exit(2) from exc
    with _session(config) as session:
        now = SystemClock().now()
        grace = grace_for(settings.scheduler_poll_seconds)
        report = verify_live(session, now, grace=grace, keys=keys, against=against)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: Report) -> None:
    counts = (
        f"{report.events} event rows, {report.decisions} decision rows, {report.violations} violations,"
        f" {report.attachments} attachments, {report.checkpoints} checkpoints"
    )
    if report.broken is not None:
        typer.echo(f"BROKEN: {report.broken}")
    for problem in report.problems:
        typer.echo(f"PROBLEM: {problem}")
    if not report.ok:
        typer.echo(f"checked before it: {counts}")
        return
    typer.echo(f"ok: {counts}; hash chains intact, violations match the decision log")
    if report.checkpoints == 0:
        typer.echo(
            f"warning: no checkpoint in {report.checkpoint_file}: a log cut short or wiped cannot be"
            " seen before `complaintflow audit checkpoint` has written one"
        )


@audit_app.command("checkpoint")
def audit_checkpoint(config: ConfigOption = None) -> None:
    """Sign the chains' heads and the row counts now and append them to the checkpoint file."""
    keys = _keys(config)
    with _session(config) as session:
        record = audit_checkpoints.write(session, keys, SystemClock().now())
    heads = record["heads"]
    typer.echo(
        f"checkpoint written to {keys.checkpoints}: events seq={heads['events']['seq']},"
        f" decision_log seq={heads['decision_log']['seq']} at {record['at']}"
    )


@audit_app.command("public-key")
def audit_public_key(config: ConfigOption = None) -> None:
    """Print the PEM public key that verifies the checkpoints (give it to auditors, publish it)."""
    typer.echo(audit_keys.public_pem(_keys(config).public_key()), nl=False)


Actor = Annotated[str | None, typer.Option(help="Person id (or group label) who owed the step.")]
Step = Annotated[str | None, typer.Option(help="Step id.")]
Since = Annotated[datetime | None, typer.Option(help="Detected at or after (ISO-8601 with offset).")]
Until = Annotated[datetime | None, typer.Option(help="Detected before (ISO-8601 with offset).")]
Status = Annotated[str | None, typer.Option(help="recorded, confirmed, disputed or waived.")]
Version = Annotated[str | None, typer.Option("--policy-version", help="e.g. sha256:0123456789abcdef")]
Department = Annotated[str | None, typer.Option(help="Department id in the complaint's org snapshot.")]


def _filter(
    actor: str | None,
    step: str | None,
    since: datetime | None,
    until: datetime | None,
    more: tuple[str | None, str | None, str | None] = (None, None, None),
) -> ViolationFilter:
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            typer.echo(
                "complaintflow: --since/--until need a UTC offset, e.g. 2026-04-01T00:00:00+09:00", err=True
            )
            raise typer.Exit(2)
    status, version, department = more
    if status is not None and status not in STATUSES:
        typer.echo(f"complaintflow: --status must be one of {', '.join(STATUSES)}", err=True)
        raise typer.Exit(2)
    return ViolationFilter(
        actor=actor, step=step, since=since, until=until,
        status=status, policy_version=version, department=department,
    )  # fmt: skip


@violations_app.command("list")
def violations_list(
    *,
    config: ConfigOption = None,
    actor: Actor = None,
    step: Step = None,
    since: Since = None,
    until: Until = None,
    status: Status = None,
    policy_version: Version = None,
    department: Department = None,
) -> None:
    """One line per violation: when detected, who, which step, due when, penalty, status, key."""
    where = _filter(actor, step, since, until, (status, policy_version, department))
    with _session(config) as session:
        for v in iter_violations(session, where):
            when, penalty = v["detected_at"], v["penalty"] or "-"
            line = f"{when}  {v['actor']:<16} {v['step']:<28} due {v['due_at']}  {penalty}  {v['status']}"
            typer.echo(f"{line}  {v['key']}")


@violations_app.command("show")
def violations_show(
    key: str,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The evidence for one violation (by its key): timeline, emails, penalty and period, rulings."""
    with _database(config) as sessions, sessions() as session:
        found = evidence(session, PolicyRegistry(sessions), key)
    if found is None:
        typer.echo(f"no violation with key {key!r}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(evidence_json(found), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(evidence_lines(found)))


@violations_app.command("export")
def violations_export(
    *,
    config: ConfigOption = None,
    format_: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    actor: Actor = None,
    step: Step = None,
    since: Since = None,
    until: Until = None,
    status: Status = None,
    policy_version: Version = None,
    department: Department = None,
) -> None:
    """Stream the (filtered) violation log to standard output as CSV or a JSON array."""
    if format_ not in {"csv", "json"}:
        typer.echo("complaintflow: --format must be csv or json", err=True)
        raise typer.Exit(2)
    where = _filter(actor, step, since, until, (status, policy_version, department))
    write = write_csv if format_ == "csv" else write_json
    with _session(config) as session:
        write(iter_violations(session, where), sys.stdout)


@violations_app.command("rule")
def violations_rule(
    key: str,
    *,
    reason: Annotated[str, typer.Option(help="Why: required, kept in the decision log for good.")],
    by: Annotated[str, typer.Option("--by", help="Username of an auditor account.")],
    confirm: Annotated[bool, typer.Option("--confirm")] = False,
    dispute: Annotated[bool, typer.Option("--dispute")] = False,
    waive: Annotated[bool, typer.Option("--waive")] = False,
    config: ConfigOption = None,
) -> None:
    """Confirm, dispute or waive a violation with a written reason, as an auditor."""
    chosen = [
        r for r, flag in ((Ruling.CONFIRM, confirm), (Ruling.DISPUTE, dispute), (Ruling.WAIVE, waive)) if flag
    ]
    if len(chosen) != 1:
        typer.echo("complaintflow: give exactly one of --confirm, --dispute, --waive", err=True)
        raise typer.Exit(2)
    _keys(config)  # the ruling is appended to the keyed decision log
    with _session(config) as session:
        try:
            with session.begin():
                entry = rule(session, key, chosen[0], reason=reason, auditor=by, now=SystemClock().now())
                status, seq = json.loads(entry.payload)["status"], entry.seq
        except RulingRefused as exc:
            typer.echo(f"complaintflow: {exc}", err=True)
            raise typer.Exit(1) from exc
    typer.echo(f"{key}: {status} (decision log seq={seq})")
