"""Email intake against a real IMAP server (dovecot on loopback), on SQLite and PostgreSQL.

Messages are put into a fresh folder with IMAP APPEND, as a mail server would deliver them; the
poller reads them as in production. Time is the runtime's fake clock; INTERNALDATE follows it.
"""

import asyncio
import base64
import dataclasses
import quopri
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from flows.clock import FakeClock
from flows.intake import imap_poll
from flows.intake import store as intake
from flows.intake.store import NewComplaint, accept_complaint
from flows.records import events as event_log
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime, install
from flows.runtime.outbox import drain
from models.complaint import Channel
from models.events import ComplaintReceived, StepDone
from models.tables import AttachmentRow, ComplaintRow, InboundMailRow, ObligationRow
from notifiers.inbound.imap import ImapSession
from notifiers.outbound.sink import MailSink
from tests.imap_support import ImapServer

COMPLAINANT = "patient@example.jp"


def _raw(
    subject: str,
    body: str,
    *,
    charset: str,
    codec: str,
    cte: str = "base64",
    sender: str = COMPLAINANT,
    headers: str = "",
    content_type: str = "text/plain",
) -> bytes:
    """A message as a mail client in that charset writes it: encoded-word subject, encoded body."""
    encoded = body.encode(codec)
    payload = {
        "base64": base64.encodebytes(encoded),
        "quoted-printable": quopri.encodestring(encoded),
        "7bit": encoded + b"\n",
        "8bit": encoded + b"\n",
    }[cte]
    subject_word = f"=?{charset}?B?{base64.b64encode(subject.encode(codec)).decode()}?="
    head = (
        f"From: {sender}\nTo: complaints@keieikai.example\nSubject: {subject_word}\n"
        f"Date: Wed, 1 Apr 2026 10:00:00 +0900\nMIME-Version: 1.0\n{headers}"
        f"Content-Type: {content_type}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    )
    return (head.encode("ascii") + payload).replace(b"\n", b"\r\n")


CHARSET_MESSAGES = [
    (
        "ISO-2022-JP",
        "iso2022_jp",
        "7bit",
        "待ち時間について",
        "受付で二時間待たされました。\n説明もありませんでした。",
    ),
    ("Shift_JIS", "cp932", "base64", "駐車場の件①", "駐車場が狭く、車をぶつけられました。"),
    # "镕" is GBK, not GB2312: mailers label GBK text GB2312, and it must still decode.
    ("GB2312", "gbk", "base64", "关于护士态度的投诉", "护士态度很差，没有解释。朱镕"),
    ("GB18030", "gb18030", "8bit", "收费问题", "收费单上多收了费用。𠀀"),
    ("Big5", "cp950", "quoted-printable", "掛號等候時間過長", "在掛號處等了三個小時。"),
    (
        "UTF-8",
        "utf-8",
        "quoted-printable",
        "Complaint: 待合室 é",
        "The waiting room was cold.\n寒かったです。",
    ),
]


@pytest.fixture
def mail_runtime(runtime: Runtime, imap_server: ImapServer, imap_folder: str) -> Runtime:
    return install(dataclasses.replace(runtime, imap=imap_server.settings(imap_folder)))


def _deliver(server: ImapServer, folder: str, clock: FakeClock, *messages: bytes) -> None:
    for raw in messages:
        server.append(folder, raw, arrived=clock.now())


def _received(runtime: Runtime) -> list[ComplaintReceived]:
    with runtime.sessions() as session:
        ids = session.scalars(select(ComplaintRow.id).order_by(ComplaintRow.seq)).all()
        return [e for cid in ids for e in load_events(session, cid)[0] if isinstance(e, ComplaintReceived)]


def _count(runtime: Runtime, table: type[ComplaintRow | InboundMailRow]) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_message_in_each_charset_lands_as_a_complaint_with_its_text(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    _deliver(
        imap_server,
        imap_folder,
        clock,
        *(_raw(s, b, charset=c, codec=k, cte=t) for c, k, t, s, b in CHARSET_MESSAGES),
    )
    assert imap_poll.poll_once(mail_runtime) == {"complaint": len(CHARSET_MESSAGES)}
    stored = _received(mail_runtime)
    assert [(e.subject, e.body) for e in stored] == [(s, b) for _, _, _, s, b in CHARSET_MESSAGES]
    assert {(e.channel, e.complainant.email) for e in stored} == {(Channel.EMAIL, COMPLAINANT)}
    assert [e.complainant.language for e in stored] == ["ja", "ja", "zh", "zh", "zh", "ja"]
    assert imap_server.unseen(imap_folder) == []
    assert imap_poll.poll_once(mail_runtime) == {}  # nothing new: nothing fetched, nothing stored


def test_html_only_mail_is_converted_safely_and_attachments_are_listed(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    html = (
        "<p>受付の<b>対応</b>が悪い</p><script>alert('x')</script><style>p{}</style><p>二行目<br>三行目</p>"
    )
    attachment = base64.encodebytes(b"%PDF-1.4 " * 300).decode()
    with_attachment = (
        "From: patient@example.jp\nSubject: photo\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
        "Content-Type: text/plain; charset=utf-8\n\nsee attached\n--b1\n"
        'Content-Type: application/pdf; name="=?utf-8?b?6Ki65pat5pu4LnBkZg==?="\n'
        "Content-Disposition: attachment; filename*=utf-8''%E8%A8%BA%E6%96%AD%E6%9B%B8.pdf\n"
        f"Content-Transfer-Encoding: base64\n\n{attachment}--b1--\n"
    ).encode()
    _deliver(
        imap_server,
        imap_folder,
        clock,
        _raw("HTMLのみ", html, charset="utf-8", codec="utf-8", content_type="text/html"),
        with_attachment.replace(b"\n", b"\r\n"),
    )
    assert imap_poll.poll_once(mail_runtime) == {"complaint": 2}
    html_only, attached = _received(mail_runtime)
    assert html_only.body == "受付の対応が悪い\n\n二行目\n三行目"
    assert attached.body == "see attached\n\n[添付ファイル]\n- 診断書.pdf (application/pdf, 2.6 KB)"
    with mail_runtime.sessions() as session:
        [stored] = session.scalars(select(AttachmentRow)).all()
    assert (stored.complaint_id, stored.filename, stored.content) == (
        attached.complaint,
        "診断書.pdf",
        b"%PDF-1.4 " * 300,
    )


def test_auto_replies_and_bounces_are_not_complaints(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    def plain(headers: str, sender: str = COMPLAINANT) -> bytes:
        return _raw("不在", "不在です", charset="utf-8", codec="utf-8", sender=sender, headers=headers)

    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\nSubject: Undelivered\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\n\n--r\n'
        b"Content-Type: text/plain\n\nDelivery failed.\n--r\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; x@example.jp\nAction: failed\n"
        b"Status: 5.1.1\n\n--r--\n"
    )
    _deliver(
        imap_server,
        imap_folder,
        clock,
        plain("Auto-Submitted: auto-replied\n"),
        plain("X-Autoreply: yes\n"),
        plain("Precedence: bulk\n"),
        plain("Return-Path: <>\n"),
        plain("", sender="postmaster@example.jp"),
        bounce.replace(b"\n", b"\r\n"),
        plain("Auto-Submitted: no\n"),  # a person's mail that says so explicitly
    )
    assert imap_poll.poll_once(mail_runtime) == {"automated": 6, "complaint": 1}
    assert _count(mail_runtime, ComplaintRow) == 1
    assert imap_server.unseen(imap_folder) == []


class Crash(BaseException):
    """Stands for the process dying: nothing catches it, as nothing survives a SIGKILL."""


def test_a_crash_after_commit_before_seen_does_not_duplicate(
    mail_runtime: Runtime,
    imap_server: ImapServer,
    imap_folder: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = (_raw(f"件名{n}", "本文", charset="utf-8", codec="utf-8") for n in (1, 2))
    _deliver(imap_server, imap_folder, clock, first, second)

    def crash(self: ImapSession, uid: int) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(ImapSession, "mark_seen", crash)
        with pytest.raises(Crash):
            imap_poll.poll_once(mail_runtime)
    assert _count(mail_runtime, ComplaintRow) == 1  # committed, then the crash
    assert len(imap_server.unseen(imap_folder)) == 2  # and never marked read
    assert imap_poll.poll_once(mail_runtime) == {"already_recorded": 1, "complaint": 1}
    assert [e.subject for e in _received(mail_runtime)] == ["件名1", "件名2"]
    assert imap_server.unseen(imap_folder) == []


def test_a_crash_before_commit_leaves_the_message_for_the_next_poll(
    mail_runtime: Runtime,
    imap_server: ImapServer,
    imap_folder: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _deliver(imap_server, imap_folder, clock, _raw("件名", "本文", charset="utf-8", codec="utf-8"))
    real_append = event_log.append_event

    def append_then_crash(*args: object, **kwargs: object) -> object:
        real_append(*args, **kwargs)  # type: ignore[arg-type]
        raise Crash  # complaint, event and inbound_mail row are written, not committed

    with monkeypatch.context() as patch:
        patch.setattr(intake, "append_event", append_then_crash)
        with pytest.raises(Crash):
            imap_poll.poll_once(mail_runtime)
    assert (_count(mail_runtime, ComplaintRow), _count(mail_runtime, InboundMailRow)) == (0, 0)
    assert len(imap_server.unseen(imap_folder)) == 1
    assert imap_poll.poll_once(mail_runtime) == {"complaint": 1}
    assert imap_poll.poll_once(mail_runtime) == {}
    assert _count(mail_runtime, ComplaintRow) == 1


def test_the_same_message_in_two_folders_is_one_complaint(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    other = imap_folder + "-苦情"  # non-ASCII folder names travel in modified UTF-7
    imap_server.create(other)
    raw = _raw("同じ", "本文", charset="utf-8", codec="utf-8", headers="Message-ID: <same@example.jp>\n")
    _deliver(imap_server, imap_folder, clock, raw)
    _deliver(imap_server, other, clock, raw)
    assert mail_runtime.imap is not None
    both = dataclasses.replace(mail_runtime.imap, mailboxes=(imap_folder, other))
    assert imap_poll.poll_once(dataclasses.replace(mail_runtime, imap=both)) == {
        "complaint": 1,
        "duplicate": 1,
    }
    assert imap_server.unseen(imap_folder) == imap_server.unseen(other) == []


def test_a_new_message_someone_already_opened_is_still_taken(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    _deliver(imap_server, imap_folder, clock, _raw("一通目", "本文", charset="utf-8", codec="utf-8"))
    assert imap_poll.poll_once(mail_runtime) == {"complaint": 1}
    second = _raw("二通目", "本文", charset="utf-8", codec="utf-8")
    imap_server.append(imap_folder, second, arrived=clock.now(), seen=True)  # read in a mail client
    assert imap_poll.poll_once(mail_runtime) == {"complaint": 1}
    assert [e.subject for e in _received(mail_runtime)] == ["一通目", "二通目"]


def _request_to(runtime: Runtime, sink: MailSink, address: str) -> tuple[str, str]:
    """Submit a phone complaint heard by 田中, send its first emails; his request's (Message-ID, subject)."""
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka", category="attitude", subject="受付の対応")
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    process_complaint(runtime, complaint_id)
    asyncio.run(drain(runtime))
    for mail in sink.messages():
        headers = mail.message
        if address in mail.envelope_to and headers["X-Complaintflow-Step"] == "report_to_supervisor":
            assert headers["X-Complaintflow-Kind"] == "request"
            return str(headers["Message-ID"]), str(headers["Subject"])
    raise AssertionError("no request email was sent")


def _reply(message_id: str, subject: str, sender: str, headers: str = "") -> bytes:
    references = f"In-Reply-To: {message_id}\nReferences: {message_id}\n{headers}"
    return _raw(
        "Re: " + subject, "報告しました。", charset="utf-8", codec="utf-8", sender=sender, headers=references
    )


def _met(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(ObligationRow).where(ObligationRow.status == "met"))
        return [(o.step, o.actor) for o in rows]


def test_a_reply_to_a_request_email_fulfils_its_step(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock, sink: MailSink
) -> None:
    message_id, subject = _request_to(mail_runtime, sink, "tanaka@keieikai.example")
    clock.advance(timedelta(minutes=5))
    replied = clock.now()
    _deliver(imap_server, imap_folder, clock, _reply(message_id, subject, "Tanaka <TANAKA@keieikai.example>"))
    clock.advance(timedelta(minutes=2))  # polled later: the step counts from the reply's arrival
    assert imap_poll.poll_once(mail_runtime) == {"step_done": 1}
    assert _count(mail_runtime, ComplaintRow) == 1  # the reply is not a new complaint
    with mail_runtime.sessions() as session:
        complaint_id = session.scalars(select(ComplaintRow.id)).one()
        done = [e for e in load_events(session, complaint_id)[0] if isinstance(e, StepDone)]
    assert [(e.step, e.by, e.to, e.at) for e in done] == [("report_to_supervisor", "tanaka", None, replied)]
    process_complaint(mail_runtime, complaint_id)
    assert _met(mail_runtime) == [("report_to_supervisor", "tanaka")]


def test_replies_that_match_no_request_are_counted_not_acted_on(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock, sink: MailSink
) -> None:
    message_id, subject = _request_to(mail_runtime, sink, "tanaka@keieikai.example")
    local, domain = message_id.strip("<>").split("@")
    untokened = f"<{local.rsplit('.', 1)[0]}@{domain}>"  # the stored id, guessable from the key
    _deliver(
        imap_server,
        imap_folder,
        clock,
        _reply(message_id, subject, "sato@keieikai.example"),  # not the person it was sent to
        _reply(untokened, subject, "tanaka@keieikai.example"),  # no valid reply token
        _reply(message_id, subject, "tanaka@keieikai.example", "Auto-Submitted: auto-replied\n"),
    )
    assert imap_poll.poll_once(mail_runtime) == {"unmatched_reply": 2, "automated": 1}
    process_complaint(mail_runtime, _received(mail_runtime)[0].complaint)
    assert _count(mail_runtime, ComplaintRow) == 1
    assert _met(mail_runtime) == []


def test_the_email_intake_flow_polls_once(
    mail_runtime: Runtime, imap_server: ImapServer, imap_folder: str, clock: FakeClock
) -> None:
    assert imap_poll.email_intake.name == "email-intake"
    _deliver(imap_server, imap_folder, clock, _raw("件名", "本文", charset="utf-8", codec="utf-8"))
    # The flow's body, without a Prefect server: it finds the process's installed runtime.
    assert asyncio.run(imap_poll.email_intake.fn()) == {"complaint": 1}
