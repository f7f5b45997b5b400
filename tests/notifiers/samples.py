"""Template contexts for tests: complete ones full of hostile text, and sparse ones full of None."""

from notifiers.outbound.context import PenaltyView, PersonView, StepView, TemplateContext

# User-controlled text that must come out escaped in HTML, raw in text and on one line in a subject.
HOSTILE_SUBJECT = '<script>alert("x")</script> & 待ち時間\r\nBcc: victim@evil.example'
HOSTILE_BODY = 'She said "<b>never again</b>" & left.\n二行目\n第三行'
RECIPIENT: PersonView = {"id": "sato", "name": '佐藤 "Boss" <花子>'}
ACTOR: PersonView = {"id": "tanaka", "name": "田中 一郎"}
STEP: StepView = {"id": "report_up", "title": "上司へ報告", "kind": "report", "rule": "「ただちに」"}
PENALTY: PenaltyView = {"name": "賞与半額カット", "description": "報告を怠った場合。", "period": "1年"}
ACTION_URL = "https://cf.example/a/TOKEN?step=1&who=2"
STATUS_URL = "https://cf.example/c/2026-000123"
DUE_AT = "2026-03-09 10:30 JST"


def context(kind: str) -> TemplateContext:
    """A complete context for ``kind`` (request, reminder, escalation, receipt), every value set."""
    receipt = kind == "receipt"
    return {
        "recipient": RECIPIENT,
        "kind": kind,
        "policy": {"id": "keieikai-clinic", "name": "クレーム対応方針"},
        "org": {"name": "Kyobashi Clinic & Co"},
        "complaint": {
            "id": "2026-000123",
            "channel": "phone",
            "category": "attitude",
            "category_name": "職員の態度",
            "severity": "urgent",
            "received_at": "2026-03-09 10:00 JST",
            "heard_by_name": "田中 一郎",
            "subject": HOSTILE_SUBJECT,
            "summary": HOSTILE_BODY,
        },
        "step": None if receipt else STEP,
        "due_at": None if receipt else DUE_AT,
        "actor": None if receipt else ACTOR,
        "missed_by": ACTOR if kind == "escalation" else None,
        "penalty": None if receipt else PENALTY,
        "action_url": None if receipt else ACTION_URL,
        "status_url": STATUS_URL,
        "reminder_number": 3 if kind == "reminder" else None,
    }


def sparse_context(kind: str) -> TemplateContext:
    """The same kind with every optional value None (anonymous, unclassified, no links, no penalty)."""
    full = context(kind)
    return {
        **full,
        "recipient": {"id": "complainant", "name": None} if kind == "receipt" else full["recipient"],
        "complaint": {
            **full["complaint"],
            "category": None,
            "category_name": None,
            "severity": None,
            "heard_by_name": None,
            "subject": None,
            "summary": "",
        },
        "penalty": None,
        "action_url": None,
        "status_url": None,
    }
