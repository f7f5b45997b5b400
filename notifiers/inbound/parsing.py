"""Incoming mail (raw RFC 5322 bytes) as the parts a complaint needs, with the stdlib's modern email API.

``parse_mail`` never raises on malformed input: undecodable bytes become U+FFFD, a broken header is
read as absent, and the body is the best text part (text/plain, else the HTML converted to text).
It also says whether the message is automated (auto-reply, bounce, delivery or read report), which
intake must not turn into a complaint, and which Message-IDs it replies to. Attachments are listed
(name, type, size), never kept.
"""

import base64
import binascii
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message, MIMEPart

from notifiers.headers import single_line
from notifiers.inbound.charsets import clean_text, decode_text
from notifiers.inbound.html_text import html_to_text

MAX_BODY_CHARS = 100_000  # a complaint is read by people; beyond this it is noise or an attack
MAX_LISTED_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # larger attachments are listed as too large to accept
MAX_NAME_CHARS = 200
TRUNCATED = "\n[…]"

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_MESSAGE_IDS = re.compile(r"<([^<>\s]+)>")
_AUTOMATED_SENDERS = {"mailer-daemon", "postmaster"}
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")
_BULK_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply"}
_JAPANESE_CHARSETS = {"iso-2022-jp", "shift_jis", "shift-jis", "sjis", "cp932", "euc-jp", "windows-31j"}
_CHINESE_CHARSETS = {"gb2312", "gbk", "gb18030", "big5", "big5-hkscs", "cp950", "hz-gb-2312"}
_KANA = re.compile("[\u3041-\u30ff\uff66-\uff9f]")
_HAN = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    content: bytes = b""  # the decoded file, kept only when it is within MAX_ATTACHMENT_BYTES

    @property
    def too_large(self) -> bool:
        return self.size > MAX_ATTACHMENT_BYTES


@dataclass(frozen=True)
class ParsedMail:
    """What intake reads from one message. ``automated`` names why it is not a person's mail."""

    message_id: str | None  # without angle brackets
    key: str  # "mid:<sha256 of the Message-ID>", or "raw:<sha256 of the bytes>" when it has none
    subject: str
    from_name: str | None
    from_address: str | None  # lower-cased addr-spec
    date: datetime | None
    body: str
    attachments: tuple[Attachment, ...]
    more_attachments: int  # beyond MAX_LISTED_ATTACHMENTS, counted only
    replies_to: tuple[str, ...]  # In-Reply-To first, then References newest first; no brackets
    automated: str | None
    language: str | None  # "ja" / "zh" when the charset or the script says so


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one message; see the module docstring. Never raises for any input bytes."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # what policy.default builds
    subject = single_line(_header_text(message, "subject"))
    body, charset = _body(message)
    attachments = _attachments(message, exclude=_chosen_part(message))
    message_id = _first_id(_header_text(message, "message-id"))
    from_name, from_address = _sender(message)
    return ParsedMail(
        message_id=message_id,
        key=_key(message_id, raw),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        date=_date(message),
        body=body,
        attachments=tuple(attachments[:MAX_LISTED_ATTACHMENTS]),
        more_attachments=max(len(attachments) - MAX_LISTED_ATTACHMENTS, 0),
        replies_to=_replies_to(message),
        automated=automated_reason(message, from_address),
        language=_language(charset, subject + "\n" + body),
    )


def automated_reason(message: Message, from_address: str | None) -> str | None:
    """Why the message was sent by a machine rather than a person, or None (RFC 3834 and practice)."""
    auto_submitted = _header_text(message, "auto-submitted").split(";")[0].strip().lower()
    checks = (
        ("auto-submitted", auto_submitted not in {"", "no"}),
        ("autoreply-header", any(_header_text(message, h) for h in _AUTOREPLY_HEADERS)),
        ("precedence", _header_text(message, "precedence").strip().lower() in _BULK_PRECEDENCE),
        # Delivery status (a bounce), a read receipt or a feedback report.
        ("report", message.get_content_type() in {"multipart/report", "message/delivery-status"}),
        ("mailer-daemon", bool(from_address) and str(from_address).split("@")[0] in _AUTOMATED_SENDERS),
        ("null-sender", _header_text(message, "return-path").strip() == "<>"),
    )
    return next((reason for reason, hit in checks if hit), None)


def _header_text(message: Message, name: str) -> str:
    """A header's text with RFC 2047 encoded words decoded by our charset rules; "" when absent.

    Read from the raw value: the email package decodes a "GB2312" word holding GBK characters, or
    raw 8-bit Shift_JIS, into surrogates; here they get the charset supersets of ``decode_text``.
    """
    raw = next((value for key, value in message.raw_items() if key.lower() == name), None)
    if raw is None:
        return ""
    text = _raw_8bit(str(raw))
    out: list[str] = []
    position = 0
    for word in _ENCODED_WORD.finditer(text):
        between = text[position : word.start()]
        # Whitespace between two encoded words is folding, not content (RFC 2047 section 6.2).
        if not (out and position and _BETWEEN_WORDS.fullmatch(between)):
            out.append(between)
        out.append(_decode_word(word[1], word[2], word[3]))
        position = word.end()
    out.append(text[position:])
    return clean_text("".join(out)).replace("\n", " ")


