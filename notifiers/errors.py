"""Exception root of the notifiers package: callers catch ``NotifierError`` and nothing from jinja2,
email or aiosmtplib leaks out unwrapped (the original is kept as ``__cause__``)."""


class NotifierError(Exception):
    """Root of every error raised by templates, message building, sending and the mail sink."""


class TemplateMissing(NotifierError):
    """A template (or a template it extends or imports) does not exist; the message names the path."""


class TemplateFailed(NotifierError):
    """A template exists but cannot be rendered: syntax error, undefined variable, a sandbox violation
    (``__cause__`` is then ``jinja2.exceptions.SecurityError``), a missing block or an incomplete context."""


class BadAddress(NotifierError):
    """An email address that could smuggle headers or recipients (CR/LF, commas, brackets, several
    addresses) or is not a plain ``local@domain``; rejected rather than repaired."""


class BadHeader(NotifierError):
    """A custom header (or Message-ID) with an invalid name, a CR/LF or control character in its value,
    or one that would override a header ``build_message`` owns."""


class BadSettings(NotifierError, ValueError):
    """Inconsistent SMTP settings; also a ``ValueError`` so pydantic validators report it as one."""


class SendFailed(NotifierError):
    """The SMTP server could not be reached or refused the message.

    The message names the server and the SMTP error, never the message body. ``permanent`` is True only
    when retrying the same message cannot help (the server refused its recipient or its content with a
    5xx code); connection failures, timeouts and 4xx codes are worth retrying with backoff.
    """

    def __init__(
        self, message: str, *, host: str, port: int, code: int | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.code = code
        self.permanent = permanent


class SinkFailed(NotifierError):
    """The development mail sink could not start (port taken, non-loopback host) or read its store."""


class MailboxFailed(NotifierError):
    """The IMAP server could not be reached, refused the login or a command; the message names the
    server, the command and the server's answer, never a message's content."""
