"""Reading YAML with positions, so every problem can be reported as ``file:line:col``.

The document is converted to plain Python data (dicts, lists, scalars) while each node's position is
remembered by its path, e.g. ``("steps", 2, "within")``. Size and depth are bounded so that alias
bombs and pathological nesting end in a located error instead of exhausting memory.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from policies.errors import PolicyInvalid, Problem

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 2_000_000

PathKey = tuple[str | int, ...]


@dataclass
class Located:
    """A loaded document: the data plus where each value (and each mapping key) starts."""

    file: str
    data: Any
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def problem(self, path: PathKey, message: str, *, at_key: bool = False) -> Problem:
        """A problem located at ``path`` (at its key when asked), or at its nearest located ancestor."""
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


class _TooBig(Exception):
    def __init__(self, message: str, position: tuple[int, int]) -> None:
        super().__init__(message)
        self.position = position


def load_located(path: Path, display: str | None = None) -> Located:
    """Parse one YAML file; raise PolicyInvalid with a located problem if it is not YAML at all."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyInvalid([Problem(name, 1, 1, f"cannot read file: {exc.strerror}")]) from exc
    if len(raw) > MAX_BYTES:
        raise PolicyInvalid([Problem(name, 1, 1, f"file is larger than {MAX_BYTES} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyInvalid([Problem(name, 1, 1, f"file is not UTF-8 (byte {exc.start})")]) from exc
    return parse_located(text, name)


def parse_located(text: str, name: str) -> Located:
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise PolicyInvalid([Problem(name, line, col, f"invalid YAML: {message}")]) from exc
    except (YAMLError, RecursionError) as exc:
        raise PolicyInvalid([Problem(name, 1, 1, f"invalid YAML: {exc}")]) from exc
    located = Located(name, None)
    located.values[()] = (1, 1)
    counter = [0]
    try:
        located.data = _plain(document, (), located, counter, 0)
    except _TooBig as exc:
        raise PolicyInvalid([Problem(name, *exc.position, str(exc))]) from exc
    return located


def _plain(node: Any, path: PathKey, out: Located, counter: list[int], depth: int) -> Any:
    counter[0] += 1
    here = out.values.get(path, (1, 1))
    if counter[0] > MAX_NODES:
        raise _TooBig(f"document expands to more than {MAX_NODES} nodes (alias bomb?)", here)
    if depth > MAX_DEPTH:
        raise _TooBig(f"document is nested deeper than {MAX_DEPTH} levels", here)
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
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
