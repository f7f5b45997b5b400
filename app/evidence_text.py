"""A violation's evidence for the terminal: readable lines, or one JSON document (``--json``).

Times are shown in the time zone of the policy the complaint ran under; JSON keeps ISO-8601 UTC.
"""

from dataclasses import asdict
from datetime import datetime

from flows.audit.evidence import EmailFact, EventFact, Evidence, Moment, RulingFact, timeline
from flows.audit.export import record
from flows.audit.penalties import PenaltyTerm
from models.org import Org


def evidence_lines(found: Evidence) -> list[str]:
    v, c, policy, org = found.violation, found.complaint, found.pinned.policy, found.pinned.org
    zone = policy.calendar.zone

    def when(at: datetime) -> str:
        return f"{at.astimezone(zone):%Y-%m-%d %H:%M %Z}"

    step = policy.step(v.step)
    lines = [
        f"violation {v.key}",
        f"  complaint  {c.id} via {c.channel}, received {when(c.received_at)}",
        f"  step       {v.step}: {step.title if step else '?'} (occurrence {v.occurrence})",
        f"  owed by    {name(org, v.actor)}",
        f"  due        {when(v.due_at)}",
        f"  detected   {when(v.detected_at)}",
        f"  outcome    {_outcome(found)}",
        f"  penalty    {_term(found.term)}",
        f"  policy     {policy.id} {v.policy_version} ({policy.calendar.timezone})",
        f"  status     {v.status}",
        "timeline:",
    ]
    lines += [f"  {when(m.at)}  {_moment(m, org)}" for m in timeline(found)]
    return lines


def name(org: Org, actor: str) -> str:
    person = org.person(actor)
    return f"{person.name} ({actor})" if person else actor


def _outcome(found: Evidence) -> str:
    done = found.fulfilment.done
    if done is None:
        return "not done by the due time" + ("" if found.segments else " (no obligation stored)")
    late = found.fulfilment.late_by
    to = f" to {done.to}" if done.to else ""
    return f"done late by {late} ({done.by}{to}, event #{done.seq})"


def _term(term: PenaltyTerm | None) -> str:
    if term is None:
        return "none"
    period = f"{term.starts} to {term.last_day}" if term.last_day else f"from {term.starts}, no end set"
    return f"{term.name} [{term.penalty}], {period}, {term.state.value}"


def _moment(m: Moment, org: Org) -> str:
    fact = m.fact
    if isinstance(fact, EventFact):
        who = f" by {name(org, fact.by)}" if fact.by else ""
        to = f" to {name(org, fact.to)}" if fact.to else ""
        extra = f" {fact.step}" if fact.step else (f" ({fact.detail})" if fact.detail else "")
        entered = f" (entered by account {fact.recorded_by})" if fact.recorded_by else ""
        return f"#{fact.seq} {fact.type}{extra}{who}{to}{entered}"
    if isinstance(fact, EmailFact):
        mark = "*" if fact.concerns_violation else " "
        to = name(org, fact.recipient)
        return f"{mark}email {fact.kind} {fact.step or '-'} → {to} [{fact.status}] {fact.subject}"
    if isinstance(fact, RulingFact):
        return f"RULING #{fact.seq} by {fact.auditor}: {fact.previous} → {fact.status}: {fact.reason}"
    return "DUE" if m.what == "due" else "VIOLATION detected"


def evidence_json(found: Evidence) -> dict[str, object]:
    c = found.complaint
    return {
        **record(found.violation),
        "complaint_facts": {"id": c.id, "channel": c.channel, "received_at": c.received_at.isoformat()},
        "events": [_iso(asdict(e)) for e in found.events],
        "emails": [_iso(asdict(m)) for m in found.emails],
        "obligation": [_iso(asdict(s)) for s in found.segments],
        "fulfilled_by": _iso(asdict(found.fulfilment.done)) if found.fulfilment.done else None,
        "penalty_term": _iso(asdict(found.term)) if found.term else None,
        "rulings": [_iso(asdict(r)) for r in found.rulings],
    }


def _iso(facts: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in facts.items()}
