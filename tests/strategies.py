"""Hypothesis strategies shared by the fuzz tests: random valid policies with the org directory they
run against, and random event histories for them.

``policies()`` draws a policy that ``complaintflow policy check`` accepts by construction: every
reference points at something that exists, conditions of a step never exclude those of the step it
waits for, penalties apply to the actors of the steps that carry them, and reminders fire before the
deadline. ``histories()`` draws complaints for such a policy: received events with random attributes
(heard and occurred times before the receipt, or a little after it), then steps done by the right
person (an owner of an obligation that is open at that moment, to one of its targets) or by anyone,
reassignments, reclassifications, resolutions and reopenings. Times fall on a coarse grid often
enough that distinct events share an instant.
"""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from ruamel.yaml import YAML

from models.complaint import Channel, Complainant
from models.decisions import ObligationStatus
from models.events import Assigned, Classified, ComplaintReceived, Event, Reopened, Resolved, StepDone
from models.org import Org
from policies.engine.decide import decide
from policies.language.compiled import CompiledPolicy
from policies.language.compiler import compile_policy
from policies.language.schema import PolicySpec

NAMES = ("amy", "ben", "cho", "dev", "eli", "fay")
ROLES = {"president": "President", "desk": "Desk", "nurse": "Nurse", "manager": "Manager"}
DEPARTMENTS = ("ward", "lab")
CATEGORIES = {"care": "Quality of care", "billing": "Billing", "conduct": "Staff conduct"}
ZONES = ("Asia/Tokyo", "Asia/Shanghai", "America/New_York", "Europe/London", "UTC")
HOLIDAYS = (None, "JP", "CN", "US")
WORKING_HOURS = ("00:00-24:00", "09:00-18:00", "08:30-17:15")
KINDS = ("report", "acknowledge", "respond", "callback", "progress_update", "action")
STEP_IDS = ("report", "consult", "respond", "follow_up", "survey")
ESCALATION_TEMPLATES = ("escalation", "missed_report", "missed_response")
# Starts that matter: a weekday morning, a Friday evening before a weekend, Golden Week in Japan,
# the night New York springs forward.
STARTS = (
    datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    datetime(2026, 4, 3, 17, 40, tzinfo=ZoneInfo("Asia/Tokyo")),
    datetime(2026, 4, 28, 16, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    datetime(2026, 3, 7, 23, 30, tzinfo=ZoneInfo("America/New_York")),
)
# Titles and names: any printable text, CJK included (control characters are the loader's business).
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=24
)


def _dump(document: object) -> str:
    yaml = YAML()
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


@dataclass(frozen=True)
class GeneratedPolicy:
    """A policy document and its org directory, as YAML data; ``write`` puts both in a folder."""

    document: dict[str, Any]
    org: dict[str, Any]

    @property
    def text(self) -> str:
        return _dump(self.document)

    def write(self, folder: Path, name: str = "policy.yaml") -> Path:
        (folder / self.document["org"]).write_text(_dump(self.org), encoding="utf-8")
        path = folder / name
        path.write_text(self.text, encoding="utf-8")
        return path

    @cached_property
    def compiled(self) -> tuple[CompiledPolicy, Org]:
        """Compiled without the files (the fuzz properties check separately that loading agrees)."""
        return compile_policy(PolicySpec.model_validate(self.document)), Org.model_validate(self.org)

    @property
    def step_ids(self) -> list[str]:
        return [s["id"] for s in self.document["steps"]]

    @property
    def people(self) -> list[str]:
        return [p["id"] for p in self.org["people"]]


# --------------------------------------------------------------------------------------------------
# The org directory
# --------------------------------------------------------------------------------------------------


@st.composite
def orgs(draw: st.DrawFn) -> dict[str, Any]:
    """3-6 people; supervisors always earlier in the list (so never a loop); every department has a head."""
    count = draw(st.integers(min_value=3, max_value=len(NAMES)))
    departments = list(DEPARTMENTS[: draw(st.integers(min_value=1, max_value=len(DEPARTMENTS)))])
    people: list[dict[str, Any]] = []
    for index, name in enumerate(NAMES[:count]):
        person: dict[str, Any] = {
            "id": name,
            "name": draw(TEXT),
            "email": f"{name}@x.example",
            "language": draw(st.sampled_from(["ja", "zh", "en"])),
            "roles": draw(st.lists(st.sampled_from(sorted(ROLES)), max_size=2, unique=True)),
        }
        if draw(st.booleans()):
            person["department"] = draw(st.sampled_from(departments))
        if index and draw(st.integers(0, 3)):
            person["supervisor"] = NAMES[draw(st.integers(0, index - 1))]
        people.append(person)
    heads = [{"id": d, "name": d.title(), "head": draw(st.sampled_from(NAMES[:count]))} for d in departments]
    return {
        "id": "fuzz-org",
        "name": draw(TEXT),
        "roles": dict(ROLES),
        "departments": heads,
        "people": people,
    }


