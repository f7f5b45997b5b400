"""The policy loader on hostile input: it never crashes and always answers with located problems.

Inputs: random text; random YAML-ish documents (policy keys with random values) written by ruamel;
the shipped policies and org directories with lines deleted, duplicated, swapped, re-indented, or
random tokens, control characters, BOMs and invalid bytes inserted; and pathological documents
(alias bombs, 10,000-deep ``[``/``{``/``- `` nesting, huge scalars). Each goes through ``prepare``,
the entry ``complaintflow policy check`` uses. It must either return a policy or raise
``PolicyInvalid`` whose every problem reads ``file:line:col: message`` on one line, with the line
and column inside the named file; nothing else may escape, and each call must finish within 5 s
(hypothesis' ``deadline``).
"""

import io
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from models.complaint import Channel
from models.events import ComplaintReceived
from policies.api import Ready, prepare
from policies.engine.simulate import simulate
from policies.errors import PolicyInvalid
from tests.factories import REPO, T0

SHIPPED = REPO / "policies"
POLICIES = sorted(p.name for p in SHIPPED.glob("*.yaml"))
ORGS = sorted(p.name for p in (SHIPPED / "orgs").glob("*.yaml"))
LOADER = settings(
    max_examples=100,
    deadline=timedelta(seconds=5),
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# What the YAML parser counts as a line break (YAML 1.2): positions are reported in these lines.
_BREAKS = re.compile("\r\n|[\n\r]")


@dataclass
class Workspace:
    """A folder laid out like policies/ (orgs/, templates/) where each example writes its files."""

    root: Path
    count: int = 0

    def write(self, policy: bytes, org: tuple[str, bytes] | None = None) -> Path:
        """The policy as ``<n>/policy.yaml`` beside the shipped org directories (one replaced)."""
        self.count += 1
        folder = self.root / str(self.count)
        shutil.copytree(SHIPPED / "orgs", folder / "orgs")
        (folder / "templates").symlink_to(SHIPPED / "templates")
        if org is not None:
            (folder / "orgs" / org[0]).write_bytes(org[1])
        path = folder / "policy.yaml"
        path.write_bytes(policy)
        return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    space = Workspace(tmp_path_factory.mktemp("fuzz-loader"))
    # Warm up (holiday calendars, pydantic schemas) so the first example is timed like the others.
    prepare(space.write((SHIPPED / "keieikai_clinic.yaml").read_bytes()))
    return space


def _lines(raw: bytes) -> list[str]:
    return _BREAKS.split(raw.decode("utf-8-sig", errors="replace"))


def assert_loads_or_locates(path: Path) -> None:
    """The property: a policy, or PolicyInvalid with every problem located inside its file."""
    try:
        ready = prepare(path)
    except PolicyInvalid as exc:
        problems = exc.problems
    else:
        _runs(ready)
        return
    assert problems, "PolicyInvalid must name at least one problem"
    for problem in problems:
        rendered = str(problem)
        assert rendered == f"{problem.file}:{problem.line}:{problem.col}: {problem.message}"
        assert problem.message.strip(), rendered
        raw = [c for c in problem.message if unicodedata.category(c) in {"Cc", "Zl", "Zp"}]
        assert not raw, f"a problem is one line, with no control characters: {rendered!r}"
        lines = _lines(Path(problem.file).read_bytes())
        assert 1 <= problem.line <= len(lines), f"line outside the file ({len(lines)} lines): {rendered}"
        width = len(lines[problem.line - 1])
        assert 1 <= problem.col <= width + 1, f"column outside line {problem.line} ({width} wide): {rendered}"


def _runs(ready: Ready) -> None:
    """A policy the checker accepts is one the engine can run: a silent complaint, for two days."""
    heard_by = ready.org.people[0].id if ready.org.people else None
    complaint = ComplaintReceived(complaint="C-1", at=T0, channel=Channel.WEB, heard_by=heard_by)
    simulate(ready.policy, ready.org, [complaint], T0 + timedelta(days=2))


# --------------------------------------------------------------------------------------------------
# Random text
# --------------------------------------------------------------------------------------------------

YAMLISH = st.sampled_from(
    ["\n", "  ", "- ", ": ", "? ", "&a ", "*a", "!!binary ", "!tag ", "{", "}", "[", "]", ",", "|", ">",
     "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n", "<<: *a", "~", "\t", "\x00", "\ufeff", "\r",
     "\x85", "\u2028", "id", "steps", "within", "1h", "2026-04-01", " 2026-02-30\n", "1e999", "0x1F", "yes"]
)  # fmt: skip


@LOADER
@given(text=st.lists(st.one_of(YAMLISH, st.text(max_size=8)), max_size=40).map("".join))
@example(text="")
@example(text="\ufeff")
@example(text="\x00")
@example(text="steps: [\r[\r[")
@example(text="id: !!set x\nname: !!int abc\n")  # tags crashed ruamel's constructors
@example(text="within: 2026-02-30\n")  # an impossible date crashed the loader with a ValueError
@example(text="a: &a\n  <<: *a\n")  # so did a mapping merging itself
@example(text="a:\r" + "[" * 100)  # bare \r line breaks: positions on the line the parser counts
@example(text="\ufeffa: [\n\ufeffb\x07")  # a control character after BOMs (which take no column)
def test_random_text(workspace: Workspace, text: str) -> None:
    assert_loads_or_locates(workspace.write(text.encode("utf-8", errors="surrogatepass")))


@LOADER
@given(raw=st.binary(max_size=200))
@example(raw=b"\xff\xfe" + "id: x".encode("utf-16-le"))
@example(raw=b"id: \xc3\x28\nname: x\n")
def test_random_bytes(workspace: Workspace, raw: bytes) -> None:
    assert_loads_or_locates(workspace.write(raw))


# --------------------------------------------------------------------------------------------------
# Random YAML-ish documents with the policy's keys
# --------------------------------------------------------------------------------------------------

KEYS = [
    "id", "name", "language", "timezone", "org", "owner", "steps", "penalties", "calendar", "receipt",
    "categories", "severities", "templates", "default_handler", "title", "actor", "to", "from", "within",
    "when", "remind", "every", "max", "on_missed", "escalate", "penalty", "applies_to", "duration",
    "repeat", "until", "closes_on", "holidays", "working_hours", "channel", "kind", "path", "unknown",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["en", "ja", "UTC", "Asia/Tokio", "orgs/keieikai.yaml", "role(president)", "person(sato)",
         "supervisor_of(first_hearer)", "handler", "complainant", "heard", "done(x)", "done(report)",
         "30m", "0s", "3 working days", "99999999999 w", "1 year", "09:00-18:00", "24:00-00:00", "JP", "XX",
         "resolved", "report"]
    ),
)  # fmt: skip
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=6),
    ),
    max_leaves=40,
)


