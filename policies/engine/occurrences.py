"""When each step of a policy is owed, by whom, and how each occurrence ended.

An occurrence starts at its anchor (or later, once the step's ``when:`` condition first holds), is due
``within`` after its start, and ends when done by one of its owners (to one of its targets), when a
closing event or reclassification cancels it, or never. Ownership that depends on the handler moves
with each explicit reassignment before the due time (R16).
"""

from dataclasses import dataclass, field
from datetime import datetime

from models.events import StepDone
from policies.engine.facts import ComplaintFacts
from policies.engine.resolution import Party, Resolver
from policies.language.compiled import CompiledPolicy, Step
from policies.language.expressions import Anchor, AnchorKind

MAX_REPEATS = 10_000  # a safety bound: a repeating step's chain always advances in time


@dataclass(frozen=True)
class Segment:
    party: Party
    start: datetime
    end: datetime | None  # handed over at this time; None for the final owner


@dataclass
class Occurrence:
    step: Step
    number: int
    anchor: datetime
    start: datetime
    due: datetime
    targets: tuple[str, ...]
    segments: list[Segment]
    cancelled_at: datetime | None = None
    done: StepDone | None = None
    consumed: set[int] = field(default_factory=set)

    @property
    def was_cancelled(self) -> bool:
        """Ended by cancellation rather than by being done."""
        if self.cancelled_at is None:
            return False
        return self.done is None or self.cancelled_at < self.done.at

    @property
    def owner_at_due(self) -> int:
        """Index of the segment that owned the occurrence when it fell due: a violation is theirs.

        A handover at the very instant of the due time leaves the miss with the person handing over:
        the new owner never had a moment to act."""
        return max(i for i, s in enumerate(self.segments) if s.start < self.due or i == 0)

    @property
    def missed(self) -> bool:
        """Still open at its due time: the definition of a violation."""
        if self.done is not None and self.done.at <= self.due:
            return False
        return not (self.cancelled_at is not None and self.cancelled_at <= self.due)


