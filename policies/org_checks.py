"""Consistency of an org directory: unique ids, existing supervisors and departments, no loops."""

from collections.abc import Iterator

from models.org import LANGUAGES, Org
from policies.source import PathKey

Finding = tuple[PathKey, str]


def check_org(org: Org) -> list[Finding]:
    return [*_unique(org), *_references(org), *_supervisor_loops(org)]


def _unique(org: Org) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, person in enumerate(org.people):
        if person.id in seen:
            yield ("people", i, "id"), f"duplicate person id {person.id!r}"
        seen.add(person.id)
    seen_departments: set[str] = set()
    for i, department in enumerate(org.departments):
        if department.id in seen_departments:
            yield ("departments", i, "id"), f"duplicate department id {department.id!r}"
        seen_departments.add(department.id)


def _references(org: Org) -> Iterator[Finding]:
    for i, person in enumerate(org.people):
        if person.supervisor is not None and org.person(person.supervisor) is None:
            yield ("people", i, "supervisor"), f"unknown supervisor {person.supervisor!r}"
        if person.department is not None and org.department(person.department) is None:
            yield ("people", i, "department"), f"unknown department {person.department!r}"
        if person.language not in LANGUAGES:
            yield ("people", i, "language"), (
                f"language {person.language!r} has no templates (use {', '.join(LANGUAGES)})"
            )
        if "@" not in person.email or any(c in person.email for c in "\r\n <>,;"):
            yield ("people", i, "email"), f"{person.email!r} is not a single email address"
        for j, role in enumerate(person.roles):
            if org.roles and role not in org.roles:
                yield ("people", i, "roles", j), f"role {role!r} is not declared under roles:"
    for i, department in enumerate(org.departments):
        if department.head is not None and org.person(department.head) is None:
            yield ("departments", i, "head"), f"unknown department head {department.head!r}"


def _supervisor_loops(org: Org) -> Iterator[Finding]:
    for i, person in enumerate(org.people):
        seen = {person.id}
        current = person.supervisor
        while current is not None:
            if current == person.id:
                yield ("people", i, "supervisor"), (
                    f"supervisors form a loop: {person.id!r} reports, through others, to themselves"
                )
                break
            if current in seen:
                break
            seen.add(current)
            boss = org.person(current)
            current = boss.supervisor if boss else None
