"""Compiling a validated policy spec into a ``CompiledPolicy`` the engine can run."""

from policies.errors import PolicyError
from policies.language.compiled import CompiledPolicy, Escalation, Penalty, Reminder, Step, content_version
from policies.language.expressions import Actor, AnchorKind, parse_actor, parse_anchor
from policies.language.schema import PolicySpec, StepSpec
from policies.timing.calendar import WorkCalendar
from policies.timing.durations import parse_duration, parse_period
from policies.timing.working_hours import parse_working_hours


def compile_policy(spec: PolicySpec) -> CompiledPolicy:
    """Compile a spec that passed ``load_policy``'s checks; a cycle here is a programming error."""
    start, end = parse_working_hours(spec.calendar.working_hours)
    calendar = WorkCalendar(
        timezone=spec.timezone,
        country=spec.calendar.holidays,
        subdiv=spec.calendar.subdivision,
        start_minute=start,
        end_minute=end,
    )
    return CompiledPolicy(
        id=spec.id,
        name=spec.name,
        version=content_version(spec.model_dump(mode="json", by_alias=True)),
        language=spec.language,
        calendar=calendar,
        owner=parse_actor(spec.owner),
        default_first_hearer=_maybe(spec.default_first_hearer),
        default_handler=_maybe(spec.default_handler),
        receipt_template=spec.receipt.template if spec.receipt else None,
        receipt_channels=(
            frozenset(spec.receipt.channels) if spec.receipt and spec.receipt.channels else None
        ),
        categories=tuple(spec.categories.items()),
        attribute_defaults=tuple(
            (name, values[0])
            for name, values in (("severity", spec.severities), ("complexity", spec.complexities))
            if values
        ),
        penalties=tuple(
            Penalty(
                id=key,
                name=p.name,
                description=p.description,
                period=parse_period(p.duration) if p.duration else None,
                applies_to=tuple(parse_actor(a) for a in p.applies_to),
            )
            for key, p in spec.penalties.items()
        ),
        steps=tuple(_step(s) for s in _ordered(spec.steps)),
    )


def _maybe(text: str | None) -> Actor | None:
    return parse_actor(text) if text is not None else None


def _actors(value: str | list[str] | None) -> tuple[Actor, ...]:
    if value is None:
        return ()
    return tuple(parse_actor(v) for v in ([value] if isinstance(value, str) else value))


def _ordered(steps: list[StepSpec]) -> list[StepSpec]:
    """File order, except that a step waiting for ``done(x)`` comes after ``x``."""
    placed: list[StepSpec] = []
    pending = list(steps)
    while pending:
        ready = next((s for s in pending if _waits_for(s) in {None, *(p.id for p in placed)}), None)
        if ready is None:
            raise PolicyError(f"steps wait for each other in a cycle: {[s.id for s in pending]}")
        placed.append(ready)
        pending.remove(ready)
    return placed


def _waits_for(step: StepSpec) -> str | None:
    anchor = parse_anchor(step.anchor)
    return anchor.step if anchor.kind is AnchorKind.DONE else None


def _step(spec: StepSpec) -> Step:
    template = spec.template or spec.id
    return Step(
        id=spec.id,
        title=spec.title,
        kind=spec.kind,
        path=spec.path,
        rule=spec.rule,
        actor=parse_actor(spec.actor),
        targets=_actors(spec.to),
        anchor=parse_anchor(spec.anchor),
        within=parse_duration(spec.within),
        when=tuple(sorted((k, frozenset(str(v) for v in vs)) for k, vs in spec.when.items())),
        template=template,
        reminder=(
            Reminder(
                every=parse_duration(spec.remind.every),
                max=spec.remind.max,
                template=spec.remind.template or template,
            )
            if spec.remind
            else None
        ),
        penalty=spec.on_missed.penalty,
        escalations=tuple(
            Escalation(_actors(level.to), level.template, parse_duration(level.after))
            for level in spec.on_missed.escalate
        ),
        repeat_until_resolved=spec.repeat is not None,
        closes_on=tuple(parse_anchor(a) for a in spec.closes_on),
    )
