"""The audit keys the benchmarks run with: non-dev settings require them (flows/settings.py), and chain
writers take them from the process (flows/records/keys.py)."""

from pydantic import SecretStr

from flows.records import keys as audit_keys
from flows.settings import Settings

SECRET = SecretStr("bench-" + "k" * 40)
AUDIT_KEY = SecretStr("bench-audit-" + "a" * 40)
SIGNING_KEY = SecretStr("be" * 32)  # an Ed25519 seed, in hex


def installed(settings: Settings) -> Settings:
    """``settings``, with their audit keys installed in this process (before building a runtime)."""
    audit_keys.install(audit_keys.from_settings(settings))
    return settings


def install_defaults() -> None:
    """The bench keys in this process, for benchmarks that write the chains without a runtime."""
    installed(Settings(secret_key=SECRET, audit_key=AUDIT_KEY, audit_signing_key=SIGNING_KEY))