def _dump(document: Any, flow: bool) -> bytes:
    yaml = YAML()
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@settings(LOADER, max_examples=60)
@given(
    document=st.dictionaries(st.sampled_from(KEYS), DOCUMENTS, max_size=10),
    base=st.booleans(),
    flow=st.booleans(),
)
@example(document={"steps": [{"within": "99999999999 w"}]}, base=True, flow=False)  # overflowed the engine
@example(document={"categories": {"care\x0b": False, "a\x1b[31mb": None}}, base=True, flow=False)  # escaped
@example(document={"severities": "urgent\nnormal"}, base=True, flow=False)  # one line, no "(write [...])"
def test_random_documents(workspace: Workspace, document: dict[str, Any], base: bool, flow: bool) -> None:
    if base:  # most keys right, so that validation and the checks get to run on the odd ones
        step = {"id": "s", "title": "S", "actor": "first_hearer", "from": "heard", "within": "1h"}
        minimal: dict[str, Any] = {"id": "p", "name": "P", "language": "ja", "timezone": "Asia/Tokyo"}
        minimal |= {"org": "orgs/keieikai.yaml", "owner": "role(president)", "steps": [step]}
        document = minimal | document
    assert_loads_or_locates(workspace.write(_dump(document, flow)))


# --------------------------------------------------------------------------------------------------
# Mutations of the shipped policies and org directories
# --------------------------------------------------------------------------------------------------

TOKENS = [
    "- ", ": ", "&x ", "*x", "*undefined", "!!set ", "!!python/object:os.system ", "{", "[", "]", "}", "? ",
    "|", ">-", "'", '"', "# ", "---", "\t", "\x00", "\x07", "\x1b", "\ufeff", "\r", "\u2028", "~", "null",
    "1e999", "-.inf", ".nan", "0o17", "2026-13-45", "<<: *x", "\\", "%", "@", "`", "\xa0", "本", "😀",
    "&x [*x]", "!!binary |", "\n  ", "\n- ", " 2026-02-30", ": 2026-01-01T25:00:00\n", "&y {<<: *y}",
]  # fmt: skip


def _mutate_lines(lines: list[str], draw: st.DrawFn) -> None:
    index = draw(st.integers(0, max(len(lines) - 1, 0)))
    action = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "token", "tab"]))
    if not lines:
        lines.append("")
    if action == "delete":
        del lines[index]
    elif action == "duplicate":
        lines.insert(index, lines[index])
    elif action == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
    elif action == "indent":
        lines[index] = " " * draw(st.integers(1, 4)) + lines[index]
    elif action == "dedent":
        lines[index] = lines[index][draw(st.integers(1, 4)) :]
    elif action == "tab":
        lines[index] = "\t" + lines[index].lstrip(" ")
    else:
        line = lines[index]
        at = draw(st.integers(0, len(line)))
        token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)))
        lines[index] = line[:at] + token + line[at:]