def _held_roles(org: dict[str, Any]) -> list[str]:
    return sorted({r for p in org["people"] for r in p["roles"]})


def _actors(org: dict[str, Any], *, complaint_bound: bool = True) -> st.SearchStrategy[str]:
    """Actor expressions that resolve in ``org`` (handler and first hearer only when complaint-bound)."""
    people = [p["id"] for p in org["people"]]
    fixed = [f"person({p})" for p in people]
    fixed += [f"role({r})" for r in _held_roles(org)]
    fixed += [f"department_head({d['id']})" for d in org["departments"]]
    if not complaint_bound:
        return st.sampled_from(fixed)
    bound = ["first_hearer", "handler", "department_head(complaint)", "supervisor_of(first_hearer)"]
    bound += ["supervisor_of(handler)", "supervisor_of(supervisor_of(first_hearer))"]
    return st.sampled_from(fixed + bound)


# --------------------------------------------------------------------------------------------------
# Durations: drawn as (text, parsed size) so reminders can be kept shorter than their deadline
# --------------------------------------------------------------------------------------------------

_WALL_FORMS = {60: ("{}m", "{} minutes", "{}分", "{}分钟"), 3600: ("{}h", "{} hours", "{}時間", "{}小时")}
_WORKING_FORMS = {
    "hours": ("{} working hours", "{}wh", "{}営業時間", "{}工作小时"),
    "days": ("{} working days", "{}wd", "{}営業日", "{}个工作日"),
}


@dataclass(frozen=True)
class Drawn:
    text: str
    seconds: int | None  # wall-clock length; None for working time
    working_hours: int | None = None  # working-hours amount, for "N working hours" deadlines


@st.composite
def deadlines(draw: st.DrawFn) -> Drawn:
    kind = draw(st.sampled_from(["minutes", "hours", "working_hours", "working_days"]))
    if kind == "minutes":
        amount = draw(st.integers(min_value=10, max_value=240))
        return Drawn(draw(st.sampled_from(_WALL_FORMS[60])).format(amount), amount * 60)
    if kind == "hours":
        amount = draw(st.integers(min_value=1, max_value=12))
        return Drawn(draw(st.sampled_from(_WALL_FORMS[3600])).format(amount), amount * 3600)
    if kind == "working_hours":
        amount = draw(st.integers(min_value=1, max_value=8))
        return Drawn(draw(st.sampled_from(_WORKING_FORMS["hours"])).format(amount), None, amount)
    amount = draw(st.integers(min_value=1, max_value=2))
    return Drawn(draw(st.sampled_from(_WORKING_FORMS["days"])).format(amount), None)


