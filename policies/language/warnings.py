"""Warnings of ``policy check``: what a valid policy allows but its author probably did not mean.

A warning never fails the check (a policy may have reasons). Each is ``(path, message)``, located by
the loader like a problem. They run on a policy that passed every check, compiled, with its org:
escalation chains are followed with the engine's own resolver, so the warning and the emails agree.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import product

from models.complaint import Channel
from models.events import ComplaintReceived
from models.org import Org
from policies.engine.facts import facts_of
from policies.engine.resolution import Resolver
from policies.language.compiled import CompiledPolicy, Reminder, Step
from policies.language.compiler import compile_policy
from policies.language.schema import PolicySpec
from policies.language.source import PathKey
from policies.timing.calendar import WorkCalendar
from policies.timing.durations import Duration

Finding = tuple[PathKey, str]
MAX_REMINDERS = 100
# Mixed units (a reminder in minutes for a deadline in working days) are counted from these starts:
# every six hours over a fortnight, so weekends and each part of the working day are covered.
_SAMPLE_STARTS = tuple(datetime(2026, 4, 27, tzinfo=UTC) + timedelta(hours=6 * i) for i in range(56))
_UNBOUNDED = 10_000  # the most reminders the engine sends when remind.max is unset


def policy_warnings(spec: PolicySpec, org: Org) -> list[Finding]:
    policy = compile_policy(spec)
    position = {s.id: i for i, s in enumerate(spec.steps)}
    found: list[Finding] = []
    for step in policy.steps:
        i = position[step.id]
        for path, message in [*_reminder_flood(policy, step), *_escalation_to_self(policy, org, step)]:
            found.append((("steps", i, *path), f"warning: {message}"))
    return found


def _reminder_flood(policy: CompiledPolicy, step: Step) -> Iterator[Finding]:
    reminder = step.reminder
    if reminder is None:
        return
    count = _reminders(policy.calendar, step.within, reminder)
    if count > MAX_REMINDERS:
        exact = step.within.unit is reminder.every.unit  # otherwise counted only up to the limit
        shown = str(count) if exact else f"more than {MAX_REMINDERS}"
        message = (
            f"step {step.id!r} reminds every {reminder.every} until its {step.within} deadline: one"
            f" occurrence can send {shown} reminders (the limit is {MAX_REMINDERS}); remind less often,"
            " or set remind.max"
        )
        yield ("remind", "every"), message


def _reminders(calendar: WorkCalendar, within: Duration, reminder: Reminder) -> int:
    """The most reminders one owner of one occurrence can receive before the due time."""
    cap = reminder.max or _UNBOUNDED
    if within.unit is reminder.every.unit:
        # Same unit: reminders at every, 2·every, … strictly before the deadline.
        return min(cap, -(-within.amount // reminder.every.amount) - 1)
    most = 0
    for start in _SAMPLE_STARTS:
        due, at, count = calendar.add(start, within), start, 0
        while count < min(cap, MAX_REMINDERS + 1):
            at = calendar.add(at, reminder.every)
            if at >= due:
                break
            count += 1
        most = max(most, count)
        if most > MAX_REMINDERS:
            break
    return most


def _escalation_to_self(policy: CompiledPolicy, org: Org, step: Step) -> Iterator[Finding]:
    """The last escalation level, in some complaint nobody has assigned yet, reaches only the
    people who owned the step although someone stands above them: their own miss is reported to
    them, and nobody above hears of it. (At the top of the org there is nobody above to tell.)"""
    if not step.escalations:
        return
    last = step.escalations[-1]
    for heard_by, department in _situations(org, step):
        resolver = _resolver(policy, org, heard_by, department)
        actor = resolver.party(step.actor, resolver.facts.received_at)
        told = resolver.people(last.targets, resolver.facts.received_at)
        if told and set(told) <= set(actor.people) and _has_someone_above(org, actor.people):
            level = len(step.escalations) - 1
            message = (
                f"step {step.id!r}: its last escalation can reach only {', '.join(told)}, who owns the"
                f" step (for example {_situation(heard_by, department)}), so nobody else hears of the"
                f" miss: escalate to someone above the owner, e.g. supervisor_of({step.actor})"
            )
            yield ("on_missed", "escalate", level, "to"), message
            return


def _has_someone_above(org: Org, people: tuple[str, ...]) -> bool:
    return any((person := org.person(p)) is not None and person.supervisor for p in people)


def _situations(org: Org, step: Step) -> Iterator[tuple[str | None, str | None]]:
    """Who heard it and which department it names, unknown first (the fallbacks); a department
    outside the step's own ``when:`` never reaches the step."""
    allowed = dict(step.when).get("department")
    departments = [None, *(d.id for d in org.departments)]
    departments = [d for d in departments if allowed is None or d in allowed]
    yield from product([None, *(p.id for p in org.people)], departments)


def _resolver(policy: CompiledPolicy, org: Org, heard_by: str | None, department: str | None) -> Resolver:
    received = ComplaintReceived(
        complaint="check",
        at=_SAMPLE_STARTS[0],
        channel=Channel.WEB,
        heard_by=heard_by,
        department=department,
    )
    facts = facts_of([received])
    assert facts is not None  # a received event always gives facts
    return Resolver(policy, org, facts)


def _situation(heard_by: str | None, department: str | None) -> str:
    hearer = f"{heard_by} heard it" if heard_by else "nobody is named as first hearer"
    where = f"department {department}" if department else "no department"
    return f"when {hearer} and the complaint names {where}"
