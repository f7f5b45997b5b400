"""A rendered email as a MIME message ready for SMTP: multipart/alternative (text, then HTML), UTF-8.

Built with the stdlib ``email`` API under the SMTP policy (CRLF line endings, RFC 2047 encoded
Japanese/Chinese headers). We use it with ``cte_type="7bit"``: UTF-8 parts then travel as base64 or
quoted-printable, so delivery never depends on a relay supporting 8BITMIME or SMTPUTF8.
"""

import email.policy
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from types import MappingProxyType

from notifiers.addresses import mailbox, parse_mailbox
from notifiers.errors import BadHeader
from notifiers.headers import check_header, single_line
from notifiers.outbound.templates import RenderedEmail

POLICY = email.policy.SMTP.clone(cte_type="7bit")
# Headers build_message owns: letting callers set them would allow a second recipient or another body.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)
# Defaults a caller may replace. Auto-Submitted (RFC 3834) keeps out-of-office replies from looping.
_DEFAULT_HEADERS = {"Auto-Submitted": "auto-generated"}
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_MESSAGE_ID = re.compile(r"^<?([^<>@\s\x00-\x1f\x7f(),;:\\\"\[\]]+@[^<>@\s\x00-\x1f\x7f(),;:\\\"\[\]]+)>?$")


def build_message(
    *,
    sender: str,
    to_name: str,
    to_address: str,
    rendered: RenderedEmail,
    message_id: str,
    headers: Mapping[str, str] = _NO_HEADERS,
) -> EmailMessage:
    """One email to one person.

    ``sender`` is ``addr@host`` or ``Name <addr@host>``. Addresses are checked (``BadAddress`` for
    anything but exactly one plain address); the display name and subject are collapsed to one line;
    ``message_id`` (with or without angle brackets) is kept so a retried send carries the same
    Message-ID; ``headers`` are extra headers, checked (``BadHeader``) and never allowed to replace
    From/To/Subject/Message-ID/MIME structure. ``Date`` is set to now unless ``headers`` gives one.
    """
    message = EmailMessage(policy=POLICY)
    message["From"] = parse_mailbox(sender)
    message["To"] = mailbox(to_name, to_address)
    message["Subject"] = single_line(rendered.subject)
    message["Message-ID"] = _message_id(message_id)
    extra = {**_DEFAULT_HEADERS, "Date": format_datetime(datetime.now(UTC))}
    for name, value in headers.items():
        check_header(name, value)
        if name.lower() in RESERVED_HEADERS:
            raise BadHeader(f"header {name} is set by build_message and cannot be overridden")
        extra = {key: old for key, old in extra.items() if key.lower() != name.lower()}
        extra[name] = value
    for name, value in extra.items():
        message[name] = value
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def _message_id(value: str) -> str:
    match = _MESSAGE_ID.match(value)
    if match is None:
        raise BadHeader(f"invalid Message-ID {value[:80]!r}: expected <unique@domain>")
    return f"<{match[1]}>"
