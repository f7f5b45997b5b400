"""Reading the complaint forms: size limits, field checks, and the ``NewComplaint`` they describe.

Errors are message keys (texts in ``pages.TEXTS``) per field, so the form can be shown again, in the
visitor's language, with what they typed. The complainant's email is checked by the same function as
the JSON API's (``notifiers.addresses.complainant_address``), and the staff form's "when it was heard"
by the same intake window.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData, UploadFile

from flows.intake.store import PUBLIC_CHANNELS, STAFF_ONLY_FIELDS, IntakeWindow, NewComplaint
from models.complaint import Channel, Complainant
from notifiers.addresses import complainant_address

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# Multipart framing and the text fields on top of the attachments; anything larger is refused
# before the body is parsed.
MAX_REQUEST_BYTES = MAX_TOTAL_BYTES + 256 * 1024
MAX_TEXT = 10_000
MAX_LINE = 200

# Control characters break headers and logs (CRLF injection); free text may keep newlines and tabs.
_LINE_BAD = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_TEXT_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^[0-9+()\- ]{3,30}$")


class TooLarge(Exception):
    """An attachment or the whole request is over the limit (answered 413)."""


@dataclass(frozen=True)
class Upload:
    """An uploaded file within the limits, read into memory (at most 10 MB in all)."""

    name: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class Parsed:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    attachments: list[Upload] = field(default_factory=list)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _line(parsed: Parsed, form: FormData, name: str, limit: int = MAX_LINE) -> str | None:
    value = _text(form, name)
    parsed.values[name] = value
    if len(value) > limit:
        parsed.errors[name] = "err_too_long"
    elif _LINE_BAD.search(value):
        parsed.errors[name] = "err_bad_chars"
    return value or None


def _body(parsed: Parsed, form: FormData) -> str:
    value = _text(form, "body")
    parsed.values["body"] = value
    if not value:
        parsed.errors["body"] = "err_required"
    elif len(value) > MAX_TEXT:
        parsed.errors["body"] = "err_too_long"
    elif _TEXT_BAD.search(value):
        parsed.errors["body"] = "err_bad_chars"
    return value


def _email(parsed: Parsed, form: FormData) -> str | None:
    value = _line(parsed, form, "email", 254)
    if value is None or "email" in parsed.errors:
        return value
    try:
        return complainant_address(value)
    except ValueError:
        parsed.errors["email"] = "err_email"
        return None


def staff_fields_in(form: FormData) -> list[str]:
    """The fields only staff may set that a post to the public form carries (``channel`` if not web)."""
    found = [name for name in STAFF_ONLY_FIELDS if _text(form, name)]
    channel = _text(form, "channel")
    if channel and channel not in PUBLIC_CHANNELS:
        found.insert(0, "channel")
    return found


def _category(parsed: Parsed, form: FormData, categories: tuple[tuple[str, str], ...]) -> str | None:
    value = _text(form, "category")
    parsed.values["category"] = value
    if value and value not in {c for c, _ in categories}:
        parsed.errors["category"] = "err_choice"
    return value or None


def _attachments(parsed: Parsed, form: FormData) -> None:
    files = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_FILES:
        raise TooLarge
    total = 0
    for upload in files:
        size = upload.size or 0
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise TooLarge
        name = _LINE_BAD.sub("", upload.filename or "")[:120]
        kind = _LINE_BAD.sub("", upload.content_type or "application/octet-stream")[:100]
        content = upload.file.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:  # the declared size can lie; the bytes cannot
            raise TooLarge
        parsed.attachments.append(Upload(name=name, content_type=kind, content=content))


def _with_attachments(body: str, attachments: list[Upload]) -> str:
    # The files are stored with the complaint; the list in the text tells staff reading the
    # notification email that there are files to look at.
    if not attachments:
        return body
    listed = "\n".join(f"- {a.name} ({a.content_type}, {a.size} bytes)" for a in attachments)
    return f"{body}\n\n[Attachments]\n{listed}"


def parse_public(
    form: FormData, categories: tuple[tuple[str, str], ...], language: str
) -> tuple[Parsed, NewComplaint | None]:
    """The patient/family form: contact details optional, consent required."""
    parsed = Parsed(values={})
    name = _line(parsed, form, "name")
    email = _email(parsed, form)
    phone = _line(parsed, form, "phone", 30)
    if phone and not _PHONE.match(phone):
        parsed.errors["phone"] = "err_phone"
    category = _category(parsed, form, categories)
    subject = _line(parsed, form, "subject")
    body = _body(parsed, form)
    parsed.values["consent"] = _text(form, "consent")
    if parsed.values["consent"] != "yes":
        parsed.errors["consent"] = "err_consent"
    _attachments(parsed, form)
    if parsed.errors:
        return parsed, None
    return parsed, NewComplaint(
        channel=Channel.WEB,
        category=category,
        complainant=Complainant(name=name, email=email, phone=phone, language=language),
        subject=subject,
        body=_with_attachments(body, parsed.attachments),
    )


def parse_staff(
    form: FormData,
    categories: tuple[tuple[str, str], ...],
    people: set[str],
    zone: ZoneInfo,
    *,
    now: datetime,
    window: IntakeWindow,
) -> tuple[Parsed, NewComplaint | None]:
    """The staff form for a phone or desk complaint: who heard it and when start the chain (R1)."""
    parsed = Parsed(values={})
    heard_by = _text(form, "heard_by")
    parsed.values["heard_by"] = heard_by
    if heard_by not in people:
        parsed.errors["heard_by"] = "err_choice"
    heard_at = _heard_at(parsed, form, zone, now, window)
    channel = _text(form, "channel")
    parsed.values["channel"] = channel
    if channel not in (Channel.PHONE.value, Channel.DESK.value):
        parsed.errors["channel"] = "err_choice"
    name = _line(parsed, form, "name")
    phone = _line(parsed, form, "phone", 30)
    if phone and not _PHONE.match(phone):
        parsed.errors["phone"] = "err_phone"
    category = _category(parsed, form, categories)
    subject = _line(parsed, form, "subject")
    body = _body(parsed, form)
    if parsed.errors:
        return parsed, None
    return parsed, NewComplaint(
        channel=Channel(channel),
        category=category,
        heard_by=heard_by,
        heard_at=heard_at,
        complainant=Complainant(name=name, phone=phone),
        subject=subject,
        body=body,
    )


def _heard_at(
    parsed: Parsed, form: FormData, zone: ZoneInfo, now: datetime, window: IntakeWindow
) -> datetime | None:
    # datetime-local sends wall-clock time without an offset: it is the policy's time zone.
    raw = _text(form, "heard_at")
    parsed.values["heard_at"] = raw
    try:
        heard = datetime.strptime(raw[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=zone)
    except ValueError:
        parsed.errors["heard_at"] = "err_datetime"
        return None
    if not window.contains(heard, now):
        parsed.errors["heard_at"] = "err_time_range"  # shown with the window's bounds (forms.py)
        return None
    return heard


def local_input_value(moment: datetime, zone: ZoneInfo) -> str:
    """``moment`` as a datetime-local input value in ``zone``."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
