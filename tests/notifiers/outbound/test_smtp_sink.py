"""send() against a real aiosmtpd sink on loopback: round trips, outages and refusals."""

import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifiers.errors import BadSettings, SendFailed, SinkFailed
from notifiers.outbound.message import build_message
from notifiers.outbound.sink import MailSink, read_store
from notifiers.outbound.smtp import SmtpSettings, send
from notifiers.outbound.templates import RenderedEmail


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    mail_sink = MailSink(store=tmp_path / "mail")
    mail_sink.start()
    yield mail_sink
    mail_sink.stop()


def _message(subject: str, body: str = "本文 body\n") -> RenderedEmail:
    return RenderedEmail(subject=subject, text=body, html=f"<p>{body}</p>")


def _settings(port: int) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_japanese_and_chinese_mail_survives_the_round_trip(sink: MailSink, tmp_path: Path) -> None:
    japanese = "【要対応】上司へ事実を報告・連絡（期限 2026-03-09 10:30 JST） [2026-000123]"
    chinese = (
        "【第2次提醒】线上平台或邮件投诉1小时内响应并启动处理（截止 2026-03-09 11:00 CST） [2026-000124]"
    )
    first = build_message(
        sender="京橋クリニック <desk@clinic.example>",
        to_name="田中 一郎",
        to_address="tanaka@clinic.example",
        rendered=_message(japanese, body="事実だけを上司に報告してください。\n"),
        message_id="<n1@complaintflow.example>",
    )
    second = build_message(
        sender="desk@hospital.example",
        to_name="王敏",
        to_address="wangmin@hospital.example",
        rendered=_message(chinese, body="请回复投诉人。\n"),
        message_id="<n2@complaintflow.example>",
    )
    await send(_settings(sink.port), first)
    await send(_settings(sink.port), second)

    mails = sink.messages()
    assert [m.message["Subject"] for m in mails] == [japanese, chinese]
    assert [m.envelope_to for m in mails] == [["tanaka@clinic.example"], ["wangmin@hospital.example"]]
    assert [m.envelope_from for m in mails] == ["desk@clinic.example", "desk@hospital.example"]
    assert mails[0].message["To"].addresses[0].display_name == "田中 一郎"
    assert mails[0].message["From"].addresses[0].display_name == "京橋クリニック"
    body = mails[1].message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "请回复投诉人。" in body.get_content()
    assert mails[0].received_at <= mails[1].received_at
    assert [m.path.name for m in mails] == ["000001.eml", "000002.eml"]
    # Another process sees the same thing by reading the folder.
    assert [m.message["Message-ID"] for m in read_store(tmp_path / "mail")] == [
        "<n1@complaintflow.example>",
        "<n2@complaintflow.example>",
    ]


@pytest.mark.asyncio
async def test_sending_to_a_port_nobody_listens_on_fails_cleanly() -> None:
    port = _closed_port()
    secret_body = "confidential complaint body\n"
    message = build_message(
        sender="desk@clinic.example",
        to_name="",
        to_address="tanaka@clinic.example",
        rendered=_message("subject", body=secret_body),
        message_id="<n1@complaintflow.example>",
    )
    with pytest.raises(SendFailed) as failure:
        await send(_settings(port), message)
    assert f"127.0.0.1:{port}" in str(failure.value)
    assert "confidential" not in str(failure.value)
    assert (failure.value.host, failure.value.port, failure.value.permanent) == ("127.0.0.1", port, False)


@pytest.mark.asyncio
async def test_the_sink_can_go_down_and_come_back_on_the_same_port(sink: MailSink) -> None:
    port = sink.port
    settings = _settings(port)
    await send(settings, _mail("before the outage", 1))

    sink.stop()
    sink.stop()  # stopping twice is harmless
    with pytest.raises(SendFailed):
        await send(settings, _mail("during the outage", 2))
    assert len(sink.messages()) == 1  # readable while stopped

    for attempt in range(3):  # repeatedly, on the same port
        sink.start()
        assert sink.port == port
        assert sink.running
        await send(settings, _mail(f"after the outage {attempt}", 3 + attempt))
        sink.stop()

    subjects = [m.message["Subject"] for m in sink.messages()]
    assert subjects == ["before the outage", "after the outage 0", "after the outage 1", "after the outage 2"]
    assert [m.path.name for m in sink.messages()] == [f"00000{i}.eml" for i in range(1, 5)]


def _mail(subject: str, n: int) -> EmailMessage:
    return build_message(
        sender="desk@clinic.example",
        to_name="田中 一郎",
        to_address="tanaka@clinic.example",
        rendered=_message(subject),
        message_id=f"<n{n}@complaintflow.example>",
    )


def test_a_second_sink_on_a_taken_port_fails(sink: MailSink, tmp_path: Path) -> None:
    with pytest.raises(SinkFailed, match=str(sink.port)):
        MailSink(store=tmp_path / "other", port=sink.port).start()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_the_sink_only_listens_on_loopback(tmp_path: Path, host: str) -> None:
    with pytest.raises(SinkFailed, match="loopback"):
        MailSink(store=tmp_path, host=host)


def test_read_store_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert read_store(tmp_path / "nothing-yet") == []


def test_clear_empties_the_store(sink: MailSink) -> None:
    (sink.store / "000001.eml").write_bytes(
        b'X-Complaintflow-Sink: {"from": "", "to": [], "received_at": "x"}\r\n'
    )
    sink.clear()
    assert sink.messages() == []


class _Refuser:
    """An SMTP server that refuses every recipient permanently, like a mailbox that does not exist."""

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 no such user"


@pytest.mark.asyncio
async def test_a_refused_recipient_is_a_permanent_failure() -> None:
    controller = Controller(_Refuser(), hostname="127.0.0.1", port=_closed_port(), server_hostname="refuser")
    controller.start()
    try:
        with pytest.raises(SendFailed) as failure:
            await send(_settings(controller.port), _mail("s", 1))
    finally:
        controller.stop()
    assert failure.value.permanent
    assert failure.value.code == 550
    assert "no such user" in str(failure.value)


def test_smtp_settings_are_validated_and_keep_the_password_out_of_repr() -> None:
    settings = SmtpSettings(username="mailer", password="hunter2", starttls=True)
    assert "hunter2" not in repr(settings)
    with pytest.raises(BadSettings):
        SmtpSettings(starttls=True, use_tls=True)
    with pytest.raises(BadSettings):
        SmtpSettings(port=0)
    with pytest.raises(BadSettings):
        SmtpSettings(username="mailer")
    with pytest.raises(ValueError, match="timeout"):
        SmtpSettings(timeout=0)
