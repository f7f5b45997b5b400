"""Checks on a new complaint that a schema cannot express: its words must exist in the active policy.

An unknown ``category`` or ``heard_by`` would be stored and then silently match no policy condition
(or name a first hearer nobody can reach), so intake through the API answers 422 naming the allowed
values instead. Strings must also be storable: NUL and lone surrogates cannot be encoded in the
event log's JSON text on every database, so they are refused here rather than failing later.
"""

from collections.abc import Iterator

from fastapi.exceptions import RequestValidationError

from flows.registry import Pinned
from models.events import ComplaintDetails


def check_new_complaint(new: ComplaintDetails, pinned: Pinned) -> None:
    """Raise ``RequestValidationError`` (422, field-level) if ``new`` uses words the policy lacks."""
    errors = [*_vocabulary_errors(new, pinned), *_unstorable(new.model_dump(mode="python"), ("body",))]
    if errors:
        raise RequestValidationError(errors)


def _allowed(pinned: Pinned) -> dict[str, list[str]]:
    spec = pinned.spec
    return {
        "category": list(spec.categories),
        "severity": list(spec.severities),
        "complexity": list(spec.complexities),
        "department": [d.id for d in pinned.org.departments],
        "heard_by": [p.id for p in pinned.org.people],
    }


def _vocabulary_errors(new: ComplaintDetails, pinned: Pinned) -> Iterator[dict[str, object]]:
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
