"""The variables every email template receives (documented for policy authors in docs/templates.md).

The runtime builds one ``TemplateContext`` per email; ``TemplateStore.render`` refuses a context that
lacks any of its keys, so a template written against the documentation never meets an undefined
variable. Values that do not apply are ``None`` (never absent). Times are strings already formatted in
the policy's time zone: templates cannot read a clock or convert zones.
"""

from typing import TypedDict

# The complaint body is untrusted and may be long: templates get only its beginning.
SUMMARY_CHARS = 500


class PersonView(TypedDict):
    """A recipient, the actor owing a step, or whoever missed it. ``name`` may be None for an
    anonymous complainant (receipts)."""

    id: str
    name: str | None


class PolicyView(TypedDict):
    id: str
    name: str


class OrgView(TypedDict):
    name: str


class ComplaintView(TypedDict):
    """What the complaint is. ``subject`` and ``summary`` are the complainant's own words: untrusted."""

    id: str
    channel: str
    category: str | None
    category_name: str | None
    severity: str | None
    received_at: str
    heard_by_name: str | None
    subject: str | None
    summary: str


class StepView(TypedDict):
    id: str
    title: str
    kind: str
    rule: str


class PenaltyView(TypedDict):
    name: str
    description: str
    period: str


class TemplateContext(TypedDict):
    """Everything a template sees; see docs/templates.md for when each value is set."""

    recipient: PersonView
    kind: str  # request, reminder, escalation or receipt
    policy: PolicyView
    org: OrgView
    complaint: ComplaintView
    step: StepView | None
    due_at: str | None
    actor: PersonView | None
    missed_by: PersonView | None
    penalty: PenaltyView | None
    action_url: str | None
    status_url: str | None
    reminder_number: int | None


CONTEXT_KEYS: frozenset[str] = frozenset(TemplateContext.__annotations__)


def summarize(body: str) -> str:
    """The complaint body as templates see it: its first ``SUMMARY_CHARS`` characters."""
    return body[:SUMMARY_CHARS]
