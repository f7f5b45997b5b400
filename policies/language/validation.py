"""Turning pydantic's validation errors into located, plain-language problems."""

import difflib
import re
from collections import defaultdict
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from policies.errors import Problem
from policies.language.source import Located, PathKey
from policies.timing.working_hours import parse_working_hours

M = TypeVar("M", bound=BaseModel)

# What each pydantic type error expected, in the words of someone writing YAML.
_EXPECTED = {
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}
_DURATION_KEYS = frozenset({"within", "every", "after", "duration"})
_OWNERS = {"steps": "step", "penalties": "penalty", "people": "person", "departments": "department"}


def validate_located(
    model: type[M], data: Any, located: Located, base: PathKey = ()
) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` (found at ``base`` in the document); the model, or located problems."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, problems_from(exc, data, located, base, model)


def problems_from(
    exc: ValidationError, data: Any, located: Located, base: PathKey, model: type[BaseModel]
) -> list[Problem]:
    grouped: dict[PathKey, list[dict[str, Any]]] = defaultdict(list)
    for error in exc.errors(include_url=False):
        grouped[_data_path(data, tuple(error["loc"]))].append(dict(error))
    problems: list[Problem] = []
    # Every path some error lies strictly inside (a set: thousands of errors must not cost n²).
    enclosing = {p[:n] for p in grouped for n in range(len(p))}
    for path, errors in grouped.items():
        # A union (``to: actor | [actors]``) fails once per branch. The type mismatches are noise
        # when another branch says what is really wrong, here or deeper inside the value.
        specific = [e for e in errors if not _is_type_error(e)]
        if not specific and path in enclosing:
            continue
        if not specific:
            specific = [_merged_type_error(errors)]
        context = _Context(data, located, base, model)
        problems.extend(context.problem(e, path) for e in specific)
    return problems


def _is_type_error(error: dict[str, Any]) -> bool:
    kind = str(error["type"])
    return kind.endswith("_type") or kind in _EXPECTED


def _merged_type_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    names = sorted({_EXPECTED.get(str(e["type"]), _fallback_name(e)) for e in errors})
    return {**errors[0], "type": "merged_type", "expected": " or ".join(names)}


def _fallback_name(error: dict[str, Any]) -> str:
    return str(error["type"]).removesuffix("_type").replace("_", " ")


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Keep the parts of pydantic's ``loc`` that index into the data; drop union-branch tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and _is_key(part):
            path.append(part)  # a missing or unknown key: locate it by name
            node = None
    return tuple(path)


def _is_key(part: str) -> bool:
    return "[" not in part and part.isidentifier()


def describe(value: Any) -> str:
    """A YAML value as the user would call it: ``the number 5``, ``the text 'web'``, ``a list``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    kinds = {type(None): "an empty value", list: "a list", dict: "a mapping"}
    return kinds.get(type(value), repr(value))


class _Context:
    """Where the errors of one validation come from: the data, its positions and its model."""

    def __init__(self, data: Any, located: Located, base: PathKey, model: type[BaseModel]) -> None:
        self.data = data
        self.located = located
        self.base = base
        self.model = model

    def problem(self, error: dict[str, Any], path: PathKey) -> Problem:
        kind = str(error["type"])
        where = (*self.base, *path)
        name = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        if kind == "extra_forbidden":
            message = self._unknown_key(str(path[-1]), path)
            return self.located.problem(where, message, at_key=True)
        if kind == "missing":
            owner = self._owner(path[:-1])
            return self.located.problem(
                where[:-1], f"missing required key {path[-1]!r}{owner and ' in ' + owner}"
            )
        message = _message(kind, name, error)
        label = f"{name}: " if name and not message.startswith(name.replace("_", " ")) else ""
        return self.located.problem(where, f"{label}{message}")

    def _owner(self, path: PathKey) -> str:
        """``step 'report'`` for a path inside a step (likewise penalties, people, departments)."""
        if len(path) < 2 or not isinstance(path[0], str) or path[0] not in _OWNERS:  # noqa: PLR2004
            return ""
        what = _OWNERS[path[0]]
        if isinstance(path[1], str):
            return f"{what} {path[1]!r}"
        try:
            item = self.data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            return ""
        ident = item.get("id") if isinstance(item, dict) else None
        return f"{what} {ident!r}" if isinstance(ident, str) else f"{what} {path[1] + 1}"

    def _unknown_key(self, name: str, path: PathKey) -> str:
        allowed = _allowed_keys(self.model, path[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1)
        if hint:
            return f"unknown key {name!r} (did you mean {hint[0]!r}?)"
        if allowed:
            return f"unknown key {name!r} (allowed here: {', '.join(allowed)})"
        return f"unknown key {name!r}"


def _message(kind: str, name: str, error: dict[str, Any]) -> str:
    value = error.get("input")
    if kind == "merged_type" or kind in _EXPECTED:
        return _type_message(kind, name, error)
    if kind in {"literal_error", "enum"}:
        return _choice_message(error)
    if kind == "string_pattern_mismatch":
        return _pattern_message(name, str(value))
    ctx = error.get("ctx") or {}
    simple = {
        "string_too_short": "must not be empty",
        "too_short": "must list at least one item",
        "string_too_long": f"is too long: at most {ctx.get('max_length')} characters",
        "too_long": f"is too long: at most {ctx.get('max_length')} items",
        "greater_than_equal": f"must be at least {ctx.get('ge')}, not {value}",
        "greater_than": f"must be more than {ctx.get('gt')}, not {value}",
    }
    return simple.get(kind) or str(error["msg"]).removeprefix("Value error, ")


def _type_message(kind: str, name: str, error: dict[str, Any]) -> str:
    value = error.get("input")
    expected = error.get("expected") or _EXPECTED.get(kind, _fallback_name(error))
    if name in _DURATION_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value} has no unit: write for example '{value}h' or '{value} working days'"
    hint = f" (write [{value}])" if expected == "a list" and isinstance(value, str) else ""
    return f"expected {expected}, got {describe(value)}{hint}"


def _choice_message(error: dict[str, Any]) -> str:
    value = error.get("input")
    allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
    close = difflib.get_close_matches(str(value), allowed, n=1)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not allowed{suggestion}: use one of {', '.join(allowed)}"


def _pattern_message(name: str, value: str) -> str:
    if name == "working_hours":
        try:
            parse_working_hours(value)
        except ValueError as exc:
            return str(exc)
    return f"{value!r} is not a valid id: use letters, digits, _ and -, starting with a letter"


def _allowed_keys(model: type[BaseModel], path: PathKey) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int) or not _is_model(current):
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is not None:  # otherwise a key of a mapping field, such as a penalty's name
            current = _model_in(field.annotation)
    if _is_model(current):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