@st.composite
def mutated(draw: st.DrawFn, source: bytes) -> bytes:
    lines = source.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        _mutate_lines(lines, draw)
    raw = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 4)) == 0:  # byte-level damage: invalid UTF-8, a BOM, a NUL
        at = draw(st.integers(0, len(raw)))
        raw = (
            raw[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9t\xe9", b"\xef\xbb\xbf", b"\x00"]))
            + raw[at:]
        )
    return raw


@settings(LOADER, max_examples=30)
@given(data=st.data(), name=st.sampled_from(POLICIES))
def test_mutated_shipped_policies(workspace: Workspace, data: st.DataObject, name: str) -> None:
    raw = data.draw(mutated((SHIPPED / name).read_bytes()), label="policy")
    assert_loads_or_locates(workspace.write(raw))


@settings(LOADER, max_examples=30)
@given(data=st.data(), name=st.sampled_from(POLICIES))
def test_mutated_org_directories(workspace: Workspace, data: st.DataObject, name: str) -> None:
    policy = (SHIPPED / name).read_bytes()
    [org] = re.findall(rb"^org: orgs/(\S+)", policy, flags=re.MULTILINE)
    damaged = data.draw(mutated((SHIPPED / "orgs" / org.decode()).read_bytes()), label="org")
    assert_loads_or_locates(workspace.write(policy, (org.decode(), damaged)))


def test_unmutated_shipped_policies_load(workspace: Workspace) -> None:
    """The base the mutations start from is valid, so a located problem is the mutation's doing."""
    for name in POLICIES:
        assert prepare(workspace.write((SHIPPED / name).read_bytes())).policy.id


# --------------------------------------------------------------------------------------------------
# Pathological documents
# --------------------------------------------------------------------------------------------------


def _laughs(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def _indented(depth: int, item: str) -> str:
    """``depth`` levels of block nesting, each line indented further (at most 1,000: the text grows
    with the square of the depth; ``dashes on one line`` nests 10,000 deep)."""
    return "".join(f"{' ' * 2 * i}{item.format(i)}\n" for i in range(min(depth, 1000)))


PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "billion laughs": lambda n: _laughs(3 + n % 10, 2 + n % 9),
    "aliases of a long list": lambda n: (
        "a: &a [" + ", ".join(["x"] * n) + "]\n" + "b: [*a, *a, *a, *a]\n" * 50
    ),
    "flow sequences": lambda n: "steps: " + "[" * n + "]" * n,
    "flow mappings": lambda n: "steps: " + "{a: " * n + "}" * n,
    "unclosed flow": lambda n: "steps: " + "[{" * n,
    "block sequences": lambda n: "steps:\n" + _indented(n, "- "),
    "dashes on one line": lambda n: "steps: " + "- " * n + "x\n",
    "block mappings": lambda n: _indented(n, "k{}:"),
    "long list": lambda n: "steps:\n" + "- x\n" * (n * 10),
    "many keys": lambda n: "".join(f"k{i}: v\n" for i in range(n * 5)),
    "huge plain scalar": lambda n: "name: " + "x" * (n * 200) + "\n",
    "huge quoted scalar": lambda n: 'name: "' + "\\u00e9" * (n * 40) + '"\n',
    "huge key": lambda n: "k" * (n * 200) + ": v\n",
    "long comment": lambda n: "#" * (n * 200) + "\nid: x\n",
    "many documents": lambda n: "id: x\n---\n" * n,
    "control characters": lambda n: "id: x\nname: " + "".join(chr(c % 32) for c in range(n)) + "\n",
    "tabs": lambda n: "steps:\n" + "\t- x\n" * n,
    "merge keys": lambda n: "base: &b {id: x}\n" + "".join(f"m{i}: {{<<: *b}}\n" for i in range(n)),
}


@settings(LOADER, max_examples=40)
@given(kind=st.sampled_from(sorted(PATHOLOGICAL)), size=st.sampled_from([1, 10, 100, 1000, 10_000]))
@example(kind="flow sequences", size=10_000)
@example(kind="flow mappings", size=10_000)
@example(kind="dashes on one line", size=10_000)
@example(kind="block sequences", size=10_000)
@example(kind="billion laughs", size=9)
@example(kind="long list", size=10_000)
@example(kind="huge plain scalar", size=10_000)
@example(kind="merge keys", size=10)  # keys merged in with << are located where they are written
@example(kind="merge keys", size=1000)  # ruamel's merges take quadratic time: bounded
def test_pathological_documents(workspace: Workspace, kind: str, size: int) -> None:
    text = PATHOLOGICAL[kind](size)
    assert_loads_or_locates(workspace.write(text.encode("utf-8")))
