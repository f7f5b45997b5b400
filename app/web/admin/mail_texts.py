# ruff: noqa: E501 - one sentence per line reads better than wrapped string pieces
"""Texts of the administrators' failed-mail page and its navigation link, per language."""

MAIL_FAILURE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "nav_mail_failures": "Failed mail",
        "mail_failures_title": "Mail that failed",
        "mail_failures_intro": "Emails the server refused for good, and emails still being retried after failing. Addresses and texts are not shown here.",
        "mail_failures_none": "No email has failed.",
        "mf_complaint": "Complaint",
        "mf_kind": "Kind",
        "mf_step": "Step",
        "mf_recipient": "Recipient",
        "mf_complainant": "complainant",
        "mf_status": "Status",
        "mf_failed": "given up",
        "mf_retrying": "retrying",
        "mf_attempts": "Attempts",
        "mf_error": "Last error",
        "mf_time": "Queued",
    },
    "ja": {
        "nav_mail_failures": "送信失敗メール",
        "mail_failures_title": "送信に失敗したメール",
        "mail_failures_intro": "送信先サーバーに拒否されたメールと、失敗後に再送を続けているメールです。アドレスと本文は表示しません。",
        "mail_failures_none": "送信に失敗したメールはありません。",
        "mf_complaint": "クレーム",
        "mf_kind": "種類",
        "mf_step": "ステップ",
        "mf_recipient": "宛先",
        "mf_complainant": "申出人",
        "mf_status": "状態",
        "mf_failed": "送信中止",
        "mf_retrying": "再送中",
        "mf_attempts": "試行回数",
        "mf_error": "最後のエラー",
        "mf_time": "作成日時",
    },
    "zh": {
        "nav_mail_failures": "发送失败的邮件",
        "mail_failures_title": "发送失败的邮件",
        "mail_failures_intro": "被服务器永久拒绝的邮件，以及失败后仍在重试的邮件。此处不显示地址和正文。",
        "mail_failures_none": "没有发送失败的邮件。",
        "mf_complaint": "投诉",
        "mf_kind": "类型",
        "mf_step": "步骤",
        "mf_recipient": "收件人",
        "mf_complainant": "投诉人",
        "mf_status": "状态",
        "mf_failed": "已放弃",
        "mf_retrying": "重试中",
        "mf_attempts": "尝试次数",
        "mf_error": "最后的错误",
        "mf_time": "创建时间",
    },
}


def mail_failure_texts(language: str) -> dict[str, str]:
    return MAIL_FAILURE_TEXTS.get(language, MAIL_FAILURE_TEXTS["en"])
