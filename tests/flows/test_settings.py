"""Settings: environment over file over defaults, and no usable secret outside dev mode."""

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from flows.errors import RuntimeProblem
from flows.records import keys as audit_keys
from flows.settings import load_settings

SECRET = "s" * 40
AUDIT_KEY = "a" * 40
SIGNING_SEED = "5e" * 32
# What every non-dev setting needs besides the secret: the audit keys (flows/records/keys.py).
AUDIT: dict[str, Any] = {"audit_key": AUDIT_KEY, "audit_signing_key": SIGNING_SEED}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "COMPLAINTFLOW_SECRET_KEY",
        "COMPLAINTFLOW_DEV",
        "COMPLAINTFLOW_CONFIG",
        "COMPLAINTFLOW_SMTP_PORT",
        "COMPLAINTFLOW_AUDIT_KEY",
        "COMPLAINTFLOW_AUDIT_KEY_FILE",
        "COMPLAINTFLOW_AUDIT_SIGNING_KEY",
        "COMPLAINTFLOW_AUDIT_SIGNING_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_outside_dev_mode_a_missing_or_short_secret_stops_startup() -> None:
    with pytest.raises(ValidationError, match="COMPLAINTFLOW_SECRET_KEY"):
        load_settings(**AUDIT)
    with pytest.raises(ValidationError, match="at least 32"):
        load_settings(secret_key="short", **AUDIT)


def test_dev_mode_generates_a_secret_once_per_data_folder(tmp_path: Path) -> None:
    first = load_settings(dev=True, data_dir=tmp_path).secret()
    assert len(first) >= 32
    assert load_settings(dev=True, data_dir=tmp_path).secret() == first
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600


def test_the_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "complaintflow.toml"
    config.write_text(
        f'secret_key = "{SECRET}"\nsmtp_port = 2525\nbase_url = "https://cf.example.jp"\n'
        f'audit_key = "{AUDIT_KEY}"\naudit_signing_key = "{SIGNING_SEED}"\n'
    )
    monkeypatch.setenv("COMPLAINTFLOW_SMTP_PORT", "2626")
    settings = load_settings(config)
    assert (settings.smtp_port, settings.base_url) == (2626, "https://cf.example.jp")
    assert settings.secret() == SECRET


def test_a_missing_config_file_and_a_bad_sender_are_reported(tmp_path: Path) -> None:
    with pytest.raises(RuntimeProblem, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ValidationError, match="mail_from"):
        load_settings(dev=True, mail_from="a@b.example, c@d.example")


def test_the_database_defaults_to_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    assert load_settings(dev=True, data_dir=tmp_path).database == f"sqlite:///{tmp_path / 'complaintflow.db'}"


def test_email_intake_is_off_by_default_and_secure_by_default() -> None:
    assert load_settings(secret_key=SECRET, **AUDIT).imap_settings() is None
    on = load_settings(
        secret_key=SECRET,
        imap_host="imap.example.jp",
        imap_username="complaints",
        imap_password="pw",
        **AUDIT,
    ).imap_settings()
    assert on is not None
    assert (on.port, on.ssl, on.mailboxes) == (993, True, ("INBOX",))
    assert "pw" not in repr(on)


def test_email_intake_settings_that_would_leak_or_cannot_work_are_refused() -> None:
    account: dict[str, object] = {
        "secret_key": SECRET,
        "imap_host": "imap.example.jp",
        "imap_username": "complaints",
        **AUDIT,
    }
    with pytest.raises(ValidationError, match="IMAP_PASSWORD"):
        load_settings(None, **account)
    with pytest.raises(ValidationError, match="needs imap_ssl or imap_starttls"):
        load_settings(None, **account, imap_password="pw", imap_ssl=False)
    with pytest.raises(ValidationError, match="not both"):
        load_settings(None, **account, imap_password="pw", imap_starttls=True)
    with pytest.raises(ValidationError, match="at least one IMAP mailbox"):
        load_settings(None, **account, imap_password="pw", imap_mailboxes=[])


def test_outside_dev_mode_missing_or_short_audit_keys_stop_startup(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"COMPLAINTFLOW_AUDIT_KEY .* must be set outside dev mode"):
        load_settings(secret_key=SECRET, audit_signing_key=SIGNING_SEED)
    with pytest.raises(ValidationError, match="COMPLAINTFLOW_AUDIT_KEY must be at least 32"):
        load_settings(secret_key=SECRET, audit_key="short", audit_signing_key=SIGNING_SEED)
    with pytest.raises(ValidationError, match=r"COMPLAINTFLOW_AUDIT_SIGNING_KEY_FILE .* must be set"):
        load_settings(secret_key=SECRET, audit_key=AUDIT_KEY)
    with pytest.raises(ValidationError, match=r"AUDIT_KEY_FILE .* does not exist"):
        load_settings(secret_key=SECRET, audit_key_file=tmp_path / "nope", audit_signing_key=SIGNING_SEED)


def test_audit_keys_from_files(tmp_path: Path) -> None:
    (tmp_path / "chain.key").write_text(AUDIT_KEY + "\n", encoding="ascii")
    pem = Ed25519PrivateKey.generate()
    (tmp_path / "signing.pem").write_bytes(
        pem.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    settings = load_settings(
        secret_key=SECRET,
        audit_key_file=tmp_path / "chain.key",
        audit_signing_key_file=tmp_path / "signing.pem",
    )
    keys = audit_keys.from_settings(settings)
    assert keys.chain == AUDIT_KEY.encode()
    assert audit_keys.public_pem(keys.public_key()) == audit_keys.public_pem(pem.public_key())
    assert keys.checkpoints == settings.data_dir / "audit-checkpoints.jsonl"


def test_dev_mode_generates_the_audit_keys_once_per_data_folder(tmp_path: Path) -> None:
    first = audit_keys.from_settings(load_settings(dev=True, data_dir=tmp_path))
    again = audit_keys.from_settings(load_settings(dev=True, data_dir=tmp_path))
    assert len(first.chain) >= 32
    assert again.chain == first.chain
    assert audit_keys.public_pem(again.public_key()) == audit_keys.public_pem(first.public_key())
    for name in ("dev-audit-key", "dev-audit-signing-key.pem"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    other = audit_keys.from_settings(load_settings(dev=True, data_dir=tmp_path / "other"))
    assert other.chain != first.chain
