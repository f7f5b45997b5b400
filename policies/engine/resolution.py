"""Resolving actor expressions to people, at a given moment of a complaint's life.

R13 requires that every problem has a clear responsible person: whatever an expression cannot
resolve (no supervisor, nobody holds the role, unknown handler) falls back to the policy's owner.
The fallback applies where the nobody arises, not to the whole expression: ``supervisor_of(handler)``
with no handler is the owner's supervisor, so an escalation still goes to someone above the person
who owned the step (and only to the owner when the owner has no supervisor either).
"""

from dataclasses import dataclass
from datetime import datetime

from models.org import Org
from policies.engine.facts import ComplaintFacts
from policies.language.compiled import CompiledPolicy
from policies.language.expressions import Actor, ActorKind

COMPLAINANT = "complainant"
_MAX_DEPTH = 16  # loading rejects self-referential defaults; this guards policies compiled directly


@dataclass(frozen=True)
class Party:
    """Who an expression names: ``label`` is a person id or a group label such as ``role:cs_desk``."""

    label: str
    people: tuple[str, ...]


@dataclass(frozen=True)
class Resolver:
    policy: CompiledPolicy
    org: Org
    facts: ComplaintFacts

    def party(self, actor: Actor, when: datetime) -> Party:
        people = self._people(actor, when)
        if people is None:
            people = self._people(self.policy.owner, when) or ()
            if not people:
                return Party("unassigned", ())
        if len(people) == 1:
            return Party(people[0], people)
        return Party(f"{actor.kind.value}:{actor.arg or actor}", people)

    def people(self, actors: tuple[Actor, ...], when: datetime) -> tuple[str, ...]:
        """Everyone any of ``actors`` names, in order, without repeats (targets, escalation lists)."""
        found: list[str] = []
        for actor in actors:
            for person in self.party(actor, when).people:
                if person not in found:
                    found.append(person)
        return tuple(found)

    def _people(  # noqa: PLR0911 - one return per actor kind
        self, actor: Actor, when: datetime, depth: int = 0
    ) -> tuple[str, ...] | None:
        if depth > _MAX_DEPTH:
            return None  # defaults defined in terms of each other: the owner takes it
        org = self.org
        match actor.kind:
            case ActorKind.COMPLAINANT:
                return (COMPLAINANT,)
            case ActorKind.PERSON:
                return (actor.arg,) if actor.arg and org.person(actor.arg) else None
            case ActorKind.ROLE:
                return org.holders(actor.arg or "") or None
            case ActorKind.DEPARTMENT_HEAD:
                name = actor.arg
                if name == "complaint":
                    name = self.facts.attributes_at(when).get("department")
                department = org.department(name) if name else None
                head = department.head if department else None
                return (head,) if head and org.person(head) else None
            case ActorKind.FIRST_HEARER:
                heard_by = self.facts.received.heard_by
                if heard_by and org.person(heard_by):
                    return (heard_by,)
                return self._default(self.policy.default_first_hearer, when, depth)
            case ActorKind.HANDLER:
                handler = self.facts.handler_at(when)
                if handler and org.person(handler):
                    return (handler,)
                return self._default(self.policy.default_handler, when, depth)
            case ActorKind.SUPERVISOR_OF:
                assert actor.of is not None
                return self._supervisors(actor.of, when, depth)
        return None

    def _default(self, actor: Actor | None, when: datetime, depth: int) -> tuple[str, ...] | None:
        return self._people(actor, when, depth + 1) if actor is not None else None

    def _supervisors(self, of: Actor, when: datetime, depth: int) -> tuple[str, ...] | None:
        subordinates = self._people(of, when, depth + 1)
        if subordinates is None:
            subordinates = self._people(self.policy.owner, when, depth + 1) or ()
        bosses: list[str] = []
        for person_id in subordinates:
            person = self.org.person(person_id)
            boss = person.supervisor if person else None
            if boss and self.org.person(boss) and boss not in bosses:
                bosses.append(boss)
        return tuple(bosses) or None
