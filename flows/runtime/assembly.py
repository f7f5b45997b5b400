"""Everything a flow run needs, built once per process (database, policies, templates, links, SMTP).

Prefect flow parameters must be serialisable, so flows receive only a complaint id and find the
process's runtime here. At start-up the configured policy file is activated unless it was activated
before and an administrator activated another version since (``PolicyRegistry.start_up``).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from flows.clock import Clock
from flows.intake.store import IntakeWindow
from flows.records import keys as audit_keys
from flows.registry import PolicyRegistry
from flows.runtime.links import ActionLinks
from flows.settings import Settings
from models.db import make_engine, make_sessions, migrate
from notifiers.inbound.imap import ImapSettings
from notifiers.outbound.smtp import SmtpSettings
from notifiers.outbound.templates import TemplateStore


@dataclass
class Runtime:
    sessions: sessionmaker[Session]
    registry: PolicyRegistry
    templates: TemplateStore
    links: ActionLinks
    clock: Clock
    smtp: SmtpSettings
    mail_from: str
    base_url: str
    imap: ImapSettings | None = None  # email intake's mailbox; None: intake is off
    policies_dir: Path | None = None  # where administrators' policy files live (server paths, orgs)
    intake_window: IntakeWindow = field(default_factory=IntakeWindow)  # bounds on staff-supplied times
    poll_seconds: float = 0.5  # the scheduler's poll: how late a healthy runtime may record a miss


_current: Runtime | None = None


def install(runtime: Runtime) -> Runtime:
    global _current  # noqa: PLW0603 - one runtime per process, set by the serving entry point
    _current = runtime
    return runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no complaintflow runtime installed in this process")
    return _current


def build_runtime(settings: Settings, clock: Clock) -> Runtime:
    """Migrate the database, activate the configured policy (start-up rule) and wire the parts together."""
    # Before anything writes to a chain (start-up activation is logged in the decision log).
    audit_keys.install(audit_keys.from_settings(settings))
    migrate(settings.database)
    sessions = make_sessions(make_engine(settings.database))
    registry = PolicyRegistry(sessions, clock=clock)
    registry.start_up(settings.policy_path, settings.org_path)
    folder = registry.templates or Path(settings.policy_path).parent / "templates"
    return Runtime(
        sessions=sessions,
        registry=registry,
        templates=TemplateStore(folder),
        links=ActionLinks(
            settings.secret(), settings.base_url, timedelta(hours=settings.action_link_ttl_hours)
        ),
        clock=clock,
        smtp=SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
        ),
        mail_from=settings.mail_from,
        base_url=settings.base_url,
        imap=settings.imap_settings(),
        policies_dir=Path(settings.policy_path).resolve().parent,
        intake_window=IntakeWindow(
            future_skew=timedelta(minutes=settings.intake_future_skew_minutes),
            max_age=timedelta(days=settings.intake_max_age_days),
        ),
        poll_seconds=settings.scheduler_poll_seconds,
    )
