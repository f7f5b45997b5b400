"""Checks that need the whole policy and its org directory: references, cycles, reachability,
deadlines that can never be met, penalties that name nobody, and missing templates.

Each check yields ``(path, message)`` pairs; the loader turns paths into ``file:line:col``.
"""

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from models.complaint import CONDITION_ATTRIBUTES, Channel
from models.org import Org
from policies.calendar import known_country
from policies.durations import Unit, parse_duration
from policies.expressions import Actor, ActorKind, AnchorKind, parse_actor, parse_anchor
from policies.schema import PolicySpec, StepSpec
from policies.source import PathKey
from policies.working_hours import parse_working_hours

Finding = tuple[PathKey, str]


@dataclass(frozen=True)
class CheckContext:
    spec: PolicySpec
    org: Org | None
    org_file: str
    step_index: tuple[int, ...]  # position of spec.steps[i] in the file's steps list
    templates: Path | None

    def step_path(self, position: int, *rest: str | int) -> PathKey:
        return ("steps", self.step_index[position], *rest)


def run_checks(ctx: CheckContext) -> list[Finding]:
    checks = (
        _duplicate_steps,
        _calendar,
        _actor_references,
        _anchors_and_cycles,
        _conditions,
        _reachability,
        _penalties,
        _deadlines,
        _templates,
    )
    return [finding for check in checks for finding in check(ctx)]


