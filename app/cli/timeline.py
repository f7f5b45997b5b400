"""Human-readable timeline of a simulation: events, notifications and violations in time order."""

from datetime import datetime

from models.events import ComplaintReceived, Event, StepDone
from models.org import Org
from policies.engine.simulate import Simulation


def render_timeline(result: Simulation, org: Org) -> str:
    zone = result.policy.calendar.zone
    rows: list[tuple[datetime, int, str]] = []
    for event in result.events:
        rows.append((event.at, 0, _event_line(event)))
    for n in result.notifications:
        to = ", ".join(_name(org, p) for p in n.to)
        line = f"{n.kind.value:<10} {n.complaint} {n.step or '-'} → {to} [{n.template}]"
        rows.append((n.at, 1, line))
    for d in result.violations:
        v = d.violation
        penalty = result.policy.penalty(v.penalty)
        suffix = f"; penalty: {penalty.name}" if penalty else ""
        rows.append(
            (
                d.detected_at,
                2,
                f"VIOLATION  {v.complaint} {v.step}: {_name(org, v.actor)} missed it{suffix}",
            )
        )
    lines = [f"policy {result.policy.id} {result.policy.version} ({result.policy.calendar.timezone})"]
    for at, _, text in sorted(rows, key=lambda r: (r[0], r[1])):
        lines.append(f"{at.astimezone(zone):%Y-%m-%d %H:%M:%S %Z}  {text}")
    lines.append("")
    lines.append(f"obligations at {result.final.now.astimezone(zone):%Y-%m-%d %H:%M %Z}:")
    for o in sorted(result.obligations, key=lambda o: (o.due_at, o.key)):
        due = f"{o.due_at.astimezone(zone):%Y-%m-%d %H:%M}"
        lines.append(f"  {o.status.value:<11} {o.complaint} {o.step} by {_name(org, o.actor)}, due {due}")
    lines.append(f"{len(result.notifications)} notifications, {len(result.violations)} violations")
    return "\n".join(lines)


def _event_line(event: Event) -> str:
    if isinstance(event, ComplaintReceived):
        heard = f", heard by {event.heard_by}" if event.heard_by else ""
        return f"{'received':<10} {event.complaint} via {event.channel.value}{heard}"
    if isinstance(event, StepDone):
        to = f" to {event.to}" if event.to else ""
        return f"{'done':<10} {event.complaint} {event.step} by {event.by}{to}"
    return f"{event.type:<10} {event.complaint}"


def _name(org: Org, person_id: str) -> str:
    person = org.person(person_id)
    return f"{person.name} ({person_id})" if person else person_id
