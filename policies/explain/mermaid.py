"""The policy as a Mermaid ``flowchart TD``: anchor events and steps as nodes, deadlines on the edges.

Each ``path`` (an independent reporting line) is a subgraph; dashed edges lead from a step to whom it
escalates to, thick edges to the penalty a missed deadline brings. Node ids are ASCII identifiers
made unique here, because administrators' step ids may contain ``-`` and Mermaid reads some words
(``end``) as keywords; every label is quoted and escaped, so Japanese, Chinese and odd characters
such as ``"`` or ``<`` render as text.
"""

import re
from dataclasses import dataclass, field

from policies.explain.words import Words, group_by_path
from policies.language.compiled import Step
from policies.language.expressions import Actor, Anchor, AnchorKind
from policies.timing.durations import Duration

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
# Mermaid's entity codes (#name; or #123;). translate() maps each character once, so the '#' of an
# inserted code is never escaped again, while a '#' typed by a user cannot start a code of its own.
_ESCAPES = str.maketrans(
    {
        "#": "#35;",
        '"': "#quot;",
        "<": "#lt;",
        ">": "#gt;",
        "&": "#amp;",
        "`": "#96;",
        "\n": " ",
        "\r": " ",
    }
)
_ANCHOR_ORDER = (
    AnchorKind.HEARD,
    AnchorKind.OCCURRED,
    AnchorKind.RECEIVED,
    AnchorKind.RESOLVED,
    AnchorKind.REOPENED,
)
_INDENT = "    "


def label(*lines: str) -> str:
    """A quoted Mermaid label; lines joined by ``<br/>``, added after escaping so it stays markup."""
    return '"' + "<br/>".join(line.translate(_ESCAPES) for line in lines) + '"'


@dataclass
class _Ids:
    """Unique, safe node ids: ``step_report_to_supervisor``, then ``_2``, ``_3`` on collisions."""

    given: dict[tuple[str, str], str] = field(default_factory=dict)

    def __call__(self, prefix: str, key: str) -> str:
        if (prefix, key) not in self.given:
            base = f"{prefix}_{_UNSAFE.sub('_', key).strip('_')}".rstrip("_")
            taken = set(self.given.values())
            candidate, n = base, 1
            while candidate in taken:
                n += 1
                candidate = f"{base}_{n}"
            self.given[(prefix, key)] = candidate
        return self.given[(prefix, key)]


def mermaid(words: Words) -> list[str]:
    """The diagram's lines, without the surrounding code fence."""
    ids = _Ids()
    lines = ["flowchart TD"]
    lines += _anchor_nodes(words, ids)
    lines += _step_nodes(words, ids)
    for step in words.policy.steps:
        lines += _deadline_edge(words, ids, step)
    lines += _escalations(words, ids)
    lines += _penalties(words, ids)
    return lines


def _anchor_nodes(words: Words, ids: _Ids) -> list[str]:
    used = {s.anchor.kind for s in words.policy.steps}
    return [
        f"{_INDENT}{ids('anchor', kind.value)}([{label(words.event(Anchor(kind)))}])"
        for kind in _ANCHOR_ORDER
        if kind in used
    ]


def _step_nodes(words: Words, ids: _Ids) -> list[str]:
    lines: list[str] = []
    for number, (path, steps) in enumerate(group_by_path(words.policy.steps), start=1):
        indent = _INDENT * (2 if path is not None else 1)
        nodes = [f"{indent}{ids('step', s.id)}[{_step_label(words, s)}]" for s in steps]
        if path is None:
            lines += nodes
        else:
            lines += [f"{_INDENT}subgraph path_{number} [{label(path)}]", *nodes, f"{_INDENT}end"]
    return lines


def _step_label(words: Words, step: Step) -> str:
    # Conditions and repetition change when a step applies, so the diagram shows them too.
    extra = [words.conditions(step) or "", words.p.repeat_short if step.repeat_until_resolved else ""]
    return label(step.title, words.deadline_short(step), *(line for line in extra if line))


def _deadline_edge(words: Words, ids: _Ids, step: Step) -> list[str]:
    anchor = step.anchor
    if anchor.kind is AnchorKind.DONE:
        source = ids("step", anchor.step or "")
    else:
        source = ids("anchor", anchor.kind.value)
    return [f"{_INDENT}{source} -->|{label(words.deadline_short(step))}| {ids('step', step.id)}"]


def _escalations(words: Words, ids: _Ids) -> list[str]:
    nodes: dict[Actor, str] = {}
    edges: list[str] = []
    for step in words.policy.steps:
        for escalation in step.escalations:
            delay = _delay(words, escalation.after)
            for target in escalation.targets:
                node = ids("who", str(target))
                nodes.setdefault(target, f"{_INDENT}{node}({label(words.actor(target, detail=False))})")
                edges.append(f"{_INDENT}{ids('step', step.id)} -.->|{label(delay)}| {node}")
    return [*nodes.values(), *edges]


def _delay(words: Words, after: Duration) -> str:
    if after.amount == 0:
        return words.p.edge_now
    return words.p.edge_after.format(after=words.duration(after))


def _penalties(words: Words, ids: _Ids) -> list[str]:
    policy = words.policy
    lines: list[str] = []
    for penalty in policy.penalties:
        users = [s for s in policy.steps if s.penalty == penalty.id]
        if not users:
            continue
        node = ids("penalty", penalty.id)
        name = words.p.penalty_node.format(name=penalty.name)
        lines.append(f"{_INDENT}{node}{{{{{label(name, words.period(penalty.period))}}}}}")
        missed = label(words.p.missed)
        lines += [f"{_INDENT}{ids('step', s.id)} ==>|{missed}| {node}" for s in users]
    return lines
