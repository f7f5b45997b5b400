"""Settings: one pydantic-settings class, from ``COMPLAINTFLOW_*`` environment variables and an
optional TOML file (``COMPLAINTFLOW_CONFIG`` or ``--config``); the environment wins over the file.

Outside dev mode a missing or short secret key is a startup error: links signed with a guessable
key would let anyone record steps. There is no API token setting: API clients use per-account tokens
(``complaintflow accounts token``), and no account or password has a default outside dev mode.
"""

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from flows.errors import RuntimeProblem
from notifiers.addresses import parse_mailbox
from notifiers.errors import NotifierError
from notifiers.inbound.imap import ImapSettings

SHIPPED_POLICY = Path(__file__).resolve().parent.parent / "policies" / "keieikai_clinic.yaml"
MIN_SECRET_LENGTH = 32
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLAINTFLOW_", extra="forbid")

    dev: bool = False
    data_dir: Path = Path("var")
    database_url: str | None = None
    prefect_api_url: str | None = None
    prefect_database_url: str | None = None
    policy_path: Path = SHIPPED_POLICY
    org_path: Path | None = None
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout: float = 10.0
    mail_from: str = "complaintflow <complaintflow@localhost.localdomain>"
    sink_enabled: bool = False
    action_link_ttl_hours: float = 72.0
    scheduler_poll_seconds: float = 0.5
    run_concurrency: int = 4
    # Email intake: off unless imap_host is set. The port defaults to 993 with imap_ssl, else 143.
    imap_host: str | None = None
    imap_port: int | None = None
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_ssl: bool = True
    imap_starttls: bool = False
    imap_mailboxes: list[str] = ["INBOX"]  # pydantic copies mutable defaults
    imap_poll_seconds: float = 60.0
    # Times staff supply (heard_at, occurred_at) may lie this far ahead of the server's clock (skew
    # between devices) and this far back; outside that window intake answers 422 with the range.
    intake_future_skew_minutes: float = 5.0
    intake_max_age_days: float = 30.0
    # Forwarded headers (X-Forwarded-For, -Proto) are believed only from these proxy addresses: anyone
    # else could rotate them to escape the per-address rate limits.
    trusted_proxies: list[str] = []
    # The local Prefect server's port, when serve starts one (no prefect_api_url).
    prefect_port: int = 4200
    # --- audit (tamper evidence) ---
    # Both keys live outside the database: whoever holds it but not them cannot re-hash an edited
    # chain (HMAC key) nor sign a checkpoint (Ed25519). Dev mode generates them under data_dir
    # (flows.records.keys); elsewhere they are required. The signing key is a PKCS#8 PEM file (as
    # `openssl genpkey -algorithm ed25519` writes) or the 32-byte seed in hex.
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    audit_signing_key: SecretStr | None = None
    audit_signing_key_file: Path | None = None
    audit_checkpoint_path: Path | None = None  # default: data_dir / "audit-checkpoints.jsonl"
    audit_checkpoint_minutes: float = 60.0

    @model_validator(mode="after")
    def _audit_keys_outside_dev(self) -> "Settings":
        key = self.audit_key.get_secret_value() if self.audit_key else None
        if key is not None and len(key) < MIN_SECRET_LENGTH:
            raise ValueError(f"COMPLAINTFLOW_AUDIT_KEY must be at least {MIN_SECRET_LENGTH} characters")
        files = (
            ("AUDIT_KEY_FILE", self.audit_key_file),
            ("AUDIT_SIGNING_KEY_FILE", self.audit_signing_key_file),
        )
        for name, path in files:
            if path is not None and not path.is_file():
                raise ValueError(f"COMPLAINTFLOW_{name} {path} does not exist")
        if self.dev:
            return self
        if key is None and self.audit_key_file is None:
            raise ValueError(
                f"COMPLAINTFLOW_AUDIT_KEY (at least {MIN_SECRET_LENGTH} characters) or"
                " COMPLAINTFLOW_AUDIT_KEY_FILE must be set outside dev mode (or set COMPLAINTFLOW_DEV=1)"
            )
        if self.audit_signing_key is None and self.audit_signing_key_file is None:
            raise ValueError(
                "COMPLAINTFLOW_AUDIT_SIGNING_KEY_FILE (an Ed25519 PEM) or COMPLAINTFLOW_AUDIT_SIGNING_KEY"
                " must be set outside dev mode (or set COMPLAINTFLOW_DEV=1)"
            )
        return self

    @model_validator(mode="after")
    def _secret_outside_dev(self) -> "Settings":
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if not self.dev and len(key) < MIN_SECRET_LENGTH:
            raise ValueError(
                "COMPLAINTFLOW_SECRET_KEY must be set to at least"
                f" {MIN_SECRET_LENGTH} characters outside dev mode (or set COMPLAINTFLOW_DEV=1)"
            )
        return self

    @model_validator(mode="after")
    def _imap_complete(self) -> "Settings":
        if self.imap_host is None:
            return self
        if not self.imap_username or self.imap_password is None:
            raise ValueError(
                "COMPLAINTFLOW_IMAP_USERNAME and COMPLAINTFLOW_IMAP_PASSWORD are required with IMAP_HOST"
            )
        if not (self.imap_ssl or self.imap_starttls or self.imap_host in _LOOPBACK):
            # The login would cross the network in clear text.
            raise ValueError("IMAP to a non-loopback host needs imap_ssl or imap_starttls")
        self.imap_settings()  # port range, ssl/starttls conflict, empty mailbox list
        return self

    @field_validator("mail_from")
    @classmethod
    def _one_sender(cls, value: str) -> str:
        try:
            parse_mailbox(value)
        except NotifierError as exc:
            raise ValueError(f"mail_from: {exc}") from exc
        return value

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'complaintflow.db'}"

    def imap_settings(self) -> ImapSettings | None:
        """The mailbox email intake polls, or None when it is off (no ``imap_host``)."""
        if self.imap_host is None or self.imap_username is None or self.imap_password is None:
            return None
        # BadSettings (bad port, both TLS modes, no mailbox) is a ValueError: pydantic reports it.
        return ImapSettings(
            host=self.imap_host,
            port=self.imap_port or (993 if self.imap_ssl else 143),
            username=self.imap_username,
            password=self.imap_password.get_secret_value(),
            ssl=self.imap_ssl,
            starttls=self.imap_starttls,
            mailboxes=tuple(self.imap_mailboxes),
            poll_seconds=self.imap_poll_seconds,
        )

    def secret(self) -> str:
        """The signing key; in dev mode one is generated once per data folder and kept there."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        stored = self.data_dir / "dev-secret-key"
        if not stored.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            stored.write_text(secrets.token_urlsafe(48), encoding="ascii")
            stored.chmod(0o600)
        return stored.read_text(encoding="ascii").strip()


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from overrides, then the environment, then the TOML file, then defaults."""
    path = config_file
    if path is None and "COMPLAINTFLOW_CONFIG" in os.environ:
        path = Path(os.environ["COMPLAINTFLOW_CONFIG"])
    if path is not None and not path.is_file():
        raise RuntimeProblem(f"config file {path} does not exist")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
            if path is not None:
                sources += (TomlConfigSettingsSource(settings_cls),)
            return sources

    return _FromFile(**overrides)
