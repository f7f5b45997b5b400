"""The small expression languages inside a policy: who acts (actors) and what a deadline counts
from (anchors).

Actors:  ``first_hearer`` · ``handler`` · ``complainant`` (as a target only) · ``role(president)`` ·
         ``person(sato)`` · ``department_head(complaint)`` · ``department_head(surgery)`` ·
         ``supervisor_of(<actor>)``
Anchors: ``heard`` · ``occurred`` · ``received`` · ``resolved`` · ``reopened`` · ``done(<step id>)``
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from policies.errors import ExpressionError

_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*(.*?)\s*\)\s*$", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class ActorKind(StrEnum):
    FIRST_HEARER = "first_hearer"
    HANDLER = "handler"
    COMPLAINANT = "complainant"
    ROLE = "role"
    PERSON = "person"
    DEPARTMENT_HEAD = "department_head"
    SUPERVISOR_OF = "supervisor_of"


@dataclass(frozen=True)
class Actor:
    """A parsed actor expression; ``arg`` is the role/person/department name, ``of`` the inner actor."""

    kind: ActorKind
    arg: str | None = None
    of: "Actor | None" = None

    def __str__(self) -> str:
        if self.of is not None:
            return f"{self.kind.value}({self.of})"
        if self.arg is not None:
            return f"{self.kind.value}({self.arg})"
        return self.kind.value

    def innermost(self) -> "Actor":
        return self.of.innermost() if self.of is not None else self

    @property
    def depends_on_handler(self) -> bool:
        return self.innermost().kind is ActorKind.HANDLER


_BARE = {ActorKind.FIRST_HEARER, ActorKind.HANDLER, ActorKind.COMPLAINANT}
_NAMED = {ActorKind.ROLE, ActorKind.PERSON, ActorKind.DEPARTMENT_HEAD}


def parse_actor(text: str) -> Actor:
    text = str(text).strip()
    if text in {k.value for k in _BARE}:
        return Actor(ActorKind(text))
    match = _CALL.match(text)
    if match is None:
        raise ExpressionError(f"{text!r} is not an actor: {_ACTOR_HELP}")
    name, inner = match.groups()
    if name == ActorKind.SUPERVISOR_OF.value:
        of = parse_actor(inner)
        if of.kind is ActorKind.COMPLAINANT:
            raise ExpressionError("the complainant has no supervisor")
        return Actor(ActorKind.SUPERVISOR_OF, of=of)
    if name in {k.value for k in _NAMED}:
        if not _NAME.match(inner):
            raise ExpressionError(f"{name}(...) needs one id such as {name}(president), not {inner!r}")
        return Actor(ActorKind(name), arg=inner)
    raise ExpressionError(f"unknown actor function {name!r}: {_ACTOR_HELP}")


_ACTOR_HELP = (
    "use first_hearer, handler, complainant, role(ID), person(ID), department_head(ID|complaint)"
    " or supervisor_of(ACTOR)"
)


class AnchorKind(StrEnum):
    HEARD = "heard"
    OCCURRED = "occurred"
    RECEIVED = "received"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    DONE = "done"


@dataclass(frozen=True)
class Anchor:
    kind: AnchorKind
    step: str | None = None

    def __str__(self) -> str:
        return f"done({self.step})" if self.step else self.kind.value

    @property
    def repeats(self) -> bool:
        """Anchors that may happen several times in one complaint's life."""
        return self.kind in {AnchorKind.RESOLVED, AnchorKind.REOPENED, AnchorKind.DONE}


def parse_anchor(text: str) -> Anchor:
    text = str(text).strip()
    if text in {k.value for k in AnchorKind if k is not AnchorKind.DONE}:
        return Anchor(AnchorKind(text))
    match = _CALL.match(text)
    if match and match.group(1) == "done" and _NAME.match(match.group(2)):
        return Anchor(AnchorKind.DONE, step=match.group(2))
    raise ExpressionError(
        f"{text!r} is not an anchor: use heard, occurred, received, resolved, reopened or done(STEP)"
    )