@st.composite
def reminders(draw: st.DrawFn, within: Drawn) -> dict[str, Any]:
    """A reminder that fires before the deadline, and not absurdly often."""
    remind: dict[str, Any]
    if within.seconds is not None:
        minutes = within.seconds // 60
        every = draw(st.integers(min_value=max(minutes // 5, 2), max_value=minutes - 1))
        remind = {"every": f"{every}m"}
        if draw(st.booleans()):
            remind["max"] = draw(st.integers(min_value=1, max_value=4))
        return remind
    if within.working_hours is not None and within.working_hours >= 2:
        every = draw(st.integers(min_value=1, max_value=within.working_hours - 1))
        return {"every": f"{every} working hours", "max": draw(st.integers(min_value=1, max_value=3))}
    # Another unit than the deadline's: the checker cannot compare them, so bound the count.
    return {"every": draw(st.sampled_from(["20m", "2h"])), "max": draw(st.integers(1, 2))}


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """What conditions may test in this policy."""

    values: dict[str, list[str]]


def _vocabulary(document: dict[str, Any], org: dict[str, Any]) -> _Vocabulary:
    values = {
        "channel": [c.value for c in Channel],
        "severity": list(document.get("severities", ["normal", "urgent"])),
        "complexity": list(document.get("complexities", ["simple", "complex"])),
        "department": [d["id"] for d in org["departments"]],
    }
    if document.get("categories"):
        values["category"] = list(document["categories"])
    return _Vocabulary(values)


@st.composite
def _conditions(
    draw: st.DrawFn, vocabulary: _Vocabulary, ancestors: list[dict[str, list[str]]]
) -> dict[str, list[str]]:
    """A ``when:`` that shares a value with every step it (indirectly) waits for, so it can start."""
    names = draw(st.lists(st.sampled_from(sorted(vocabulary.values)), max_size=2, unique=True))
    when: dict[str, list[str]] = {}
    for name in names:
        allowed = vocabulary.values[name]
        chosen = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=len(allowed), unique=True))
        for theirs in ancestors:
            if name in theirs and not set(chosen) & set(theirs[name]):
                chosen.append(theirs[name][0])
        when[name] = chosen
    return when


def _ancestors(steps: list[dict[str, Any]], anchor: str) -> list[dict[str, list[str]]]:
    """The ``when:`` of every step a ``done(x)`` anchor waits for, directly or not."""
    by_id = {s["id"]: s for s in steps}
    found: list[dict[str, list[str]]] = []
    while anchor.startswith("done("):
        before = by_id[anchor[5:-1]]
        found.append(before.get("when", {}))
        anchor = before["from"]
    return found


@st.composite
def _escalations(draw: st.DrawFn, org: dict[str, Any]) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        targets = draw(st.lists(_actors(org), min_size=1, max_size=2, unique=True))
        level: dict[str, Any] = {"to": targets[0] if len(targets) == 1 else targets}
        if draw(st.booleans()):
            level["template"] = draw(st.sampled_from(ESCALATION_TEMPLATES))
        if draw(st.booleans()):
            level["after"] = draw(st.sampled_from(["0s", "10m", "45分", "1h", "1 working hour"]))
        levels.append(level)
    return levels


@st.composite
def _on_missed(draw: st.DrawFn, org: dict[str, Any]) -> dict[str, Any]:
    on_missed: dict[str, Any] = {}
    if draw(st.booleans()):
        on_missed["penalty"] = draw(st.sampled_from(["cut", "warning"]))
    escalate = draw(_escalations(org))
    if escalate:
        on_missed["escalate"] = escalate
    return on_missed


@st.composite
def _step(
    draw: st.DrawFn, index: int, steps: list[dict[str, Any]], org: dict[str, Any], vocabulary: _Vocabulary
) -> dict[str, Any]:
    step_id = STEP_IDS[index]
    earlier = [f"done({s['id']})" for s in steps]
    anchor = draw(st.sampled_from(["heard", "occurred", "received", "resolved", "reopened", *earlier]))
    # Handovers (R16) need a step owned through the handler: make that common, not one draw in 14.
    actor = "handler" if draw(st.integers(0, 3)) == 0 else draw(_actors(org))
    within = draw(deadlines())
    step: dict[str, Any] = {
        "id": step_id,
        "title": draw(TEXT),
        "kind": draw(st.sampled_from(KINDS)),
        "actor": actor,
        "from": anchor,
        "within": within.text,
    }
    others = st.one_of(_actors(org), st.just("complainant")).filter(lambda a: a != actor)
    targets = draw(st.lists(others, max_size=3, unique=True))
    if targets:
        step["to"] = targets[0] if len(targets) == 1 and draw(st.booleans()) else targets
    if draw(st.booleans()):
        step["path"] = draw(st.sampled_from(["A", "B", "複線B(上司)"]))
    if draw(st.integers(0, 2)) == 0:
        step["when"] = draw(_conditions(vocabulary, _ancestors(steps, anchor)))
    if draw(st.booleans()):
        step["remind"] = draw(reminders(within))
    # A repeating step re-opens at every due time: keep its periods long enough to stay few.
    if (within.seconds is None or within.seconds >= 2 * 3600) and draw(st.integers(0, 3)) == 0:
        step["repeat"] = {"until": "resolved"}
    closes_on = draw(st.lists(st.sampled_from(["resolved", "reopened", *earlier]), max_size=2, unique=True))
    if closes_on:
        step["closes_on"] = closes_on
    on_missed = draw(_on_missed(org))
    if on_missed:
        step["on_missed"] = on_missed
    if draw(st.integers(0, 3)) == 0:
        step["template"] = "shared_step"
    return step


def _penalties(draw: st.DrawFn, steps: list[dict[str, Any]], org: dict[str, Any]) -> dict[str, Any]:
    """Each penalty a step names, applying (at least) to the actor of every step that names it."""
    penalties: dict[str, Any] = {}
    for key in ("cut", "warning"):
        actors = [s["actor"] for s in steps if s.get("on_missed", {}).get("penalty") == key]
        if not actors and not draw(st.booleans()):
            continue
        extra = draw(st.lists(_actors(org), max_size=1))
        penalty: dict[str, Any] = {
            "name": draw(TEXT),
            "applies_to": sorted(set(actors + extra)) or ["first_hearer"],
        }
        if draw(st.booleans()):
            penalty["duration"] = draw(st.sampled_from(["1 year", "6 months", "6か月", "1年", "2 weeks"]))
        penalties[key] = penalty
    return penalties


@st.composite
def policies(draw: st.DrawFn, *, max_steps: int = 5) -> GeneratedPolicy:
    """A random policy that passes ``policy check``, with the org directory it names."""
    org = draw(orgs())
    calendar: dict[str, Any] = {"working_hours": draw(st.sampled_from(WORKING_HOURS))}
    holidays = draw(st.sampled_from(HOLIDAYS))
    if holidays is not None:
        calendar["holidays"] = holidays
    document: dict[str, Any] = {
        "id": "fuzz-policy",
        "name": draw(TEXT),
        "language": draw(st.sampled_from(["ja", "zh", "en"])),
        "timezone": draw(st.sampled_from(ZONES)),
        "org": "org.yaml",
        "owner": draw(_actors(org, complaint_bound=False)),
        "calendar": calendar,
    }
    if draw(st.booleans()):
        document["default_first_hearer"] = draw(_actors(org, complaint_bound=False))
    if draw(st.booleans()):
        document["default_handler"] = draw(
            st.one_of(_actors(org, complaint_bound=False), st.just("supervisor_of(first_hearer)"))
        )
    if draw(st.booleans()):
        document["categories"] = dict(CATEGORIES)
    if draw(st.booleans()):
        document["severities"] = ["routine", "critical"]
    if draw(st.booleans()):
        receipt: dict[str, Any] = {"template": "receipt"}
        if draw(st.booleans()):
            receipt["channels"] = draw(
                st.lists(st.sampled_from([c.value for c in Channel]), min_size=1, unique=True)
            )
        document["receipt"] = receipt
    vocabulary = _vocabulary(document, org)
    steps: list[dict[str, Any]] = []
    for index in range(draw(st.integers(min_value=1, max_value=max_steps))):
        steps.append(draw(_step(index, steps, org, vocabulary)))
    penalties = _penalties(draw, steps, org)
    if penalties:
        document["penalties"] = penalties
    document["steps"] = steps
    return GeneratedPolicy(document, org)


# --------------------------------------------------------------------------------------------------
# Event histories
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """Events of one or more complaints (``C-1``, ``C-2``...) and the moment to judge them at."""

    events: list[Event]
    start: datetime
    until: datetime


def _minutes(draw: st.DrawFn, most: int) -> int:
    """Often on a half-hour grid, so that distinct events of a complaint share an instant."""
    if draw(st.booleans()):
        return 30 * draw(st.integers(min_value=0, max_value=most // 30))
    return draw(st.integers(min_value=0, max_value=most))


def _earlier_or_ahead(when: datetime, back: int, ahead: int) -> st.SearchStrategy[datetime | None]:
    """Unset, up to ``back`` minutes before ``when``, or up to ``ahead`` minutes after it (a staff
    member's clock running ahead of the server's: the anchor lies ahead of the receipt)."""
    earlier = st.integers(0, back).map(lambda m: when - timedelta(minutes=m))
    if not ahead:
        return st.one_of(st.none(), earlier)
    later = st.integers(1, ahead).map(lambda m: when + timedelta(minutes=m))
    return st.one_of(st.none(), earlier, later)


@st.composite
def _received(
    draw: st.DrawFn, generated: GeneratedPolicy, complaint: str, when: datetime, ahead: int
) -> ComplaintReceived:
    vocabulary = _vocabulary(generated.document, generated.org)

    def maybe(name: str) -> str | None:
        values = vocabulary.values.get(name)
        return draw(st.sampled_from(values)) if values and draw(st.booleans()) else None

    email = draw(st.sampled_from([None, "someone@patients.example"]))
    language = draw(st.sampled_from([None, "ja", "zh", "en"]))
    return ComplaintReceived(
        complaint=complaint,
        at=when,
        channel=draw(st.sampled_from(list(Channel))),
        category=maybe("category"),
        severity=maybe("severity"),
        complexity=maybe("complexity"),
        department=maybe("department"),
        heard_by=draw(st.one_of(st.none(), st.sampled_from(generated.people))),
        heard_at=draw(_earlier_or_ahead(when, 90, ahead)),
        occurred_at=draw(_earlier_or_ahead(when, 600, ahead)),
        complainant=Complainant(email=email, language=language if email else None),
        subject="fuzz",
    )


def _right_done(
    generated: GeneratedPolicy, events: list[Event], complaint: str, when: datetime, pick: int
) -> StepDone | None:
    """A step done by an owner of an obligation open (or overdue) at ``when``, to one of its targets."""
    policy, org = generated.compiled
    owed = [
        o
        for o in decide(policy, org, events, when).obligations
        if o.complaint == complaint
        and o.status in {ObligationStatus.OPEN, ObligationStatus.OVERDUE}
        and o.actors
    ]
    if not owed:
        return None
    obligation = owed[pick % len(owed)]
    by = obligation.actors[pick % len(obligation.actors)]
    to = None
    if len(obligation.targets) > 1 or (obligation.targets and pick % 2):
        to = obligation.targets[pick % len(obligation.targets)]
    return StepDone(complaint=complaint, at=when, step=obligation.step, by=by, to=to, note="done")


@st.composite
def _follow_up(
    draw: st.DrawFn, generated: GeneratedPolicy, events: list[Event], complaint: str, when: datetime
) -> Event:
    kinds = ["right", "right", "done", "assigned", "assigned", "classified", "resolved", "reopened"]
    kind = draw(st.sampled_from(kinds))
    if kind == "right":
        found = _right_done(generated, events, complaint, when, draw(st.integers(0, 11)))
        if found is not None:
            return found
        kind = "done"
    people = generated.people
    if kind == "done":
        return StepDone(
            complaint=complaint,
            at=when,
            step=draw(st.sampled_from([*generated.step_ids, "no_such_step"])),
            by=draw(st.sampled_from(people)),
            to=draw(st.one_of(st.none(), st.sampled_from([*people, "complainant"]))),
        )
    if kind == "assigned":
        return Assigned(complaint=complaint, at=when, handler=draw(st.sampled_from([*people, "ghost"])))
    if kind == "classified":
        vocabulary = _vocabulary(generated.document, generated.org)
        name = draw(st.sampled_from(sorted(set(vocabulary.values) - {"channel"})))
        return Classified(
            complaint=complaint, at=when, **{name: draw(st.sampled_from(vocabulary.values[name]))}
        )
    if kind == "resolved":
        return Resolved(complaint=complaint, at=when)
    return Reopened(complaint=complaint, at=when, reason="not satisfied")


@st.composite
def histories(
    draw: st.DrawFn,
    generated: GeneratedPolicy,
    *,
    max_complaints: int = 2,
    max_events: int = 6,
    span_minutes: int = 24 * 60,
    tail_minutes: int = 0,
    ahead_minutes: int = 5,
) -> History:
    """Complaints received within two hours of a start, followed by events over ``span_minutes``;
    judged at least ``tail_minutes`` after the last event (so deadlines have a chance to pass).
    Heard and occurred times may lie up to ``ahead_minutes`` after the receipt (the staff form's
    allowed clock skew by default)."""
    start = draw(st.sampled_from(STARTS))
    events: list[Event] = []
    for number in range(1, draw(st.integers(min_value=1, max_value=max_complaints)) + 1):
        complaint = f"C-{number}"
        received_at = start + timedelta(minutes=_minutes(draw, 120))
        events.append(draw(_received(generated, complaint, received_at, ahead_minutes)))
        offsets = sorted(_minutes(draw, span_minutes) for _ in range(draw(st.integers(0, max_events))))
        if draw(st.booleans()):
            # A handover soon after intake, while the first steps are still open (R16).
            moment = received_at + timedelta(minutes=draw(st.integers(1, 20)))
            events.append(
                Assigned(complaint=complaint, at=moment, handler=draw(st.sampled_from(generated.people)))
            )
            offsets = [o for o in offsets if received_at + timedelta(minutes=o) >= moment]
        for offset in offsets:
            events.append(
                draw(_follow_up(generated, events, complaint, received_at + timedelta(minutes=offset)))
            )
    last = max(e.at for e in events)
    until = last + timedelta(minutes=tail_minutes + _minutes(draw, span_minutes))
    return History(events, start, until)
