"""Rendering the web app's pages: sandboxed, autoescaping Jinja, texts in ja, zh and en."""

from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from app.web.intake.texts import FORM_TEXTS

_ENV = SandboxedEnvironment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "record": "Record this step",
        "complaint": "Complaint",
        "step": "Step",
        "due": "Due",
        "who": "Owed by",
        "to": "Reported to",
        "not_a_recipient": "Nothing was recorded: choose whom you reported to from the list ({names}).",
        "note": "Note (optional)",
        "submit": "Record it",
        "done": "Recorded. Thank you.",
        "rejected": "This link cannot be used",
        "is not valid": "This link is not valid.",
        "was already used": "This link was already used: each link works once.",
        "has expired": "This link has expired. Ask for a new one.",
        "mail": "Captured mail (development SMTP sink)",
        "empty": "No mail yet.",
    },
    "ja": {
        "record": "このステップを記録する",
        "complaint": "クレーム",
        "step": "ステップ",
        "due": "期限",
        "who": "担当",
        "to": "報告先",
        "not_a_recipient": "記録されていません。報告先は一覧({names})から選んでください。",
        "note": "メモ(任意)",
        "submit": "記録する",
        "done": "記録しました。ありがとうございました。",
        "rejected": "このリンクは使えません",
        "is not valid": "このリンクは無効です。",
        "was already used": "このリンクは使用済みです(各リンクは一度だけ使えます)。",
        "has expired": "このリンクは期限切れです。新しいリンクを依頼してください。",
        "mail": "受信メール(開発用SMTPシンク)",
        "empty": "まだメールはありません。",
    },
    "zh": {
        "record": "记录此步骤",
        "complaint": "投诉",
        "step": "步骤",
        "due": "期限",
        "who": "责任人",
        "to": "报告对象",
        "not_a_recipient": "未记录：请从列表({names})中选择报告对象。",
        "note": "备注(可选)",
        "submit": "记录",
        "done": "已记录。谢谢。",
        "rejected": "此链接无法使用",
        "is not valid": "此链接无效。",
        "was already used": "此链接已使用过(每个链接只能使用一次)。",
        "has expired": "此链接已过期，请申请新的链接。",
        "mail": "已捕获的邮件(开发用SMTP接收器)",
        "empty": "暂无邮件。",
    },
}

for _language, _texts in FORM_TEXTS.items():
    TEXTS[_language].update(_texts)


def render(name: str, language: str, **context: Any) -> str:
    texts = TEXTS.get(language, TEXTS["en"])
    return _ENV.get_template(name).render(t=texts, lang=language, **context)