def _raw_8bit(value: str) -> str:
    """Undeclared 8-bit header bytes (the parser keeps them as surrogates) decoded by a best guess."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", errors="surrogateescape")
    for charset in ("utf-8", "cp932", "gb18030"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def _decode_word(charset: str, encoding: str, text: str) -> str:
    try:
        if encoding in "bB":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = binascii.a2b_qp(text.encode("ascii", errors="replace"), header=True)
    except (binascii.Error, ValueError):
        return "\ufffd"
    return decode_text(data, charset.split("*", maxsplit=1)[0])  # RFC 2231 adds "*lang" to the charset


def _chosen_part(message: EmailMessage) -> MIMEPart | None:
    try:
        return message.get_body(preferencelist=("plain", "html"))
    except Exception:  # a malformed structure means no body, not a failed intake
        return None


def _body(message: EmailMessage) -> tuple[str, str | None]:
    """The best text of the message and the charset it was declared in."""
    part = _chosen_part(message)
    if part is None:
        return "", None
    charset = part.get_content_charset()
    text = clean_text(decode_text(_payload(part), charset))
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    text = text.strip()
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + TRUNCATED
    return text, charset


def _payload(part: Message) -> bytes:
    """The part's bytes with its transfer encoding undone (broken base64 decodes as far as it can)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # never fail on a broken part
        return b""
    return data if isinstance(data, bytes) else b""


def _attachments(message: Message, exclude: Message | None) -> list[Attachment]:
    found: list[Attachment] = []
    for part in _leaves(message):
        if part is exclude:
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if disposition != "attachment" and name is None and part.get_content_maintype() == "text":
            continue  # an alternative or extra text part of the body, not an attachment
        size = _size(part)
        content = _content(part) if size <= MAX_ATTACHMENT_BYTES else b""
        found.append(Attachment(_file_name(name, part), part.get_content_type(), size, content))
    return found


def _leaves(message: Message) -> list[Message]:
    """Non-multipart parts in order; an attached message (message/rfc822) counts as one leaf."""
    parts = message.get_payload() if message.get_content_maintype() == "multipart" else None
    if isinstance(parts, list):
        return [leaf for part in parts if isinstance(part, Message) for leaf in _leaves(part)]
    return [message]


def _file_name(name: str | None, part: Message) -> str:
    if not name and part.get_content_type() == "message/rfc822":
        inner = part.get_payload(0) if isinstance(part.get_payload(), list) else None
        name = _header_text(inner, "subject") + ".eml" if isinstance(inner, Message) else None
    # Only the last path component, on one line: the name is shown to staff, never used as a path.
    cleaned = single_line(clean_text(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    return (cleaned or "(unnamed)")[:MAX_NAME_CHARS]


def _content(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        try:
            return part.as_bytes()
        except Exception:  # a broken attached message is listed without its bytes
            return b""
    return _payload(part)


def _size(part: Message) -> int:
    if part.get_content_type() == "message/rfc822":
        try:
            return len(part.as_bytes())
        except Exception:  # a broken attached message still gets listed
            return 0
    return len(_payload(part))


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    try:
        header = message["From"]
        addresses = header.addresses if header is not None else ()
    except Exception:  # an unparsable From is an unknown sender
        return None, None
    if not addresses:
        return None, None
    first = addresses[0]
    name = single_line(clean_text(first.display_name)) or None
    address = clean_text(first.addr_spec).strip().lower() or None
    return name, address if address and "@" in address else None


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message["Date"]
        value = header.datetime if header is not None else None
    except Exception:  # a malformed date is an unknown date
        return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def _first_id(value: str) -> str | None:
    found = _MESSAGE_IDS.search(value)
    return found[1] if found else (value.strip() or None)


def _replies_to(message: Message) -> tuple[str, ...]:
    in_reply_to = _MESSAGE_IDS.findall(_header_text(message, "in-reply-to"))
    references = _MESSAGE_IDS.findall(_header_text(message, "references"))
    return tuple(dict.fromkeys([*in_reply_to, *reversed(references)]))


def _key(message_id: str | None, raw: bytes) -> str:
    if message_id:
        return "mid:" + hashlib.sha256(message_id.encode("utf-8", errors="replace")).hexdigest()
    return "raw:" + hashlib.sha256(raw).hexdigest()


def _language(charset: str | None, text: str) -> str | None:
    label = (charset or "").lower()
    if label in _JAPANESE_CHARSETS or _KANA.search(text):
        return "ja"
    if label in _CHINESE_CHARSETS or _HAN.search(text):
        return "zh"
    return None