def _duplicate_steps(ctx: CheckContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, step in enumerate(ctx.spec.steps):
        if step.id in seen:
            yield ctx.step_path(i, "id"), f"duplicate step id {step.id!r}"
        seen.add(step.id)


def _calendar(ctx: CheckContext) -> Iterator[Finding]:
    cal = ctx.spec.calendar
    if cal.holidays is not None:
        problem = known_country(cal.holidays, cal.subdivision)
        if problem:
            yield ("calendar", "holidays"), problem
    try:
        start, end = parse_working_hours(cal.working_hours)
    except ValueError as exc:
        yield ("calendar", "working_hours"), str(exc)
        return
    if end <= start:
        yield ("calendar", "working_hours"), (
            f"working hours {cal.working_hours} end before they start: working-time deadlines"
            " could never be met"
        )


def _actor_fields(ctx: CheckContext) -> Iterator[tuple[PathKey, str, bool]]:
    """Every actor expression in the policy: (path, text, may it be the complainant)."""
    spec = ctx.spec
    yield ("owner",), spec.owner, False
    for name in ("default_first_hearer", "default_handler"):
        value = getattr(spec, name)
        if value is not None:
            yield (name,), value, False
    for key, penalty in spec.penalties.items():
        for j, text in enumerate(penalty.applies_to):
            yield ("penalties", key, "applies_to", j), text, False
    for i, step in enumerate(spec.steps):
        yield ctx.step_path(i, "actor"), step.actor, False
        for path, text in _listed(ctx.step_path(i, "to"), step.to):
            yield path, text, True
        for k, level in enumerate(step.on_missed.escalate):
            for path, text in _listed(ctx.step_path(i, "on_missed", "escalate", k, "to"), level.to):
                yield path, text, False


def _listed(path: PathKey, value: str | list[str] | None) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif value is not None:
        for j, text in enumerate(value):
            yield (*path, j), text


def _actor_references(ctx: CheckContext) -> Iterator[Finding]:
    for path, text, complainant_ok in _actor_fields(ctx):
        actor = parse_actor(text)
        if actor.innermost().kind is ActorKind.COMPLAINANT and not complainant_ok:
            yield path, "the complainant can only be a target (to:), not someone who must act"
            continue
        if path == ("owner",) and actor.innermost().kind in {ActorKind.HANDLER, ActorKind.FIRST_HEARER}:
            yield path, f"owner {text!r} depends on the complaint; name a role or person (R13)"
        if ctx.org is not None:
            yield from ((path, m) for m in _org_reference(actor.innermost(), ctx.org, ctx.org_file))
    for i, step in enumerate(ctx.spec.steps):
        targets = [step.to] if isinstance(step.to, str) else (step.to or [])
        if any(parse_actor(t) == parse_actor(step.actor) for t in targets):
            yield ctx.step_path(i, "to"), f"step {step.id!r} asks {step.actor} to report to themselves"


def _org_reference(actor: Actor, org: Org, org_file: str) -> Iterator[str]:
    name = actor.arg or ""
    if actor.kind is ActorKind.ROLE:
        known = sorted(set(org.roles) | set(org.role_names()))
        if name not in known:
            yield f"unknown role {name!r}{_hint(name, known)} (roles in {org_file}: {', '.join(known)})"
        elif not org.holders(name):
            yield f"role {name!r} is held by nobody in {org_file}"
    elif actor.kind is ActorKind.PERSON and org.person(name) is None:
        yield f"unknown person {name!r}{_hint(name, [p.id for p in org.people])} in {org_file}"
    elif actor.kind is ActorKind.DEPARTMENT_HEAD and name != "complaint":
        department = org.department(name)
        if department is None:
            known = [d.id for d in org.departments]
            yield f"unknown department {name!r}{_hint(name, known)} in {org_file}"
        elif department.head is None:
            yield f"department {name!r} has no head in {org_file}"


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _anchors_and_cycles(ctx: CheckContext) -> Iterator[Finding]:
    ids = [s.id for s in ctx.spec.steps]
    for i, step in enumerate(ctx.spec.steps):
        for path, text in [(ctx.step_path(i, "from"), step.anchor)] + [
            (ctx.step_path(i, "closes_on", j), t) for j, t in enumerate(step.closes_on)
        ]:
            anchor = parse_anchor(text)
            if anchor.kind is AnchorKind.DONE and anchor.step not in ids:
                yield path, f"unknown step {anchor.step!r} in {text}{_hint(anchor.step or '', ids)}"
    yield from _cycles(ctx)


def _prerequisite(step: StepSpec) -> str | None:
    anchor = parse_anchor(step.anchor)
    return anchor.step if anchor.kind is AnchorKind.DONE else None


def _cycles(ctx: CheckContext) -> Iterator[Finding]:
    by_id = {s.id: s for s in ctx.spec.steps}
    reported: set[str] = set()
    for i, step in enumerate(ctx.spec.steps):
        chain = [step.id]
        current = _prerequisite(step)
        while current is not None and current in by_id and current not in chain:
            chain.append(current)
            current = _prerequisite(by_id[current])
        if current == step.id and step.id not in reported:
            reported.update(chain)
            cycle = " → ".join([*reversed(chain), step.id])
            yield ctx.step_path(i, "from"), f"steps wait for each other in a cycle: {cycle}"


def _conditions(ctx: CheckContext) -> Iterator[Finding]:
    spec = ctx.spec
    allowed: dict[str, list[str]] = {
        "channel": [c.value for c in Channel],
        "category": list(spec.categories),
        "severity": spec.severities,
        "complexity": spec.complexities,
    }
    if ctx.org is not None:
        allowed["department"] = [d.id for d in ctx.org.departments]
    for i, step in enumerate(spec.steps):
        for attribute, values in step.when.items():
            path = ctx.step_path(i, "when", attribute)
            if attribute not in CONDITION_ATTRIBUTES:
                yield path, (
                    f"unknown condition {attribute!r}{_hint(attribute, list(CONDITION_ATTRIBUTES))}"
                    f" (use {', '.join(CONDITION_ATTRIBUTES)})"
                )
                continue
            if not values:
                yield path, f"step {step.id!r} can never start: when.{attribute} lists no value"
            known = allowed.get(attribute)
            for j, value in enumerate(values):
                if known is not None and str(value) not in known:
                    yield (*path, j), (
                        f"unknown {attribute} {value!r}{_hint(str(value), known)}"
                        f" (known: {', '.join(known)})"
                    )


def _reachability(ctx: CheckContext) -> Iterator[Finding]:
    by_id = {s.id: s for s in ctx.spec.steps}
    for i, step in enumerate(ctx.spec.steps):
        seen = {step.id}
        current = _prerequisite(step)
        while current is not None and current in by_id and current not in seen:
            seen.add(current)
            before = by_id[current]
            for attribute, values in step.when.items():
                theirs = before.when.get(attribute)
                if values and theirs is not None and not set(map(str, values)) & set(map(str, theirs)):
                    yield ctx.step_path(i, "when", attribute), (
                        f"step {step.id!r} is unreachable: it needs {attribute} in"
                        f" {_show(values)} but waits for {before.id!r}, which only applies to"
                        f" {attribute} in {_show(theirs)}"
                    )
            current = _prerequisite(before)


def _show(values: list[str | int]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _penalties(ctx: CheckContext) -> Iterator[Finding]:
    spec = ctx.spec
    for key, penalty in spec.penalties.items():
        if not penalty.applies_to:
            yield ("penalties", key, "applies_to"), (
                f"penalty {key!r} names nobody: list in applies_to whom it falls on"
            )
    for i, step in enumerate(spec.steps):
        key = step.on_missed.penalty
        if key is None:
            continue
        path = ctx.step_path(i, "on_missed", "penalty")
        penalty = spec.penalties.get(key)
        if penalty is None:
            yield path, f"unknown penalty {key!r}{_hint(key, list(spec.penalties))}"
        elif penalty.applies_to and parse_actor(step.actor) not in {
            parse_actor(a) for a in penalty.applies_to
        }:
            yield path, (
                f"penalty {key!r} applies to {', '.join(penalty.applies_to)}, not to this step's"
                f" actor {step.actor}"
            )


def _deadlines(ctx: CheckContext) -> Iterator[Finding]:
    for i, step in enumerate(ctx.spec.steps):
        within = parse_duration(step.within)
        if within.amount == 0:
            yield ctx.step_path(i, "within"), f"deadline {step.within!r} can never be met"
        if step.remind is not None:
            every = parse_duration(step.remind.every)
            if every.amount == 0:
                yield ctx.step_path(i, "remind", "every"), "reminder interval must be longer than 0"
            elif every.unit is within.unit is Unit.SECONDS and every.amount >= within.amount:
                yield ctx.step_path(i, "remind", "every"), (
                    f"a reminder every {step.remind.every} never fires before the {step.within}"
                    " deadline"
                )
        for j, text in enumerate(step.closes_on):
            closes = parse_anchor(text)
            if closes.kind in {AnchorKind.HEARD, AnchorKind.OCCURRED, AnchorKind.RECEIVED}:
                yield ctx.step_path(i, "closes_on", j), (
                    f"{text!r} happens before the step starts, so it can never close it"
                )
            elif closes.kind is AnchorKind.DONE and closes.step == step.id:
                yield ctx.step_path(i, "closes_on", j), f"step {step.id!r} cannot be closed by itself"


def template_uses(spec: PolicySpec) -> Iterator[tuple[PathKey, str]]:
    """Every template name the policy uses, with where it is named (or the step that implies it)."""
    if spec.receipt is not None:
        yield ("receipt", "template"), spec.receipt.template
    for i, step in enumerate(spec.steps):
        yield ("steps", i, "template" if step.template else "id"), step.template or step.id
        if step.remind is not None and step.remind.template:
            yield ("steps", i, "remind", "template"), step.remind.template
        for k, level in enumerate(step.on_missed.escalate):
            yield ("steps", i, "on_missed", "escalate", k, "template"), level.template


def _templates(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.templates is None:
        return
    for path, name in template_uses(ctx.spec):
        if path[0] == "steps":
            path = ctx.step_path(int(path[1]), *path[2:])
        for language in ctx.spec.template_languages:
            if not (ctx.templates / language / f"{name}.j2").is_file():
                yield path, (
                    f"template {name!r} has no {language} version: expected"
                    f" {ctx.templates / language / (name + '.j2')}"
                )
