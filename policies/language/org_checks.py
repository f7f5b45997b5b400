"""Consistency of an org directory: unique ids, existing supervisors and departments, no loops."""

import difflib
from collections.abc import Iterator

from models.org import LANGUAGES, Org, Person
from policies.language.source import PathKey

Finding = tuple[PathKey, str]


def check_org(org: Org) -> list[Finding]:
    return [*_unique(org), *_references(org), *_supervisor_loops(org)]


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unique(org: Org) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, person in enumerate(org.people):
        if person.id in seen:
            message = f"duplicate person id {person.id!r}: person {seen[person.id] + 1} in people: has it"
            yield ("people", i, "id"), f"{message} too; give each person their own id"
        seen.setdefault(person.id, i)
    seen_departments: dict[str, int] = {}
    for i, department in enumerate(org.departments):
        if department.id in seen_departments:
            first = seen_departments[department.id] + 1
            message = f"duplicate department id {department.id!r}: department {first} in departments:"
            yield ("departments", i, "id"), f"{message} has it too; give each department its own id"
        seen_departments.setdefault(department.id, i)


def _references(org: Org) -> Iterator[Finding]:
    for i, person in enumerate(org.people):
        yield from ((("people", i, *p), m) for p, m in _person_references(org, person))
    people = [p.id for p in org.people]
    for i, department in enumerate(org.departments):
        if department.head is not None and org.person(department.head) is None:
            message = f"unknown department head {department.head!r}{_hint(department.head, people)}"
            yield ("departments", i, "head"), f"{message}: head names the id of someone under people:"


def _person_references(org: Org, person: Person) -> Iterator[Finding]:
    if person.supervisor is not None and org.person(person.supervisor) is None:
        hint = _hint(person.supervisor, [p.id for p in org.people])
        message = f"unknown supervisor {person.supervisor!r}{hint}"
        yield ("supervisor",), f"{message}: supervisor names the id of someone under people:"
    if person.department is not None and org.department(person.department) is None:
        hint = _hint(person.department, [d.id for d in org.departments])
        yield ("department",), f"unknown department {person.department!r}{hint}"
    if person.language not in LANGUAGES:
        yield ("language",), f"language {person.language!r} has no templates: use {', '.join(LANGUAGES)}"
    if not _single_address(person.email):
        yield ("email",), f"{person.email!r} is not a single email address (like name@example.org)"
    declared = list(org.roles)
    for j, role in enumerate(person.roles):
        if declared and role not in declared:
            message = f"undeclared role {role!r}{_hint(role, declared)}: declare it under roles:"
            yield ("roles", j), f"{message} (declared: {', '.join(declared)})"


def _single_address(email: str) -> bool:
    local, at, domain = email.partition("@")
    if not (local and at and domain) or "@" in domain:
        return False
    return not any(c in email for c in "\r\n\t <>,;\"'()[]\\")


def _supervisor_loops(org: Org) -> Iterator[Finding]:
    """Each loop once, at the first of its members in the file."""
    reported: set[str] = set()
    for i, person in enumerate(org.people):
        if person.id in reported:
            continue
        chain = [person.id]
        current = person.supervisor
        while current is not None and current not in chain:
            boss = org.person(current)
            if boss is None:
                break
            chain.append(current)
            current = boss.supervisor
        if current != person.id:
            continue
        reported.update(chain)
        if len(chain) == 1:
            message = f"{person.id!r} is their own supervisor: name someone else, or leave it out"
        else:
            loop = " → ".join(repr(p) for p in [*chain, person.id])
            message = (
                f"supervisors form a loop: {loop}; someone in it must report to someone outside"
                " it, or to nobody"
            )
        yield ("people", i, "supervisor"), message
