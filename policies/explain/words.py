"""Policy expressions in words: durations, anchors, actors (with names from the org) and conditions.

Actors are resolved the way the engine resolves them (``policies.engine.resolution``) but without a
complaint: roles, people and named departments resolve now; ``first_hearer``, ``handler`` and the
complaint's department are set per complaint, so only the policy's defaults can be named for them.
"""

from dataclasses import dataclass

from models.complaint import CONDITION_ATTRIBUTES
from models.org import Org
from policies.explain.phrases import Phrases
from policies.language.compiled import CompiledPolicy, Step
from policies.language.expressions import Actor, ActorKind, Anchor, AnchorKind
from policies.timing.durations import Duration, Period, Unit

_WALL_UNITS = ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m"), (1, "s"))
_PER_COMPLAINT = {ActorKind.FIRST_HEARER, ActorKind.HANDLER}
_MAX_DEFAULT_DEPTH = 8  # defaults may name each other; the checks do not forbid a loop


def group_by_path(steps: tuple[Step, ...]) -> list[tuple[str | None, list[Step]]]:
    """Steps grouped by ``path`` (independent reporting lines), groups in order of first use."""
    groups: dict[str | None, list[Step]] = {}
    for step in steps:
        groups.setdefault(step.path, []).append(step)
    return list(groups.items())


