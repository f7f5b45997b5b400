"""Checks on a new complaint that a schema cannot express: who may say what, and words and times.

Who: anonymous intake takes what a complainant can know (channel ``web``, their details, category,
subject, text). Who heard it and when, when it happened, another channel and the triage fields start
deadlines that end in penalties for named people, so they need a staff or admin account; anyone else
sending them gets 403 naming the fields, never a silent drop.

Words: an unknown ``category`` or ``heard_by`` would be stored and then silently match no policy
condition (or name a first hearer nobody can reach), so intake answers 422 naming the allowed values.
Times staff supply must lie in the intake window (``flows.intake.store.IntakeWindow``): 422 with the range.
Strings must also be storable: NUL and lone surrogates cannot be encoded in the event log's JSON text
on every database, so they are refused here rather than failing later.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from app.web.auth import Principal, Role
from flows.intake.store import IntakeWindow, NewComplaint, staff_only
from flows.registry import Pinned

TRUSTED = frozenset({Role.STAFF, Role.ADMIN})  # the roles that may record what staff heard


def check_trust(new: NewComplaint, user: Principal | None) -> None:
    """Raise 403 if ``new`` carries fields only a staff or admin account may set and ``user`` is none."""
    if user is not None and user.role in TRUSTED:
        return
    fields = staff_only(new)
    if not fields:
        return
    named = ", ".join(f"channel={new.channel.value}" if f == "channel" else f for f in fields)
    who = "an anonymous request" if user is None else f"the role {user.role.value}"
    raise HTTPException(
        status_code=403,
        detail=(
            f"{named}: only a staff or admin account may set this ({who} may not; send its API token"
            " as Authorization: Bearer, or sign in). A complainant sends channel web, complainant,"
            " category, subject and body."
        ),
    )


def check_new_complaint(
    new: NewComplaint, pinned: Pinned | None, window: IntakeWindow, now: datetime
) -> None:
    """Raise ``RequestValidationError`` (422, field-level) for words the policy lacks, times outside
    the intake window or text that cannot be stored."""
    errors = [
        *(_vocabulary_errors(new, pinned) if pinned is not None else ()),
        *_time_errors(new, window, now),
        *_unstorable(new.model_dump(mode="python"), ("body",)),
    ]
    if errors:
        raise RequestValidationError(errors)


def window_message(field: str, window: IntakeWindow, now: datetime) -> str:
    earliest, latest = (moment.replace(microsecond=0).isoformat() for moment in window.bounds(now))
    return (
        f"{field} must lie between {earliest} and {latest}: at most {_span(window.max_age)} before"
        f" the server's clock and {_span(window.future_skew)} after it"
    )


def _span(length: timedelta) -> str:
    seconds = length.total_seconds()
    if seconds >= 86400 and seconds % 86400 == 0:  # noqa: PLR2004 (a day)
        return f"{seconds / 86400:g} days"
    return f"{seconds / 60:g} minutes"


def _time_errors(new: NewComplaint, window: IntakeWindow, now: datetime) -> Iterator[dict[str, object]]:
    for field in window.outside(new, now):
        moment = getattr(new, field)
        yield _error(("body", field), window_message(field, window, now), moment.isoformat())


def _allowed(pinned: Pinned) -> dict[str, list[str]]:
    spec = pinned.spec
    return {
        "category": list(spec.categories),
        "severity": list(spec.severities),
        "complexity": list(spec.complexities),
        "department": [d.id for d in pinned.org.departments],
        "heard_by": [p.id for p in pinned.org.people],
    }


def _vocabulary_errors(new: NewComplaint, pinned: Pinned) -> Iterator[dict[str, object]]:
    for field, allowed in _allowed(pinned).items():
        value = getattr(new, field)
        if value is not None and value not in allowed:
            yield _error(("body", field), f"unknown {field}: allowed values are {', '.join(allowed)}", value)


def _unstorable(value: object, loc: tuple[str | int, ...]) -> Iterator[dict[str, object]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _unstorable(item, (*loc, key))
    elif isinstance(value, str) and not _storable(value):
        # The input itself is not echoed: it is what could not be encoded.
        yield _error(loc, "text contains NUL or unpaired surrogate characters", None)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _error(loc: tuple[str | int, ...], message: str, value: object) -> dict[str, object]:
    return {"type": "value_error", "loc": loc, "msg": message, "input": value}
