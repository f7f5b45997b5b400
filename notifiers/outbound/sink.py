"""A development SMTP server that delivers nowhere: it keeps every message it receives as a file.

``MailSink`` runs aiosmtpd on a loopback address and writes each message to ``<store>/<seq>.eml``
(``000001.eml``, ``000002.eml`` … so names sort by arrival). The file is the message exactly as
received, preceded by one ``X-Complaintflow-Sink:`` header line holding the SMTP envelope and the
arrival time as JSON, so a mail client still opens it and another process (the web page of captured
mail, a test) can read the folder with ``read_store`` without talking to the sink.

Tests stop and start the same sink to simulate an SMTP outage: each ``start()`` creates a fresh
aiosmtpd controller (a stopped one has closed its event loop) on the same port, and numbering resumes
after the highest file already in the store.
"""

import email.policy
import ipaddress
import json
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifiers.errors import SinkFailed

ENVELOPE_HEADER = b"X-Complaintflow-Sink: "
_PARSER = BytesParser(_class=EmailMessage, policy=email.policy.default)
_DIGITS = 6


@dataclass(frozen=True)
class StoredMail:
    """One captured message: its SMTP envelope, the parsed message, when it arrived and its file."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    received_at: datetime
    path: Path


class _Handler:
    """aiosmtpd handler: numbers and writes each message; called on the controller's own thread."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._next = _next_number(store)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        raw = envelope.original_content or b""
        meta = {
            "from": envelope.mail_from or "",
            "to": list(envelope.rcpt_tos),
            "received_at": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            number, self._next = self._next, self._next + 1
        final = self.store / f"{number:0{_DIGITS}d}.eml"
        temporary = self.store / f".{final.name}.tmp"
        # ensure_ascii keeps the header line 7-bit even for SMTPUTF8 envelope addresses.
        temporary.write_bytes(ENVELOPE_HEADER + json.dumps(meta).encode("ascii") + b"\r\n" + raw)
        # Readers list *.eml: the rename makes a message appear complete or not at all.
        os.replace(temporary, final)
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP sink on ``host:port`` (loopback only) storing messages in ``store``.

    ``port=0`` picks a free port once, at construction; ``.port`` then stays the same across
    ``stop()``/``start()`` so senders configured with it reach the sink again after an "outage".
    """

    def __init__(self, store: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = _loopback(host)
        self.port = port or _free_port(self.host)
        self.store = store
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen (again). Raises ``SinkFailed`` when the port is taken."""
        if self._controller is not None:
            return
        self.store.mkdir(parents=True, exist_ok=True)
        _check_free(self.host, self.port)
        controller = Controller(
            _Handler(self.store),
            hostname=self.host,
            port=self.port,
            # A fixed banner name: aiosmtpd's default calls socket.getfqdn(), slow on machines without DNS.
            server_hostname="complaintflow-sink",
            ready_timeout=10.0,
        )
        try:
            controller.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise SinkFailed(f"mail sink cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; stored messages stay. Stopping a stopped sink does nothing."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def messages(self) -> list[StoredMail]:
        """Every stored message, in arrival order (works while stopped too)."""
        return read_store(self.store)

    def clear(self) -> None:
        """Delete every stored message (between tests, or from the development page)."""
        for path in self.store.glob("*.eml"):
            path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def read_store(folder: Path) -> list[StoredMail]:
    """The messages a sink stored in ``folder``, in arrival order; ``[]`` if the folder does not exist."""
    if not folder.is_dir():
        return []
    mails = []
    for path in sorted(folder.glob("*.eml")):
        try:
            mails.append(_read(path))
        except FileNotFoundError:
            continue  # cleared between listing and reading
    return mails


def _read(path: Path) -> StoredMail:
    data = path.read_bytes()
    first, _, raw = data.partition(b"\r\n")
    if not first.startswith(ENVELOPE_HEADER):
        raise SinkFailed(f"{path} was not written by the mail sink (its first line is not the envelope)")
    try:
        meta = json.loads(first[len(ENVELOPE_HEADER) :])
        received_at = datetime.fromisoformat(meta["received_at"])
        envelope_from, envelope_to = str(meta["from"]), [str(address) for address in meta["to"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SinkFailed(f"{path} has an unreadable envelope line: {exc}") from exc
    return StoredMail(envelope_from, envelope_to, _PARSER.parsebytes(raw), received_at, path)


def _next_number(store: Path) -> int:
    numbers = [int(path.stem) for path in store.glob("*.eml") if path.stem.isdigit()]
    return max(numbers, default=0) + 1


def _loopback(host: str) -> str:
    """The sink accepts mail from anyone who can connect, so it must only listen on this machine."""
    address = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SinkFailed(f"the mail sink listens on loopback only (127.0.0.1, ::1, localhost), not {host!r}")
    return address


def _check_free(host: str, port: int) -> None:
    # aiosmtpd reports a failed bind only after its whole ready_timeout; binding first (with the
    # SO_REUSEADDR asyncio also uses, so our own previous run's TIME_WAIT does not count) fails at once.
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SinkFailed(f"mail sink cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    # aiosmtpd cannot listen on port 0 itself (its readiness probe connects to the configured port), so
    # ask the OS for a free port and bind to it; the window between the two is harmless on loopback.
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port
