"""Reading YAML with positions, so every problem can be reported as ``file:line:col``.

The document is converted to plain Python data (dicts, lists, scalars) while each node's position is
remembered by its path, e.g. ``("steps", 2, "within")``. Size and depth are bounded so that alias
bombs and pathological nesting end in a located error instead of exhausting memory or time; the
bounds are checked on the parser's event stream, before anything is built.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
)
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from policies.errors import PolicyInvalid, Problem

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 2_000_000

PathKey = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass
class Located:
    """A loaded document: the data plus where each value (and each mapping key) starts."""

    file: str
    data: Any
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)

    def problem(self, path: PathKey, message: str, *, at_key: bool = False) -> Problem:
        """A problem at ``path`` (at its key when asked), or at its nearest located ancestor."""
        table = self.keys if at_key else self.values
        probe = path
        while probe:
            if probe in table:
                line, col = table[probe]
                return Problem(self.file, line, col, message)
            if probe in self.values:
                line, col = self.values[probe]
                return Problem(self.file, line, col, message)
            probe = probe[:-1]
        line, col = self.values.get((), (1, 1))
        return Problem(self.file, line, col, message)


class _TooBigError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.position = position


def load_located(path: Path, display: str | None = None) -> Located:
    """Parse one YAML file; raise PolicyInvalid with a located problem if it is not YAML at all."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyInvalid([Problem(name, 1, 1, f"cannot read file: {reason}")]) from exc
    if len(raw) > MAX_BYTES:
        raise PolicyInvalid(
            [Problem(name, 1, 1, f"file is {len(raw)} bytes, more than the {MAX_BYTES} allowed")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw, exc.start)
        bad = raw[exc.start : exc.start + 1].hex()
        message = f"file is not UTF-8: byte 0x{bad} cannot be decoded; save the file as UTF-8"
        raise PolicyInvalid([Problem(name, line, col, message)]) from exc
    return parse_located(text, name)


def _byte_position(raw: bytes, offset: int) -> Position:
    """1-based line and column (in characters) of the byte at ``offset``."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    before = raw[line_start:offset].decode("utf-8", errors="replace")
    return raw.count(b"\n", 0, offset) + 1, len(before) + 1


def _text_position(text: str, index: int) -> Position:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def parse_located(text: str, name: str) -> Located:
    """Parse YAML text; every syntax, duplicate-key, size or depth problem is located."""
    yaml = YAML(typ="rt")
    try:
        _check_brackets(text)
        _check_events(yaml.parse(text))
        document = yaml.load(text)
    except _TooBigError as exc:
        raise PolicyInvalid([Problem(name, *exc.position, str(exc))]) from exc
    except _DuplicateKeysError as exc:
        raise PolicyInvalid([Problem(name, *where, msg) for where, msg in exc.found]) from exc
    except MarkedYAMLError as exc:
        raise PolicyInvalid([_yaml_problem(exc, name)]) from exc
    except ReaderError as exc:
        line, col = _text_position(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        message = f"invalid YAML: the control character U+{code:04X} is not allowed; remove it"
        raise PolicyInvalid([Problem(name, line, col, message)]) from exc
    except (YAMLError, RecursionError) as exc:
        raise PolicyInvalid([Problem(name, 1, 1, f"invalid YAML: {exc}")]) from exc
    located = Located(name, None)
    located.values[()] = (1, 1)
    counter = [0]
    try:
        located.data = _plain(document, (), located, counter, 0)
    except _TooBigError as exc:
        raise PolicyInvalid([Problem(name, *exc.position, str(exc))]) from exc
    return located


def _yaml_problem(exc: MarkedYAMLError, name: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = " ".join(str(exc.problem or "").split())
    context = " ".join(str(exc.context or "").split())
    started = exc.context_mark
    if "'\\t'" in problem:
        message = "a tab cannot indent YAML: use spaces"
    elif problem == "mapping values are not allowed here":
        message = "a ': ' inside a value starts a mapping here: put the value in quotes"
    elif "single document" in context:
        message = "the file holds more than one YAML document (a second ---): a policy is one document"
    else:
        message = problem or context or "the text is not valid YAML"
        if (
            problem
            and context
            and started is not None
            and (started.line + 1, started.column + 1) != (line, col)
        ):
            message += f" ({context} that starts at line {started.line + 1}, column {started.column + 1})"
    return Problem(name, line, col, f"invalid YAML: {message}")


def _depth_error(position: Position) -> _TooBigError:
    return _TooBigError(
        f"the document is nested deeper than {MAX_DEPTH} levels; a policy never needs that much",
        position,
    )


def _check_brackets(text: str) -> None:
    """Refuse absurdly deep flow nesting (``[[[[...``) before the parser spends time on it.

    The YAML scanner slows down badly on deep flow collections, so this counts brackets on the raw
    text; a real policy never has more than a few unclosed brackets at once.
    """
    depth = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _depth_error(_text_position(text, index))
        elif char in "]}" and depth:
            depth -= 1


class _DuplicateKeysError(Exception):
    def __init__(self, found: list[tuple[Position, str]]) -> None:
        super().__init__(found[0][1])
        self.found = found


@dataclass
class _Frame:
    anchor: str | None
    mapping: bool
    size: int = 1
    children: int = 0
    keys: dict[str, Position] = field(default_factory=dict)


def _check_events(events: Any) -> None:
    """Bound depth and alias expansion, and find every duplicate key, from the parser's events."""
    stack: list[_Frame] = []
    anchors: dict[str, int] = {}
    total = 0
    duplicates: list[tuple[Position, str]] = []

    def add(event: Event, size: int) -> None:
        if not stack:
            return
        frame = stack[-1]
        if frame.mapping and frame.children % 2 == 0 and isinstance(event, ScalarEvent):
            key = str(event.value)
            where = (event.start_mark.line + 1, event.start_mark.column + 1)
            if key in frame.keys:
                first = frame.keys[key][0]
                duplicates.append((where, f"duplicate key {key!r} (first given on line {first}): remove one"))
            else:
                frame.keys[key] = where
        frame.children += 1
        frame.size += size

    for event in events:
        position = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, ScalarEvent | AliasEvent | CollectionStartEvent):
            size = anchors.get(str(event.anchor), 1) if isinstance(event, AliasEvent) else 1
            total += size
            if total > MAX_NODES:
                raise _TooBigError(_bomb_message(event), position)
        if isinstance(event, CollectionStartEvent):
            stack.append(_Frame(event.anchor, isinstance(event, MappingStartEvent)))
            if len(stack) > MAX_DEPTH:
                raise _depth_error(position)
        elif isinstance(event, CollectionEndEvent):
            frame = stack.pop()
            if frame.anchor is not None:
                anchors[frame.anchor] = frame.size
            add(event, frame.size)
        elif isinstance(event, ScalarEvent | AliasEvent):
            if isinstance(event, ScalarEvent) and event.anchor is not None:
                anchors[event.anchor] = 1
            add(event, anchors.get(str(event.anchor), 1) if isinstance(event, AliasEvent) else 1)
    if duplicates:
        raise _DuplicateKeysError(duplicates)


def _bomb_message(event: Event) -> str:
    what = f"alias *{event.anchor}" if isinstance(event, AliasEvent) else "this value"
    return (
        f"{what} makes the document expand to more than {MAX_NODES} values"
        " (an alias bomb, 'billion laughs'?): write the values out instead of nesting aliases"
    )


def _plain(node: Any, path: PathKey, out: Located, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    here = out.values.get(path, (1, 1))
    if counter[0] > MAX_NODES:
        raise _TooBigError(f"the document expands to more than {MAX_NODES} values", here)
    if depth > MAX_DEPTH:
        raise _depth_error(here)
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            out.keys[child] = (kline + 1, kcol + 1)
            out.values[child] = (vline + 1, vcol + 1)
            result[str(key)] = _plain(value, child, out, counter, depth + 1)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, col = node.lc.item(index)
            out.values[(*path, index)] = (line + 1, col + 1)
            items.append(_plain(value, (*path, index), out, counter, depth + 1))
        return items
    return _scalar(node)


def _scalar(node: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, ScalarBoolean, ...) as plain Python values."""
    if isinstance(node, bool | ScalarBoolean) or node is None:
        return None if node is None else bool(node)
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node
