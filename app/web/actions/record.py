"""What an action link shows and records: the step it is for, whom it may be reported to."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from flows.records.events import append_event, load_events
from flows.runtime.assembly import Runtime
from flows.runtime.links import LinkRejected
from models.decisions import ObligationStatus
from models.events import ComplaintReceived, StepDone
from models.org import Org
from models.tables import ActionTokenRow, ComplaintRow
from policies.engine.decide import decide

OWED = {ObligationStatus.OPEN, ObligationStatus.OVERDUE}


@dataclass(frozen=True)
class ActionView:
    complaint: str
    subject: str | None
    step_title: str
    due: str | None
    person: str
    person_name: str
    language: str
    targets: tuple[tuple[str, str], ...]


def describe(runtime: Runtime, session: Session, token: ActionTokenRow, now: datetime) -> ActionView:
    complaint = session.get(ComplaintRow, token.complaint_id)
    if complaint is None:
        raise LinkRejected("is not valid")
    pinned = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash)
    events, _ = load_events(session, token.complaint_id)
    decisions = decide(pinned.policy, pinned.org, events, now)
    owed = [
        o
        for o in decisions.obligations
        if o.step == token.step and token.person in o.actors and o.status in OWED
    ]
    step = pinned.policy.step(token.step)
    person = pinned.org.person(token.person)
    received = next(e for e in events if isinstance(e, ComplaintReceived))
    zone = pinned.policy.calendar.zone
    targets = owed[0].targets if owed else ()
    return ActionView(
        complaint=token.complaint_id,
        subject=received.subject,
        step_title=step.title if step else token.step,
        due=f"{owed[0].due_at.astimezone(zone):%Y-%m-%d %H:%M %Z}" if owed else None,
        person=token.person,
        person_name=person.name if person else token.person,
        language=person.language if person else pinned.policy.language,
        targets=tuple((t, _display_name(pinned.org, t)) for t in targets),
    )


class NotARecipient(ValueError):
    """The form named a recipient the step may not be reported to; ``view`` lists those it may."""

    def __init__(self, view: ActionView) -> None:
        super().__init__("choose one of the listed recipients")
        self.view = view


def _display_name(org: Org, person_id: str) -> str:
    person = org.person(person_id)
    return person.name if person else person_id


def record(runtime: Runtime, token: str, to: str | None, note: str | None) -> ActionView:
    """Redeem the link and record the step as done by its person, in one transaction."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        row = runtime.links.redeem(session, token, now)
        view = describe(runtime, session, row, now)
        allowed = {t for t, _ in view.targets}
        if allowed and to not in allowed:
            raise NotARecipient(view)  # before anything is written: the link stays usable
        event = StepDone(
            complaint=row.complaint_id, at=now, step=row.step, by=row.person, to=to or None, note=note or None
        )
        append_event(session, event, now)
    return view
