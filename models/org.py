"""The organisation directory: people, their roles, departments and supervisors.

It lives in its own YAML file so that HR changes never touch the complaint policy.
"""

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

LANGUAGES = ("ja", "zh", "en")


class Person(BaseModel):
    """A member of staff who can hear complaints, own steps and receive email."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    email: str
    language: str = "en"
    roles: tuple[str, ...] = ()
    department: str | None = None
    supervisor: str | None = None


class Department(BaseModel):
    """A department with an optional head (the person complex complaints are handed to)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    head: str | None = None


class Org(BaseModel):
    """The whole directory, with lookups the engine needs to resolve actors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    people: tuple[Person, ...] = ()
    departments: tuple[Department, ...] = ()
    roles: dict[str, str] = Field(default_factory=dict)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def holders(self, role: str) -> tuple[str, ...]:
        """Ids of everyone holding ``role``, in directory order (deterministic for the engine)."""
        return tuple(p.id for p in self.people if role in p.roles)

    def role_names(self) -> Iterator[str]:
        seen: set[str] = set()
        for person in self.people:
            for role in person.roles:
                if role not in seen:
                    seen.add(role)
                    yield role