@dataclass
class StepPlanner:
    policy: CompiledPolicy
    facts: ComplaintFacts
    resolver: Resolver
    now: datetime
    done_times: dict[str, list[datetime]] = field(default_factory=dict)
    used_done: set[int] = field(default_factory=set)
    # Starts that lie ahead of ``now`` (a complaint heard a little after the server received it):
    # no event will arrive to wake the engine for them, so the caller must.
    wakes: list[datetime] = field(default_factory=list)

    def plan(self) -> list[Occurrence]:
        result: list[Occurrence] = []
        for step in self.policy.steps:
            occurrences = self._step(step)
            self.done_times[step.id] = [o.done.at for o in occurrences if o.done is not None]
            result.extend(occurrences)
        return result

    def _step(self, step: Step) -> list[Occurrence]:
        found: list[Occurrence] = []
        for anchor in self._instants(step.anchor, ahead=True):
            at = anchor
            for _ in range(MAX_REPEATS):
                occurrence = self._open(step, len(found) + 1, at)
                if occurrence is None:
                    break
                found.append(occurrence)
                following = occurrence.done.at if occurrence.done else occurrence.due
                if not step.repeat_until_resolved or following > self.now:
                    break
                if occurrence.cancelled_at is not None and occurrence.cancelled_at <= following:
                    break  # resolved (or otherwise closed) before the next period would start
                at = following
        return found

    def _instants(self, anchor: Anchor, *, ahead: bool = False) -> list[datetime]:
        """When ``anchor`` happened, up to ``now``; with ``ahead``, also the times still to come."""
        facts = self.facts
        times = {
            AnchorKind.HEARD: [facts.heard_at],
            AnchorKind.OCCURRED: [facts.occurred_at],
            AnchorKind.RECEIVED: [facts.received_at],
            AnchorKind.RESOLVED: list(facts.resolved),
            AnchorKind.REOPENED: list(facts.reopened),
        }.get(anchor.kind)
        if times is None:
            times = self.done_times.get(anchor.step or "", [])
        return [t for t in times if ahead or t <= self.now]

    def _open(self, step: Step, number: int, anchor: datetime) -> Occurrence | None:
        start = self._condition_start(step, anchor)
        if start is None:
            return None
        due = self.policy.calendar.add(start, step.within)
        cancelled_at = self._cancel_time(step, start)
        occurrence = Occurrence(
            step=step,
            number=number,
            anchor=anchor,
            start=start,
            due=due,
            targets=self.resolver.people(step.targets, start),
            segments=_until(self._segments(step, start), cancelled_at),
            cancelled_at=cancelled_at,
        )
        self._match_done(occurrence)
        return occurrence

    def _holds(self, step: Step, when: datetime) -> bool:
        attributes = self.facts.attributes_at(when)
        defaults = dict(self.policy.attribute_defaults)
        return all((attributes.get(name) or defaults.get(name)) in values for name, values in step.when)

    def _condition_start(self, step: Step, anchor: datetime) -> datetime | None:
        for moment in [anchor, *self.facts.change_points(anchor)]:
            if not self._holds(step, moment):
                continue
            if moment > self.now:
                self.wakes.append(moment)
                return None
            return moment
        return None

    def _cancel_time(self, step: Step, start: datetime) -> datetime | None:
        closers = list(step.closes_on)
        if step.repeat_until_resolved:
            closers.append(Anchor(AnchorKind.RESOLVED))
        times = [t for closer in closers for t in self._instants(closer) if t > start]
        if step.when:
            times += [t for t in self.facts.change_points(start) if not self._holds(step, t)]
        return min(times, default=None)

    def _segments(self, step: Step, start: datetime) -> list[Segment]:
        segments = [Segment(self.resolver.party(step.actor, start), start, None)]
        if not step.actor.depends_on_handler:
            return segments
        # Handovers after the due time move the step too: the new owner can still do it (late),
        # while the violation stays with whoever owned it at the due time.
        for moment in self.facts.handovers(start, self.now):
            party = self.resolver.party(step.actor, moment)
            if moment <= self.now and party != segments[-1].party:
                segments[-1] = Segment(segments[-1].party, segments[-1].start, moment)
                segments.append(Segment(party, moment, None))
        return segments

    def _match_done(self, occurrence: Occurrence) -> None:
        for index, event in enumerate(self.facts.done):
            if index in self.used_done or event.step != occurrence.step.id:
                continue
            if event.at < self._earliest_done(occurrence) or event.at > self.now:
                continue
            if occurrence.cancelled_at is not None and event.at > occurrence.cancelled_at:
                continue
            if occurrence.step.repeat_until_resolved and event.at > occurrence.due:
                continue  # a late update belongs to the period running when it was made
            if not self._valid_done(occurrence, event):
                continue
            self.used_done.add(index)
            occurrence.done = event
            occurrence.segments = _until(occurrence.segments, event.at)
            return

    def _earliest_done(self, occurrence: Occurrence) -> datetime:
        """A step done once the complaint is in the system counts even when its anchor lies later:
        the clock of whoever typed the heard or occurred time may run a few minutes ahead."""
        single = occurrence.step.anchor.kind in {AnchorKind.HEARD, AnchorKind.OCCURRED, AnchorKind.RECEIVED}
        if single and occurrence.number == 1:
            return min(occurrence.anchor, self.facts.received_at)
        return occurrence.anchor

    def _valid_done(self, occurrence: Occurrence, event: StepDone) -> bool:
        owner = next(
            (s for s in reversed(occurrence.segments) if s.start <= event.at),
            occurrence.segments[0],
        )
        if event.by not in owner.party.people:
            return False
        if not occurrence.targets:
            return True
        if event.to is None:
            return len(occurrence.targets) == 1
        return event.to in occurrence.targets


def _until(segments: list[Segment], moment: datetime | None) -> list[Segment]:
    """The segments that began by ``moment``; the last of them keeps the obligation to the end."""
    if moment is None:
        return segments
    kept = [s for s in segments if s.start <= moment] or segments[:1]
    return [*kept[:-1], Segment(kept[-1].party, kept[-1].start, None)]
