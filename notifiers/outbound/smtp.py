"""Sending one message to the configured SMTP server with aiosmtplib.

``send`` either hands the message to the server or raises ``SendFailed``; it never retries. Retries and
backoff belong to the outbox, which knows whether a message was already accepted.
"""

from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib import (
    SMTPDataError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from notifiers.errors import BadSettings, SendFailed

MAX_PORT = 65535
_PERMANENT = 500  # SMTP reply codes 5xx: the server will refuse this message again


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send. The defaults reach the development sink on loopback.

    ``starttls`` upgrades a plain connection and fails if the server cannot (no silent fallback to
    plain text); ``False`` never upgrades. ``use_tls`` is implicit TLS from the first byte (port 465).
    """

    host: str = "127.0.0.1"
    port: int = 8025
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # kept out of logs and tracebacks
    starttls: bool = False
    use_tls: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise BadSettings("choose starttls (upgrade a plain connection) or use_tls (implicit TLS)")
        if not 0 < self.port <= MAX_PORT:
            raise BadSettings(f"SMTP port {self.port} is not between 1 and {MAX_PORT}")
        if self.timeout <= 0:
            raise BadSettings("SMTP timeout must be positive")
        if (self.username is None) != (self.password is None):
            raise BadSettings("SMTP username and password go together: set both or neither")


async def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Deliver ``message`` to its From/To addresses through the server in ``settings``.

    Raises ``SendFailed`` (naming host, port and the SMTP error, never the body) on any connection,
    TLS, authentication or SMTP error; ``SendFailed.permanent`` tells the outbox whether a retry can help.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        refused, _ = await aiosmtplib.send(
            message,
            hostname=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            start_tls=settings.starttls,
            use_tls=settings.use_tls,
            timeout=settings.timeout,
        )
    except SMTPRecipientsRefused as exc:
        codes = [recipient.code for recipient in exc.recipients]
        reasons = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        raise _failed(f"{where} refused every recipient: {reasons}", settings, exc, codes) from exc
    except SMTPResponseException as exc:
        message_specific = isinstance(exc, SMTPRecipientRefused | SMTPDataError)
        text = f"{where} answered {exc.code} {exc.message} ({type(exc).__name__})"
        raise _failed(text, settings, exc, [exc.code] if message_specific else []) from exc
    except (SMTPException, OSError, TimeoutError) as exc:
        # Connection refused, DNS failure, TLS handshake, timeouts, disconnects, unsupported STARTTLS.
        detail = str(exc) or type(exc).__name__
        text = f"cannot send through {where}: {detail}"
        raise SendFailed(text, host=settings.host, port=settings.port) from exc
    except ValueError as exc:
        # aiosmtplib could not take sender/recipients from the message: sending it again cannot help.
        text = f"cannot send through {where}: {exc}"
        raise SendFailed(text, host=settings.host, port=settings.port, permanent=True) from exc
    if refused:
        # Some recipients accepted it and some refused it (build_message makes one recipient, so only a
        # hand-built message gets here). Permanent: a retry would send the accepted ones a duplicate.
        reasons = "; ".join(f"{address}: {reply.code} {reply.message}" for address, reply in refused.items())
        text = f"{where} refused some recipients: {reasons}"
        raise SendFailed(text, host=settings.host, port=settings.port, permanent=True)


def _failed(text: str, settings: SmtpSettings, exc: SMTPException, codes: list[int]) -> SendFailed:
    """A SendFailed that is permanent when every message-specific reply code was a 5xx."""
    code = exc.code if isinstance(exc, SMTPResponseException) else (codes[0] if codes else None)
    permanent = bool(codes) and all(c >= _PERMANENT for c in codes)
    return SendFailed(text, host=settings.host, port=settings.port, code=code, permanent=permanent)
