"""Building a runtime for tests: real database and SMTP sink, a fake clock, the shipped templates."""

import re
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from flows.clock import FakeClock
from flows.records import keys as audit_keys
from flows.runtime.assembly import Runtime, build_runtime, install
from flows.settings import Settings
from notifiers.outbound.sink import MailSink
from tests.factories import REPO

CLINIC = REPO / "policies" / "keieikai_clinic.yaml"
START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
# The audit keys non-dev test settings carry (tests run in-process CLI commands with them too).
AUDIT_KEY = "test-audit-key-" + "k" * 32
AUDIT_SIGNING_KEY = "5e" * 32  # an Ed25519 seed, in hex
AUDIT_ENV = {"COMPLAINTFLOW_AUDIT_KEY": AUDIT_KEY, "COMPLAINTFLOW_AUDIT_SIGNING_KEY": AUDIT_SIGNING_KEY}


def make_runtime(database_url: str, sink: MailSink, clock: FakeClock, policy: Path = CLINIC) -> Runtime:
    """The runtime `serve` builds, from settings, with this database, sink, clock and policy."""
    settings = Settings(
        secret_key=SecretStr("test-secret-" + "x" * 32),
        database_url=database_url,
        policy_path=policy,
        smtp_port=sink.port,
        base_url="http://testserver",
        mail_from="complaints@keieikai.example",
        # The checkpoint file lives here: a folder of its own per runtime, never the working directory.
        data_dir=Path(tempfile.mkdtemp(prefix="complaintflow-test-")),
        audit_key=SecretStr(AUDIT_KEY),
        audit_signing_key=SecretStr(AUDIT_SIGNING_KEY),
    )
    audit_keys.install(audit_keys.from_settings(settings))  # before build_runtime: it activates a policy
    return install(build_runtime(settings, clock))


ACTION_LINK = re.compile(r"https?://[^/\s]+(/a/[A-Za-z0-9_.\-]+)")


def action_paths(sink: MailSink, address: str, step: str) -> list[str]:
    """The ``/a/<token>`` paths in the plain-text emails ``address`` received for ``step``."""
    found: list[str] = []
    for mail in sink.messages():
        if address in mail.envelope_to and mail.message["X-Complaintflow-Step"] == step:
            body = mail.message.get_body(preferencelist=("plain",))
            found += ACTION_LINK.findall(str(body.get_content()) if body else "")
    return found
