"""Readable summary of a policy: its chain of steps in the policy's language, and a Mermaid diagram.

The output is Markdown, so it reads well in a terminal and renders (diagram included) when pasted
into an issue or a wiki page. Wording comes from ``explain_phrases``, expressions are put into words
by ``explain_words`` and the diagram is drawn by ``explain_mermaid``.
"""

from policies.api import Ready
from policies.explain.mermaid import mermaid
from policies.explain.phrases import phrases_for
from policies.explain.words import Words, group_by_path
from policies.language.compiled import Escalation, Penalty, Step

_FULL_DAY = 24 * 60


def explain_policy(ready: Ready) -> str:
    """The whole explanation: heading, steps by path, penalties, then the diagram."""
    words = Words(ready.policy, ready.org, phrases_for(ready.policy.language))
    lines = [*_heading(words), *_steps(words), *_penalties(words), *_diagram(words)]
    return "\n".join(lines)


def _heading(words: Words) -> list[str]:
    policy, org, p = words.policy, words.org, words.p
    lines = [
        f"# {policy.name}",
        "",
        f"- {p.policy_id}: {policy.id}",
        f"- {p.version}: {policy.version}",
        f"- {p.org}: {org.name} ({org.id})",
        f"- {p.timezone}: {policy.calendar.timezone}",
        f"- {p.calendar}: {_calendar(words)}",
        f"- {p.owner}: {words.actor(policy.owner)}",
    ]
    # The defaults decide who acts when a complaint arrives without a hearer or handler (web forms).
    if policy.default_first_hearer is not None:
        lines.append(f"- {p.default_first_hearer}: {words.actor(policy.default_first_hearer)}")
    if policy.default_handler is not None:
        lines.append(f"- {p.default_handler}: {words.actor(policy.default_handler)}")
    return lines


def _calendar(words: Words) -> str:
    calendar, p = words.policy.calendar, words.p
    if calendar.country is None:
        holidays = p.no_holidays
    else:
        country = "-".join(c for c in (calendar.country, calendar.subdiv) if c)
        holidays = p.holidays.format(country=country)
    start, end = calendar.start_minute, calendar.end_minute
    if (start, end) == (0, _FULL_DAY):
        hours = p.all_day
    else:
        hours = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return p.list_and.join([holidays, p.working_hours.format(hours=hours)])


def _steps(words: Words) -> list[str]:
    groups = group_by_path(words.policy.steps)
    lines: list[str] = []
    number = 0
    for path, steps in groups:
        if path is not None:
            title = words.p.path.format(path=path)
        else:  # unnamed group: "other steps" beside paths, plain "steps" when there are none
            title = words.p.no_path if len(groups) > 1 else words.p.steps
        lines += ["", f"## {title}"]
        for step in steps:
            number += 1
            lines += ["", *_step(words, number, step)]
    return lines


def _step(words: Words, number: int, step: Step) -> list[str]:
    p = words.p
    kind = p.kind.get(step.kind, step.kind)
    lines = [
        f"### {number}. {step.title} [{kind}] `{step.id}`",
        "",
        f"- {p.who}: {words.actor(step.actor)}",
        *_targets(words, step),
        f"- {p.deadline}: {words.deadline(step)}",
    ]
    conditions = words.conditions(step)
    if conditions is not None:
        lines.append(f"- {p.when}: {conditions}")
    lines += _timing(words, step)
    lines += _escalations(words, step.escalations)
    lines += _step_penalty(words, words.policy.penalty(step.penalty))
    if step.rule:
        lines.append(f"- {p.rule}: {step.rule}")
    return lines


def _targets(words: Words, step: Step) -> list[str]:
    p = words.p
    if not step.targets:
        return [f"- {p.to_one}: {p.to_nobody}"]
    if len(step.targets) == 1:
        return [f"- {p.to_one}: {words.actor(step.targets[0])}"]
    # Any one of several: the words first (社長 または 担当役員), then who each of them is.
    nouns = p.list_or.join(words.noun(t) for t in step.targets)
    return [f"- {p.to_any}: {nouns}", *(f"  - {words.actor(t)}" for t in step.targets)]


def _timing(words: Words, step: Step) -> list[str]:
    """Reminders, repetition and closing events: what happens while the step is open."""
    p = words.p
    lines: list[str] = []
    if step.reminder is not None:
        every = p.remind.format(every=words.duration(step.reminder.every))
        limit = p.remind_max.format(max=step.reminder.max) if step.reminder.max else ""
        lines.append(f"- {every}{limit}")
    if step.repeat_until_resolved:
        lines.append(f"- {p.repeat}")
    if step.closes_on:
        events = p.list_and.join(words.event(a) for a in step.closes_on)
        lines.append(f"- {p.closes_on.format(events=events)}")
    return lines


def _escalations(words: Words, escalations: tuple[Escalation, ...]) -> list[str]:
    if not escalations:
        return []
    p = words.p
    lines = [f"- {p.escalation}:"]
    for level in escalations:
        after = words.duration(level.after)
        delay = p.escalate_now if level.after.amount == 0 else p.escalate_after.format(after=after)
        targets = words.all_of(level.targets)
        lines.append(f"  - {p.escalate_line.format(delay=delay, targets=targets)}")
    return lines


def _step_penalty(words: Words, penalty: Penalty | None) -> list[str]:
    if penalty is None:
        return []
    text = words.p.step_penalty.format(
        name=penalty.name,
        period=words.period(penalty.period),
        whom=words.all_of(penalty.applies_to, detail=False),
    )
    return [f"- {words.p.penalty}: {text}"]


def _penalties(words: Words) -> list[str]:
    policy, p = words.policy, words.p
    if not policy.penalties:
        return []
    lines = ["", f"## {p.penalties}", ""]
    for penalty in policy.penalties:
        users = [s.title for s in policy.steps if s.penalty == penalty.id]
        lines += [
            f"- {penalty.name} `{penalty.id}`",
            f"  - {p.penalty_period}: {words.period(penalty.period)}",
            f"  - {p.applies_to}: {words.all_of(penalty.applies_to, detail=False)}",
            f"  - {p.used_by}: {p.list_and.join(users) if users else '-'}",
        ]
        if penalty.description:
            lines.append(f"  - {penalty.description}")
    # Said explicitly because staff hide complaints when they fear being blamed for them.
    return [*lines, "", p.not_a_violation]


def _diagram(words: Words) -> list[str]:
    return ["", f"## {words.p.diagram}", "", "```mermaid", *mermaid(words), "```"]