@dataclass(frozen=True)
class Words:
    """Everything ``explain`` says about one policy, in its language."""

    policy: CompiledPolicy
    org: Org
    p: Phrases

    # -- amounts of time -------------------------------------------------------------------------

    def duration(self, duration: Duration) -> str:
        if duration.unit is Unit.SECONDS:
            # Policies say "24 hours", not "1 day": a single day reads better in hours.
            amount = duration.amount
            size, key = next(
                (
                    (size, key)
                    for size, key in _WALL_UNITS
                    if amount and amount % size == 0 and (key != "d" or amount >= 2 * size)
                ),
                (1, "s"),  # zero seconds
            )
            return self._amount(duration.amount // size, self.p.units[key])
        return self._amount(duration.amount, self.p.units[duration.unit.value])

    def period(self, period: Period | None) -> str:
        if period is None:
            return self.p.no_period
        parts = [(period.years, "years"), (period.months, "months"), (period.days, "days")]
        return " ".join(self._amount(n, self.p.period_units[key]) for n, key in parts if n)

    def _amount(self, n: int, unit: tuple[str, str]) -> str:
        return self.p.number.format(n=n, unit=unit[0] if n == 1 else unit[1])

    # -- anchors and deadlines -------------------------------------------------------------------

    def title_of(self, step_id: str | None) -> str:
        step = self.policy.step(step_id or "")
        return step.title if step is not None else str(step_id)

    def since(self, anchor: Anchor) -> str:
        if anchor.kind is AnchorKind.DONE:
            return self.p.since_done.format(title=self.title_of(anchor.step))
        return self.p.since[anchor.kind.value]

    def event(self, anchor: Anchor) -> str:
        if anchor.kind is AnchorKind.DONE:
            return self.p.event_done.format(title=self.title_of(anchor.step))
        return self.p.events[anchor.kind.value]

    def deadline_short(self, step: Step) -> str:
        return self.p.deadline_short.format(within=self.duration(step.within))

    def deadline(self, step: Step) -> str:
        """E.g. クレームを聞いてから30分以内 / within 2 hours after the incident occurred."""
        return self.p.deadline_full.format(since=self.since(step.anchor), short=self.deadline_short(step))

    # -- actors ----------------------------------------------------------------------------------

    def noun(self, actor: Actor) -> str:
        """The actor in words alone: 報告責任者の上司, the head of Sales."""
        bare = {
            ActorKind.FIRST_HEARER: self.p.first_hearer,
            ActorKind.HANDLER: self.p.handler,
            ActorKind.COMPLAINANT: self.p.complainant,
        }
        match actor.kind:
            case ActorKind.ROLE:
                return self.org.roles.get(actor.arg or "", actor.arg or "")
            case ActorKind.PERSON:
                return self._name(actor.arg or "")
            case ActorKind.DEPARTMENT_HEAD:
                return self.p.department_head.format(department=self._department(actor.arg))
            case ActorKind.SUPERVISOR_OF:
                assert actor.of is not None  # the parser always sets ``of`` for supervisor_of
                return self.p.supervisor_of.format(of=self.noun(actor.of))
        return bare[actor.kind]

    def _department(self, department_id: str | None) -> str:
        if department_id == "complaint":
            return self.p.complaint_department
        department = self.org.department(department_id or "")
        return department.name if department is not None else str(department_id)

    def actor(self, actor: Actor, *, detail: bool = True) -> str:
        """The actor with the people it names now; with ``detail``, say what varies per complaint."""
        noun = self.noun(actor)
        if actor.kind is ActorKind.COMPLAINANT or actor.kind is ActorKind.PERSON:
            return noun  # a person's noun is already their name
        if not self._per_complaint(actor):
            people = self.people(actor)
            if not people:
                return self.p.nobody.format(actor=noun)
            return self.p.names.format(actor=noun, names=self._names(people))
        if not detail:
            return noun
        note = self.p.first_hearer_note if actor.kind is ActorKind.FIRST_HEARER else ""
        fallback = self._default(actor)
        people = self.people(fallback) if fallback is not None else ()
        if not people:
            return self.p.per_complaint.format(actor=noun, note=note)
        return self.p.per_complaint_default.format(actor=noun, note=note, names=self._names(people))

    def any_of(self, actors: tuple[Actor, ...], *, detail: bool = True) -> str:
        return self.p.list_or.join(self.actor(a, detail=detail) for a in actors)

    def all_of(self, actors: tuple[Actor, ...], *, detail: bool = True) -> str:
        return self.p.list_and.join(self.actor(a, detail=detail) for a in actors)

    def _names(self, people: tuple[str, ...]) -> str:
        return self.p.list_and.join(self._name(person_id) for person_id in people)

    def _name(self, person_id: str) -> str:
        person = self.org.person(person_id)
        return person.name if person is not None else person_id

    @staticmethod
    def _per_complaint(actor: Actor) -> bool:
        inner = actor.innermost()
        return inner.kind in _PER_COMPLAINT or (
            inner.kind is ActorKind.DEPARTMENT_HEAD and inner.arg == "complaint"
        )

    def people(self, actor: Actor) -> tuple[str, ...]:
        """Person ids the org names for ``actor`` without a complaint; () when it depends on one."""
        org = self.org
        match actor.kind:
            case ActorKind.ROLE:
                return org.holders(actor.arg or "")
            case ActorKind.PERSON:
                return (actor.arg,) if actor.arg and org.person(actor.arg) else ()
            case ActorKind.DEPARTMENT_HEAD:
                department = org.department(actor.arg or "")
                head = department.head if department is not None else None
                return (head,) if head and org.person(head) else ()
            case ActorKind.SUPERVISOR_OF:
                assert actor.of is not None
                return self._supervisors(self.people(actor.of))
        return ()

    def _supervisors(self, people: tuple[str, ...]) -> tuple[str, ...]:
        bosses: list[str] = []
        for person_id in people:
            person = self.org.person(person_id)
            boss = person.supervisor if person is not None else None
            if boss and self.org.person(boss) and boss not in bosses:
                bosses.append(boss)
        return tuple(bosses)

    def _default(self, actor: Actor, depth: int = 0) -> Actor | None:
        """``actor`` with first_hearer/handler replaced by the policy's defaults, as the engine does
        when a complaint records no first hearer or handler."""
        if depth > _MAX_DEFAULT_DEPTH:
            return None
        match actor.kind:
            case ActorKind.FIRST_HEARER | ActorKind.HANDLER:
                policy = self.policy
                is_first = actor.kind is ActorKind.FIRST_HEARER
                default = policy.default_first_hearer if is_first else policy.default_handler
                return self._default(default, depth + 1) if default is not None else None
            case ActorKind.SUPERVISOR_OF:
                assert actor.of is not None
                inner = self._default(actor.of, depth + 1)
                return Actor(ActorKind.SUPERVISOR_OF, of=inner) if inner is not None else None
        return actor

    # -- conditions ------------------------------------------------------------------------------

    def conditions(self, step: Step) -> str | None:
        """``when:`` in words, attributes in the documented order; None when the step always applies."""
        tests = dict(step.when)
        parts = [
            self.p.condition.format(
                attribute=self.p.attributes[name],
                values=self.p.list_or.join(self._value(name, v) for v in sorted(tests[name])),
            )
            for name in CONDITION_ATTRIBUTES
            if name in tests
        ]
        if not parts:
            return None
        return self.p.conditions.format(conditions=self.p.condition_and.join(parts))

    def _value(self, attribute: str, value: str) -> str:
        if attribute == "category":
            return dict(self.policy.categories).get(value, value)
        if attribute == "department":
            return self._department(value)
        return self.p.values.get(value, value)
