"""The audit keys of this process: the HMAC key of both hash chains and the checkpoints' Ed25519 key.

Both are kept outside the database (settings or key files): someone who can only edit the database
can neither re-hash a chain after an edit nor sign a checkpoint. In dev mode each is generated once
per data folder and kept there, like ``Settings.secret()``. Chain writers take the key installed in
the process (``install``, called where the runtime is built), since they are called deep inside
transactions that know only their session.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from flows.errors import RuntimeProblem
from flows.settings import Settings

DEV_CHAIN_KEY = "dev-audit-key"
DEV_SIGNING_KEY = "dev-audit-signing-key.pem"
CHECKPOINTS = "audit-checkpoints.jsonl"


@dataclass(frozen=True)
class AuditKeys:
    chain: bytes  # HMAC-SHA256 key of the event log and the decision log
    signing: Ed25519PrivateKey
    checkpoints: Path  # the append-only JSON-lines checkpoint file
    interval: timedelta  # how often the scheduler writes a checkpoint

    def public_key(self) -> Ed25519PublicKey:
        return self.signing.public_key()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An auditor's copy of the public key (the PEM `audit public-key` prints)."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise RuntimeProblem(f"cannot read an Ed25519 public key from {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise RuntimeProblem(f"{path} holds a public key that is not Ed25519")
    return key


def from_settings(settings: Settings) -> AuditKeys:
    return AuditKeys(
        chain=_chain_key(settings),
        signing=_signing_key(settings),
        checkpoints=settings.audit_checkpoint_path or settings.data_dir / CHECKPOINTS,
        interval=timedelta(minutes=settings.audit_checkpoint_minutes),
    )


def _chain_key(settings: Settings) -> bytes:
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    path = settings.audit_key_file or _generated(settings, DEV_CHAIN_KEY, lambda: secrets.token_urlsafe(48))
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:  # noqa: PLR2004 - MIN_SECRET_LENGTH, as for the setting
        raise RuntimeProblem(f"the audit key in {path} is shorter than 32 characters")
    return key.encode()


def _signing_key(settings: Settings) -> Ed25519PrivateKey:
    if settings.audit_signing_key is not None:
        return _parse_signing_key(
            settings.audit_signing_key.get_secret_value(), "COMPLAINTFLOW_AUDIT_SIGNING_KEY"
        )
    path = settings.audit_signing_key_file or _generated(settings, DEV_SIGNING_KEY, _new_pem)
    return _parse_signing_key(path.read_text(encoding="ascii"), str(path))


def _parse_signing_key(text: str, where: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except ValueError as exc:
        raise RuntimeProblem(f"{where}: not an Ed25519 private key (PKCS#8 PEM or 64 hex digits)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeProblem(f"{where}: the private key is not Ed25519")
    return key


def _new_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def _generated(settings: Settings, name: str, make: Callable[[], str]) -> Path:
    """Dev mode's key file in the data folder, made on first use (the settings refuse this outside dev)."""
    stored = settings.data_dir / name
    if not stored.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        stored.write_text(make(), encoding="ascii")
        stored.chmod(0o600)
    return stored


_installed: AuditKeys | None = None


def install(keys: AuditKeys) -> AuditKeys:
    global _installed  # noqa: PLW0603 - one set of keys per process, like flows.runtime.assembly.install
    _installed = keys
    return keys


def installed() -> AuditKeys:
    if _installed is None:
        raise RuntimeProblem(
            "no audit keys installed in this process: call "
            "flows.records.keys.install(from_settings(settings))"
        )
    return _installed


def installed_or_none() -> AuditKeys | None:
    return _installed
