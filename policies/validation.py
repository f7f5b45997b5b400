"""Turning pydantic's validation errors into located, plain-language problems."""

import difflib
from collections import defaultdict
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from policies.errors import Problem
from policies.source import Located, PathKey


M = TypeVar("M", bound=BaseModel)


def validate_located(
    model: type[M], data: Any, located: Located, base: PathKey = ()
) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` (found at ``base`` in the document); return the model or located problems."""
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
    problems = []
    for path, errors in grouped.items():
        # A union (``to: actor | [actors]``) fails once per branch; the type mismatches are noise
        # when another branch says what is really wrong.
        specific = [e for e in errors if not str(e["type"]).endswith("_type")]
        if not specific:
            first = errors[0]
            if len(errors) > 1:
                first = {**first, "msg": "has the wrong type: expected " + _expected(errors)}
            specific = [first]
        problems.extend(_problem(e, path, data, located, base, model) for e in specific)
    return problems


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Keep the parts of pydantic's ``loc`` that index into the data; drop union-branch tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and "[" not in part and part.isidentifier():
            path.append(part)  # a missing or unknown key: locate it by name
            node = None
    return tuple(path)


def _problem(
    error: dict[str, Any],
    path: PathKey,
    data: Any,
    located: Located,
    base: PathKey,
    model: type[BaseModel],
) -> Problem:
    kind = str(error["type"])
    name = path[-1] if path else ""
    where = (*base, *path)
    if kind == "extra_forbidden":
        return located.problem(where, _unknown_key(str(name), data, path, model), at_key=True)
    if kind == "missing":
        return located.problem(where[:-1], f"missing required key {name!r}")
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and name in ("id", "step"):
        message = f"{error['input']!r} is not a valid id: use letters, digits, _ and -, starting with a letter"
    label = f"{name}: " if isinstance(name, str) and name else ""
    return located.problem(where, f"{label}{message}")


def _unknown_key(name: str, data: Any, path: PathKey, model: type[BaseModel]) -> str:
    allowed = _allowed_keys(model, path[:-1])
    hint = difflib.get_close_matches(name, allowed, n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"unknown key {name!r}{suffix}"


def _allowed_keys(model: type[BaseModel], path: PathKey) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        current = _model_in(field.annotation) if field else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _expected(errors: list[dict[str, Any]]) -> str:
    names = {str(e["type"]).removesuffix("_type").replace("_", " ") for e in errors}
    return " or ".join(sorted(names))
