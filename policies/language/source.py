"""Reading YAML with positions, so every problem can be reported as ``file:line:col``.

The document is converted to plain Python data (dicts, lists, scalars) while each node's position is
remembered by its path, e.g. ``("steps", 2, "within")``. Size and depth are bounded so that alias
bombs and pathological nesting end in a located error instead of exhausting memory or time; the
bounds are checked on the parser's event stream, before anything is built. ruamel's round-trip
parser costs about 0.1 ms per value and its merge keys (``<<``) cost quadratic time, so the bounds on
bytes, values and merges keep every file's load well under a second; real policies and org
directories stay far below them (the shipped ones hold at most 10 kB and 500 values).
"""

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, merge_attrib
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    Event,
    MappingStartEvent,
    ScalarEvent,
)
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from policies.errors import PolicyInvalid, Problem

MAX_NODES = 200_000  # values after alias expansion
MAX_VALUES = 10_000  # values as written
MAX_MERGES = 50
MAX_DEPTH = 64
MAX_BYTES = 256_000

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
        line, col = self.values.get((), (1, 1))
        while probe:
            if probe in table:
                line, col = table[probe]
                break
            if probe in self.values:
                line, col = self.values[probe]
                break
            probe = probe[:-1]
        return Problem(self.file, line, col, one_line(message))


def one_line(message: str) -> str:
    """A message quoting the user's text (a key, a value) with its line breaks and control characters
    escaped, so that each problem stays one ``file:line:col: message`` line and writes nothing raw to
    the terminal."""
    if message.isprintable():
        return message
    return "".join(
        char.encode("unicode_escape").decode() if unicodedata.category(char) in _ESCAPED else char
        for char in message
    )


_ESCAPED = frozenset({"Cc", "Zl", "Zp"})


class _RefusedError(Exception):
    """A document refused before it is built (too big, too deep, tagged), with where."""

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
    return _text_position(raw[:offset].decode("utf-8-sig", errors="replace"), None)


# The line breaks the YAML parser counts (so every other position must count them too): a file saved
# with bare \r endings must not put everything on "line 1". Its columns skip byte order marks.
_BREAKS = re.compile("\r\n|[\n\r]")


def _text_position(text: str, index: int | None) -> Position:
    """1-based line and column of ``text[index]`` (of the end of ``text`` when ``index`` is None)."""
    before = text if index is None else text[:index]
    breaks = list(_BREAKS.finditer(before))
    line = before[breaks[-1].end() :] if breaks else before
    return len(breaks) + 1, len(line) - line.count("\ufeff") + 1


def parse_located(text: str, name: str) -> Located:
    """Parse YAML text; every syntax, duplicate-key, size or depth problem is located."""
    yaml = YAML(typ="rt")
    yaml.Parser = _CheckingParser
    yaml.Constructor = _DateCheckingConstructor
    try:
        _check_brackets(text)
        document = yaml.load(text)
    except _RefusedError as exc:
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
        raise PolicyInvalid([Problem(name, 1, 1, one_line(f"invalid YAML: {exc}"))]) from exc
    located = Located(name, None)
    located.values[()] = (1, 1)
    counter = [0]
    try:
        located.data = _plain(document, (), located, counter, 0)
    except _RefusedError as exc:
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
    return Problem(name, line, col, one_line(f"invalid YAML: {message}"))


