"""Checks that need the whole policy and its org directory: references, cycles, reachability,
deadlines that can never be met, penalties that name nobody, defaults that never resolve, and
missing templates.

Each check yields ``(path, message)`` pairs; the loader turns paths into ``file:line:col``.
"""

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import holidays

from models.complaint import CONDITION_ATTRIBUTES, Channel
from models.org import Org
from policies.language.expressions import Actor, ActorKind, AnchorKind, parse_actor, parse_anchor
from policies.language.schema import PolicySpec, StepSpec
from policies.language.source import PathKey
from policies.timing.calendar import calendar_exists
from policies.timing.durations import Unit, parse_duration, parse_period
from policies.timing.working_hours import parse_working_hours

Finding = tuple[PathKey, str]
_MAX_LISTED = 10


@dataclass(frozen=True)
class CheckContext:
    """The policy to check, with what is known about the file it came from.

    When parts of the file failed validation, ``spec`` holds the rest: ``step_index`` maps its steps
    back to their place in the file, ``step_ids`` and ``penalty_keys`` still name every step and
    penalty written (so a reference to a broken one is not reported again as unknown), and
    ``broken`` lists the top-level keys whose value in ``spec`` is only a stand-in.
    """

    spec: PolicySpec
    org: Org | None
    org_file: str
    step_index: tuple[int, ...]  # position of spec.steps[i] in the file's steps list
    templates: Path | None
    step_ids: frozenset[str] | None = None
    penalty_keys: frozenset[str] | None = None
    broken: frozenset[str] = frozenset()

    def step_path(self, position: int, *rest: str | int) -> PathKey:
        return ("steps", self.step_index[position], *rest)

    @property
    def known_steps(self) -> list[str]:
        ids = {s.id for s in self.spec.steps} | (self.step_ids or frozenset())
        return sorted(ids)

    @property
    def known_penalties(self) -> list[str]:
        return sorted(set(self.spec.penalties) | (self.penalty_keys or frozenset()))


