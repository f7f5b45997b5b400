"""Reading a mailbox over IMAP with the standard library's imaplib (blocking: run it in a thread).

``ImapSession`` is one logged-in connection: select a folder (learning its UIDVALIDITY), list the UIDs
worth looking at, fetch a message without marking it read (``BODY.PEEK``), and mark it ``\\Seen``
once the caller has stored what it caused. Everything is addressed by UID, which stays valid across
sessions (unlike sequence numbers) as long as the folder's UIDVALIDITY does. Failures raise
``MailboxFailed`` naming the server and command, never a message's content.
"""

import base64
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime

from notifiers.errors import BadSettings, MailboxFailed

MAX_PORT = 65535
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


@dataclass(frozen=True)
class ImapSettings:
    """One IMAP account and the folders of it to poll.

    ``ssl`` is implicit TLS (port 993); ``starttls`` upgrades a plain connection and fails if the
    server cannot; with neither, the password travels in clear (loopback test servers only).
    """

    host: str
    port: int
    username: str
    password: str = field(repr=False)  # kept out of logs and tracebacks
    ssl: bool = True
    starttls: bool = False
    mailboxes: tuple[str, ...] = ("INBOX",)
    poll_seconds: float = 60.0
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.ssl and self.starttls:
            raise BadSettings("choose imap_ssl (implicit TLS) or imap_starttls (upgrade), not both")
        if not 0 < self.port <= MAX_PORT:
            raise BadSettings(f"IMAP port {self.port} is not between 1 and {MAX_PORT}")
        if not self.mailboxes:
            raise BadSettings("list at least one IMAP mailbox to poll")
        if self.poll_seconds <= 0 or self.timeout <= 0:
            raise BadSettings("IMAP poll interval and timeout must be positive")

    def account(self, mailbox: str) -> str:
        """``user@host/folder``: names a folder across servers and accounts (keys processed mail)."""
        return f"{self.username}@{self.host}/{mailbox}"


@dataclass(frozen=True)
class Fetched:
    raw: bytes
    received_at: datetime | None  # the server's INTERNALDATE: when the message reached the mailbox


class ImapSession:
    """A logged-in IMAP connection; use ``connect``. Not thread-safe: one poller owns it."""

    def __init__(self, connection: imaplib.IMAP4, where: str) -> None:
        self._imap = connection
        self._where = where

    def select(self, mailbox: str) -> int:
        """Open ``mailbox`` read-write; return its UIDVALIDITY."""
        self._ok("SELECT", lambda: self._imap.select(quoted_mailbox(mailbox)))
        found = self._imap.response("UIDVALIDITY")[1]  # the untagged "OK [UIDVALIDITY n]" of SELECT
        value = found[-1] if found else None
        if not isinstance(value, bytes) or not value.isdigit():
            raise MailboxFailed(f"IMAP {self._where}: SELECT gave no UIDVALIDITY")
        return int(value)

    def unseen(self) -> list[int]:
        return self._search("UNSEEN")

    def newer_than(self, uid: int) -> list[int]:
        """UIDs above ``uid``, read or not (someone may have opened the mailbox in a mail client)."""
        # "n:*" always includes the highest UID, even when it is below n: filter.
        return [found for found in self._search(f"UID {uid + 1}:*") if found > uid]

    def fetch(self, uid: int) -> Fetched | None:
        """The message's bytes and arrival time, leaving it unread; None if it is gone (expunged)."""
        data = self._ok("FETCH", lambda: self._imap.uid("FETCH", str(uid), "(INTERNALDATE BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:  # noqa: PLR2004 (imaplib's (envelope, literal))
                envelope, raw = item
                if isinstance(envelope, bytes) and isinstance(raw, bytes):
                    return Fetched(raw=raw, received_at=_internaldate(envelope))
        return None

    def mark_seen(self, uid: int) -> None:
        self._ok("STORE", lambda: self._imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"))

    def _search(self, criteria: str) -> list[int]:
        data = self._ok("SEARCH", lambda: self._imap.uid("SEARCH", criteria))
        return sorted({int(n) for chunk in data if isinstance(chunk, bytes) for n in chunk.split()})

    def _ok(self, command: str, call: Callable[[], tuple[str, Sequence[object]]]) -> Sequence[object]:
        """Run one command; anything but OK, a dropped connection or a protocol error is MailboxFailed."""
        try:
            status, data = call()
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxFailed(f"IMAP {self._where}: {command} failed: {_short(str(exc))}") from exc
        if status != "OK":
            detail = next((d for d in data if isinstance(d, bytes)), b"")
            raise MailboxFailed(f"IMAP {self._where}: {command} answered {status} {_short(detail)}")
        return data


@contextmanager
def connect(settings: ImapSettings) -> Iterator[ImapSession]:
    """Connect, upgrade or use TLS as configured, log in; log out when the block ends."""
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.ssl:
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                settings.host,
                settings.port,
                ssl_context=ssl.create_default_context(),
                timeout=settings.timeout,
            )
        else:
            connection = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
            if settings.starttls:
                connection.starttls(ssl_context=ssl.create_default_context())
        connection.login(settings.username, settings.password)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxFailed(f"IMAP {where}: cannot connect or log in: {_short(str(exc))}") from exc
    try:
        yield ImapSession(connection, where)
    finally:
        with suppress(imaplib.IMAP4.error, OSError):  # the connection is going away either way
            connection.logout()


def quoted_mailbox(mailbox: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _modified_utf7(mailbox)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(text: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in text:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _internaldate(envelope: bytes) -> datetime | None:
    found = _INTERNALDATE.search(envelope)
    if found is None:
        return None
    try:
        return datetime.strptime(found[1].decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def _short(detail: bytes | str) -> str:
    text = detail.decode("utf-8", errors="replace") if isinstance(detail, bytes) else detail
    return " ".join(text.split())[:200]