def _depth_error(position: Position) -> _RefusedError:
    return _RefusedError(
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


class _EventCheck:
    """Bounds size, depth, merges and alias expansion, and finds every duplicate key, event by event."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, int] = {}
        self.total = self.written = self.merges = 0
        self.duplicates: list[tuple[Position, str]] = []

    def see(self, event: Event) -> None:
        position = (event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, ScalarEvent | AliasEvent | CollectionStartEvent):
            self._count(event, position)
        if isinstance(event, AliasEvent) and any(f.anchor == event.anchor for f in self.stack):
            # A value containing itself: ruamel crashes merging one (``a: &a {<<: *a}``).
            message = f"alias *{event.anchor} refers to a value it is inside of, which would never end"
            raise _RefusedError(message, position)
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag is not None:
            # ruamel's constructors crash (AttributeError, ValueError, KeyError...) on tags that do
            # not fit their value, such as ``!!set x`` or ``!!int abc``; a policy needs none.
            tag = str(event.tag).replace("tag:yaml.org,2002:", "!!")
            message = f"a policy uses no YAML tags: remove {tag}, or quote the value to keep it text"
            raise _RefusedError(message, position)
        if isinstance(event, CollectionStartEvent):
            self.stack.append(_Frame(event.anchor, isinstance(event, MappingStartEvent)))
            if len(self.stack) > MAX_DEPTH:
                raise _depth_error(position)
        elif isinstance(event, CollectionEndEvent):
            frame = self.stack.pop()
            if frame.anchor is not None:
                self.anchors[frame.anchor] = frame.size
            self._add(event, frame.size)
        elif isinstance(event, ScalarEvent | AliasEvent):
            if isinstance(event, ScalarEvent) and event.anchor is not None:
                self.anchors[event.anchor] = 1
            self._add(event, self._size(event))
        elif isinstance(event, DocumentEndEvent) and self.duplicates:
            raise _DuplicateKeysError(self.duplicates)

    def _size(self, event: Event) -> int:
        return self.anchors.get(str(event.anchor), 1) if isinstance(event, AliasEvent) else 1

    def _count(self, event: Event, position: Position) -> None:
        self.total += self._size(event)
        self.written += 1
        if self.total > MAX_NODES:
            raise _RefusedError(_bomb_message(event), position)
        if self.written > MAX_VALUES:
            message = f"the document holds more than {MAX_VALUES} values; a policy never needs that many"
            raise _RefusedError(message, position)

    def _add(self, event: Event, size: int) -> None:
        if not self.stack:
            return
        frame = self.stack[-1]
        if frame.mapping and frame.children % 2 == 0 and isinstance(event, ScalarEvent):
            self._key(frame, event)
        frame.children += 1
        frame.size += size

    def _key(self, frame: _Frame, event: ScalarEvent) -> None:
        key = str(event.value)
        where = (event.start_mark.line + 1, event.start_mark.column + 1)
        if key == "<<" and not event.style:
            self.merges += 1
            if self.merges > MAX_MERGES:
                raise _RefusedError(f"more than {MAX_MERGES} merge keys (<<): write the values out", where)
        if key in frame.keys:
            first = frame.keys[key][0]
            self.duplicates.append(
                (where, f"duplicate key {key!r} (first given on line {first}): remove one")
            )
        else:
            frame.keys[key] = where


class _CheckingParser(RoundTripParser):
    """ruamel's round-trip parser, checking each event as the composer takes it, so that a hostile
    document is refused before it is built, in the same single pass over the text."""

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self.check = _EventCheck()

    def get_event(self) -> Any:
        event = super().get_event()
        if event is not None:
            self.check.see(event)
        return event


class _DateCheckingConstructor(RoundTripConstructor):
    """ruamel's round-trip constructor, reporting an impossible date (``2026-02-30``) where it is
    written instead of failing with a bare ValueError."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except (ValueError, OverflowError) as exc:
            problem = f"{node.value!r} looks like a date but is not one ({exc}): correct it, or quote it"
            raise ConstructorError(None, None, problem, node.start_mark) from exc


_DateCheckingConstructor.add_default_constructor("timestamp")


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
        raise _RefusedError(f"the document expands to more than {MAX_NODES} values", here)
    if depth > MAX_DEPTH:
        raise _depth_error(here)
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            out.keys[child], out.values[child] = _written_at(node, key, here)
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


def _written_at(node: CommentedMap, key: Any, fallback: Position) -> tuple[Position, Position]:
    """Where a mapping's key and its value are written: in the mapping itself or, for a key it
    merged in (``<<: *defaults``), in the mapping it came from."""
    sources = [node]
    for source in sources:  # grows while it is walked: merged mappings may merge others
        if key in (source.lc.data or {}):
            kline, kcol = source.lc.key(key)
            vline, vcol = source.lc.value(key)
            return (kline + 1, kcol + 1), (vline + 1, vcol + 1)
        if len(sources) <= MAX_MERGES:
            sources += [m for m in getattr(source, merge_attrib, []) if isinstance(m, CommentedMap)]
    return fallback, fallback


def _scalar(node: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, ScalarBoolean, ...) as plain Python values."""
    if isinstance(node, bool | ScalarBoolean) or node is None:
        return None if node is None else bool(node)
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node