def run_checks(ctx: CheckContext) -> list[Finding]:
    checks = (
        _duplicate_steps,
        _calendar,
        _actor_references,
        _default_loops,
        _anchors_and_cycles,
        _conditions,
        _reachability,
        _penalties,
        _deadlines,
        _lengths,
        _templates,
    )
    return [finding for check in checks for finding in check(ctx)]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _duplicate_steps(ctx: CheckContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, step in enumerate(ctx.spec.steps):
        if step.id in seen:
            message = f"duplicate step id {step.id!r}: an earlier step already has it"
            yield ctx.step_path(i, "id"), message + "; give each step its own id"
        seen.add(step.id)


def _calendar(ctx: CheckContext) -> Iterator[Finding]:
    if "calendar" in ctx.broken:
        return
    cal = ctx.spec.calendar
    if cal.holidays is not None:
        yield from _holiday_calendar(cal.holidays, cal.subdivision)
    elif cal.subdivision is not None:
        yield ("calendar", "subdivision"), "subdivision needs a holiday calendar: add holidays:"
    try:
        start, end = parse_working_hours(cal.working_hours)
    except ValueError as exc:
        yield ("calendar", "working_hours"), str(exc)
        return
    if end <= start:
        message = (
            f"working hours {cal.working_hours!r} end before they start, so working-time deadlines"
            " could never be met: the window must lie within one day, e.g. 09:00-18:00"
        )
        yield ("calendar", "working_hours"), message


def _holiday_calendar(country: str, subdivision: str | None) -> Iterator[Finding]:
    supported = holidays.list_supported_countries()
    if not calendar_exists(country):
        hint = _hint(country.upper(), list(supported)) if country.upper() != country else ""
        hint = hint or _hint(country, list(supported))
        message = f"unknown holiday calendar {country!r}{hint}: use an ISO country code such as JP, CN, US"
        yield ("calendar", "holidays"), message
    elif subdivision is not None and not calendar_exists(country, subdivision):
        known = list(supported.get(country, []))
        shown = ", ".join(known[:_MAX_LISTED]) + (", ..." if len(known) > _MAX_LISTED else "")
        listed = f"use one of {shown}" if known else f"{country} has no subdivisions"
        message = f"unknown subdivision {subdivision!r} of holiday calendar {country!r}"
        yield ("calendar", "subdivision"), f"{message}{_hint(subdivision, known)}: {listed}"


def _actor_fields(ctx: CheckContext) -> Iterator[tuple[PathKey, str]]:
    """Every actor expression in the policy, with where it is written."""
    spec = ctx.spec
    for name in ("owner", "default_first_hearer", "default_handler"):
        value = getattr(spec, name)
        if value is not None and name not in ctx.broken:
            yield (name,), value
    for key, penalty in spec.penalties.items():
        for j, text in enumerate(penalty.applies_to):
            yield ("penalties", key, "applies_to", j), text
    for i, step in enumerate(spec.steps):
        yield ctx.step_path(i, "actor"), step.actor
        yield from _listed(ctx.step_path(i, "to"), step.to)
        for k, level in enumerate(step.on_missed.escalate):
            yield from _listed(ctx.step_path(i, "on_missed", "escalate", k, "to"), level.to)


def _listed(path: PathKey, value: str | list[str] | None) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif value is not None:
        for j, text in enumerate(value):
            yield (*path, j), text


def _complainant_misuse(path: PathKey) -> str | None:
    """Why the complainant may not stand at ``path`` (None where it may: a step's ``to:``)."""
    if "escalate" in path:
        return "the complainant cannot receive escalations: name someone on staff"
    if path[-1] == "to" or (len(path) > 1 and path[-2] == "to"):
        return None
    if path[-1] == "actor":
        return "the complainant cannot be a step's actor: it may only be a target, under to:"
    if path[0] == "penalties":
        return "the complainant cannot be penalised: applies_to names staff"
    return f"{path[0]} cannot be the complainant: name a role or person"


def _actor_references(ctx: CheckContext) -> Iterator[Finding]:
    for path, text in _actor_fields(ctx):
        actor = parse_actor(text).innermost()
        if actor.kind is ActorKind.COMPLAINANT:
            misuse = _complainant_misuse(path)
            if misuse is not None:
                yield path, misuse
            continue
        if path == ("owner",) and actor.kind in {ActorKind.HANDLER, ActorKind.FIRST_HEARER}:
            message = f"owner {text!r} depends on the complaint, but the owner answers for every"
            yield path, message + " complaint (R13): name a role or person"
        if ctx.org is not None:
            yield from ((path, m) for m in _org_reference(actor, ctx.org, ctx.org_file))
    for i, step in enumerate(ctx.spec.steps):
        targets = [step.to] if isinstance(step.to, str) else (step.to or [])
        if any(parse_actor(t) == parse_actor(step.actor) for t in targets):
            message = f"step {step.id!r} asks {step.actor} to report to themselves"
            yield ctx.step_path(i, "to"), message + ": remove them from to:, or make someone else the actor"


def _org_reference(actor: Actor, org: Org, org_file: str) -> Iterator[str]:
    name = actor.arg or ""
    if actor.kind is ActorKind.ROLE:
        known = sorted(set(org.roles) | set(org.role_names()))
        if name not in known:
            listed = ", ".join(known) or "none"
            yield f"unknown role {name!r} in {org_file}{_hint(name, known)}; its roles are {listed}"
        elif not org.holders(name):
            yield f"role {name!r} is held by nobody in {org_file}: add it to someone's roles there"
    elif actor.kind is ActorKind.PERSON and org.person(name) is None:
        people = [p.id for p in org.people]
        yield f"unknown person {name!r} in {org_file}{_hint(name, people)}"
    elif actor.kind is ActorKind.DEPARTMENT_HEAD and name != "complaint":
        department = org.department(name)
        if department is None:
            known = [d.id for d in org.departments]
            yield f"unknown department {name!r} in {org_file}{_hint(name, known)}"
        elif department.head is None:
            message = f"department {name!r} in {org_file} has no head"
            yield f"{message}: add head: to it there, or name someone else"


def _default_loops(ctx: CheckContext) -> Iterator[Finding]:
    """``default_handler`` may not need the handler, nor ``default_first_hearer`` the first hearer.

    Each default is used exactly when the person it stands in for is unknown, so an expression that
    depends on that person (directly, through supervisor_of, or through the other default) could
    never be resolved (and would send resolution.py into endless recursion).
    """
    spec = ctx.spec
    handler = None if "default_handler" in ctx.broken else spec.default_handler
    hearer = None if "default_first_hearer" in ctx.broken else spec.default_first_hearer
    handler_needs = parse_actor(handler).innermost().kind if handler else None
    hearer_needs = parse_actor(hearer).innermost().kind if hearer else None
    fix = "name a role or person instead"
    if handler_needs is ActorKind.HANDLER:
        message = f"default_handler {handler!r} depends on the handler it stands in for, so it can never"
        yield ("default_handler",), f"{message} be found: {fix}, or use supervisor_of(first_hearer)"
    if hearer_needs is ActorKind.FIRST_HEARER:
        message = f"default_first_hearer {hearer!r} depends on the first hearer it stands in for, so it"
        yield ("default_first_hearer",), f"{message} can never be found: {fix}"
    if handler_needs is ActorKind.FIRST_HEARER and hearer_needs is ActorKind.HANDLER:
        message = (
            f"default_handler {handler!r} and default_first_hearer {hearer!r} depend on each other,"
            " so neither can be found when both people are unknown"
        )
        yield ("default_handler",), f"{message}: {fix} in one of them"


def _anchors_and_cycles(ctx: CheckContext) -> Iterator[Finding]:
    ids = ctx.known_steps
    for i, step in enumerate(ctx.spec.steps):
        anchors = [(ctx.step_path(i, "from"), step.anchor)]
        anchors += [(ctx.step_path(i, "closes_on", j), t) for j, t in enumerate(step.closes_on)]
        for path, text in anchors:
            anchor = parse_anchor(text)
            if anchor.kind is AnchorKind.DONE and anchor.step not in ids:
                yield path, f"unknown step {anchor.step!r} in {text}{_hint(anchor.step or '', ids)}"
    yield from _cycles(ctx)


def _prerequisite(step: StepSpec) -> str | None:
    anchor = parse_anchor(step.anchor)
    return anchor.step if anchor.kind is AnchorKind.DONE else None


def _cycles(ctx: CheckContext) -> Iterator[Finding]:
    """Each cycle once, at the ``from:`` of its first step in the file."""
    by_id = {s.id: s for s in ctx.spec.steps}
    reported: set[str] = set()
    for i, step in enumerate(ctx.spec.steps):
        chain = [step.id]
        current = _prerequisite(step)
        while current is not None and current in by_id and current not in chain:
            chain.append(current)
            current = _prerequisite(by_id[current])
        if current != step.id or step.id in reported:
            continue
        reported.update(chain)
        if len(chain) == 1:
            message = f"step {step.id!r} waits for itself (from: done({step.id})), so it never starts:"
            yield (
                ctx.step_path(i, "from"),
                f"{message} start it from heard, occurred, received or another step",
            )
            continue
        waits = ", which waits for ".join(repr(s) for s in [*chain[1:], step.id])
        message = (
            f"steps wait for each other in a cycle, so none of them ever starts: {step.id!r} waits"
            f" for {waits}; start one of them from heard, occurred or received"
        )
        yield ctx.step_path(i, "from"), message


_DECLARED_IN = {"category": "categories", "severity": "severities", "complexity": "complexities"}


def _conditions(ctx: CheckContext) -> Iterator[Finding]:
    spec = ctx.spec
    allowed: dict[str, list[str]] = {"channel": [c.value for c in Channel]}
    declared = {
        "category": list(spec.categories),
        "severity": spec.severities,
        "complexity": spec.complexities,
    }
    allowed |= {k: v for k, v in declared.items() if _DECLARED_IN[k] not in ctx.broken}
    if ctx.org is not None:
        allowed["department"] = [d.id for d in ctx.org.departments]
    for i, step in enumerate(spec.steps):
        for attribute, values in step.when.items():
            path = ctx.step_path(i, "when", attribute)
            if attribute not in CONDITION_ATTRIBUTES:
                hint = _hint(attribute, list(CONDITION_ATTRIBUTES))
                yield path, f"unknown condition {attribute!r}{hint}: use {', '.join(CONDITION_ATTRIBUTES)}"
                continue
            if not values:
                message = f"step {step.id!r} can never start: when.{attribute} lists no value"
                yield path, f"{message} (list at least one, or remove {attribute})"
            known = allowed.get(attribute)
            for j, value in enumerate(values):
                if known is not None and str(value) not in known:
                    yield (*path, j), _unknown_value(attribute, str(value), known, ctx)


def _unknown_value(attribute: str, value: str, known: list[str], ctx: CheckContext) -> str:
    if attribute == "department":
        return f"unknown department {value!r} in {ctx.org_file}{_hint(value, known)}"
    if not known:
        where = _DECLARED_IN[attribute]
        return f"unknown {attribute} {value!r}: the policy declares none (add it under {where}:)"
    return f"unknown {attribute} {value!r}{_hint(value, known)}; known: {', '.join(known)}"


def _reachability(ctx: CheckContext) -> Iterator[Finding]:
    """A step whose conditions exclude those of a step it waits for (directly or not) never starts."""
    by_id = {s.id: s for s in ctx.spec.steps}
    for i, step in enumerate(ctx.spec.steps):
        reported: set[str] = set()
        seen = {step.id}
        current = _prerequisite(step)
        while current is not None and current in by_id and current not in seen:
            seen.add(current)
            before = by_id[current]
            for attribute, values in step.when.items():
                theirs = before.when.get(attribute)
                if attribute in reported or not values or theirs is None:
                    continue
                if not set(map(str, values)) & set(map(str, theirs)):
                    reported.add(attribute)
                    message = (
                        f"step {step.id!r} is unreachable: it needs {attribute} in {_show(values)} but"
                        f" waits for {before.id!r}, which only applies to {attribute} in {_show(theirs)}"
                    )
                    yield ctx.step_path(i, "when", attribute), message
            current = _prerequisite(before)


def _show(values: list[str | int]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _penalties(ctx: CheckContext) -> Iterator[Finding]:
    spec = ctx.spec
    for key, penalty in spec.penalties.items():
        if not penalty.applies_to:
            message = f"penalty {key!r} names nobody: list in applies_to whom it falls on"
            yield ("penalties", key, "applies_to"), message + ", e.g. [first_hearer]"
    for i, step in enumerate(spec.steps):
        named = step.on_missed.penalty
        if named is None:
            continue
        path = ctx.step_path(i, "on_missed", "penalty")
        used = spec.penalties.get(named)
        if used is None:
            if named not in ctx.known_penalties and "penalties" not in ctx.broken:
                yield path, f"unknown penalty {named!r}{_hint(named, ctx.known_penalties)}"
            continue
        falls_on = {parse_actor(a) for a in used.applies_to}
        if used.applies_to and parse_actor(step.actor) not in falls_on:
            message = (
                f"penalty {named!r} applies to {', '.join(used.applies_to)}, not to this step's actor"
                f" {step.actor}: add {step.actor} to its applies_to, or choose another penalty"
            )
            yield path, message


def _deadlines(ctx: CheckContext) -> Iterator[Finding]:
    for i, step in enumerate(ctx.spec.steps):
        within = parse_duration(step.within)
        if within.amount == 0:
            message = f"a deadline of {step.within!r} can never be met: give a duration longer than 0"
            yield ctx.step_path(i, "within"), message
        if step.remind is not None:
            every = parse_duration(step.remind.every)
            if every.amount == 0:
                message = f"a reminder every {step.remind.every!r} would never stop"
                yield ctx.step_path(i, "remind", "every"), f"{message}: give an interval longer than 0"
            elif within.amount and every.unit is within.unit and every.amount >= within.amount:
                message = (
                    f"a reminder every {step.remind.every} never fires before the {step.within} deadline"
                )
                yield ctx.step_path(i, "remind", "every"), f"{message}: remind more often, or remove remind:"
        for j, text in enumerate(step.closes_on):
            closes = parse_anchor(text)
            path = ctx.step_path(i, "closes_on", j)
            if closes.kind in {AnchorKind.HEARD, AnchorKind.OCCURRED, AnchorKind.RECEIVED}:
                message = f"{text!r} happens before the step starts, so it can never close it"
                yield path, f"{message}: use resolved, reopened or done(STEP)"
            elif closes.kind is AnchorKind.DONE and closes.step == step.id:
                message = f"step {step.id!r} cannot be closed by itself: being done already ends it"
                yield path, f"{message}, so remove done({step.id})"


# Longer durations overflow the calendar's date arithmetic (or take it minutes to count), so the
# engine would fail on the first complaint: no complaint rule needs a deadline, reminder or escalation
# beyond a year, nor a penalty beyond a century.
_MAX_AMOUNT = {Unit.SECONDS: 366 * 86400, Unit.WORKING_DAYS: 261, Unit.WORKING_HOURS: 261 * 8}
_LIMITS = "366 days, 261 working days or 2088 working hours"
_MAX_PERIOD_DAYS = 36_600


def _lengths(ctx: CheckContext) -> Iterator[Finding]:
    for i, step in enumerate(ctx.spec.steps):
        durations = [(ctx.step_path(i, "within"), step.within)]
        if step.remind is not None:
            durations.append((ctx.step_path(i, "remind", "every"), step.remind.every))
        for k, level in enumerate(step.on_missed.escalate):
            durations.append((ctx.step_path(i, "on_missed", "escalate", k, "after"), level.after))
        for path, text in durations:
            duration = parse_duration(text)
            if duration.amount > _MAX_AMOUNT[duration.unit]:
                yield path, f"{text!r} is too long to count: at most {_LIMITS}"
    for key, penalty in ctx.spec.penalties.items():
        period = parse_period(penalty.duration) if penalty.duration else None
        if period is not None and period.years * 366 + period.months * 31 + period.days > _MAX_PERIOD_DAYS:
            yield (
                ("penalties", key, "duration"),
                f"a penalty of {penalty.duration!r} is too long: at most 100 years",
            )


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
    folder = ctx.templates
    if folder is None or {"language", "languages"} & ctx.broken:
        return
    if not folder.is_dir():
        message = f"template folder {folder} does not exist (templates: is relative to the policy file)"
        yield ("templates",), message
        return
    for where, name in template_uses(ctx.spec):
        path = ctx.step_path(int(where[1]), *where[2:]) if where[0] == "steps" else where
        implied = where[0] == "steps" and where[2] == "id"
        for language in ctx.spec.template_languages:
            expected = folder / language / f"{name}.j2"
            if expected.is_file():
                continue
            if implied:
                message = f"step {name!r} has no {language} template: expected {expected}"
                yield path, f"{message} (or set template: to an existing one)"
            else:
                yield path, f"template {name!r} has no {language} version: expected {expected}"
