"""The test IMAP server (dovecot, started by tests/conftest.py) and what tests do with it: make
folders, put messages in with APPEND, and look at which are still unread."""

import imaplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from notifiers.inbound.imap import ImapSettings, quoted_mailbox


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    username: str
    password: str

    def settings(self, *folders: str) -> ImapSettings:
        """Settings for plain IMAP on loopback (the production default is TLS)."""
        return ImapSettings(
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            ssl=False,
            mailboxes=folders,
            timeout=10,
        )

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(self.username, self.password)
        try:
            yield connection
        finally:
            connection.logout()

    def create(self, folder: str) -> None:
        with self.client() as imap:
            status, detail = imap.create(quoted_mailbox(folder))
            assert status == "OK", detail

    def append(self, folder: str, raw: bytes, *, arrived: datetime, seen: bool = False) -> None:
        """Deliver a message as a mail server would, arriving (INTERNALDATE) at ``arrived``;
        ``seen``: as if someone had already opened it in a mail client."""
        with self.client() as imap:
            status, detail = imap.append(quoted_mailbox(folder), r"(\Seen)" if seen else "", arrived, raw)
            assert status == "OK", detail

    def unseen(self, folder: str) -> list[int]:
        with self.client() as imap:
            imap.select(quoted_mailbox(folder), readonly=True)
            _, data = imap.uid("SEARCH", "UNSEEN")
            return [int(uid) for uid in (data[0] or b"").split()]
