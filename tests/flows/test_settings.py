"""Settings: environment over file over defaults, and no usable secret outside dev mode."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.errors import RuntimeProblem
from flows.settings import load_settings

SECRET = "s" * 40


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "COMPLAINTFLOW_SECRET_KEY",
        "COMPLAINTFLOW_DEV",
        "COMPLAINTFLOW_CONFIG",
        "COMPLAINTFLOW_SMTP_PORT",
    ):
        monkeypatch.delenv(name, raising=False)


def test_outside_dev_mode_a_missing_or_short_secret_stops_startup() -> None:
    with pytest.raises(ValidationError, match="COMPLAINTFLOW_SECRET_KEY"):
        load_settings()
    with pytest.raises(ValidationError, match="at least 32"):
        load_settings(secret_key="short")


def test_dev_mode_generates_a_secret_once_per_data_folder(tmp_path: Path) -> None:
    first = load_settings(dev=True, data_dir=tmp_path).secret()
    assert len(first) >= 32
    assert load_settings(dev=True, data_dir=tmp_path).secret() == first
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o777 == 0o600


def test_the_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "complaintflow.toml"
    config.write_text(f'secret_key = "{SECRET}"\nsmtp_port = 2525\nbase_url = "https://cf.example.jp"\n')
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
    assert load_settings(secret_key=SECRET).imap_settings() is None
    on = load_settings(
        secret_key=SECRET, imap_host="imap.example.jp", imap_username="complaints", imap_password="pw"
    ).imap_settings()
    assert on is not None
    assert (on.port, on.ssl, on.mailboxes) == (993, True, ("INBOX",))
    assert "pw" not in repr(on)


def test_email_intake_settings_that_would_leak_or_cannot_work_are_refused() -> None:
    account: dict[str, object] = {
        "secret_key": SECRET,
        "imap_host": "imap.example.jp",
        "imap_username": "complaints",
    }
    with pytest.raises(ValidationError, match="IMAP_PASSWORD"):
        load_settings(None, **account)
    with pytest.raises(ValidationError, match="needs imap_ssl or imap_starttls"):
        load_settings(None, **account, imap_password="pw", imap_ssl=False)
    with pytest.raises(ValidationError, match="not both"):
        load_settings(None, **account, imap_password="pw", imap_starttls=True)
    with pytest.raises(ValidationError, match="at least one IMAP mailbox"):
        load_settings(None, **account, imap_password="pw", imap_mailboxes=[])
