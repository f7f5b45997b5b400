"""build_message: a multipart/alternative UTF-8 email that user input cannot add headers or recipients to."""

import email
import email.policy
from email.message import EmailMessage

import pytest

from notifiers.addresses import check_address, complainant_address, parse_mailbox
from notifiers.errors import BadAddress, BadHeader
from notifiers.outbound.message import build_message
from notifiers.outbound.templates import RenderedEmail

RENDERED = RenderedEmail(
    subject="【要対応】上司へ事実を報告・連絡（期限 10:30） [2026-000123]",
    text="田中 一郎 さん\n\n<script> & 报告\n",
    html="<p>田中 一郎 さん</p><p>&lt;script&gt; &amp; 报告</p>\n",
)


def _build(**overrides: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "sender": "Complaint Desk <desk@clinic.example>",
        "to_name": "田中 一郎",
        "to_address": "tanaka@clinic.example",
        "rendered": RENDERED,
        "message_id": "<n1.tanaka@complaintflow.example>",
    }
    arguments.update(overrides)
    return build_message(**arguments)  # type: ignore[arg-type]


def _reparse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), _class=EmailMessage, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_message_is_multipart_alternative_utf8_and_7bit_on_the_wire() -> None:
    message = _build(headers={"X-Complaintflow-Complaint": "2026-000123"})
    wire = message.as_bytes()
    wire.decode("ascii")  # 7-bit clean: no relay needs 8BITMIME or SMTPUTF8
    assert b"\r\n" in wire
    parsed = _reparse(message)
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    # Base64 parts carry the wire's CRLF line endings; mail clients read them as plain line breaks.
    assert plain.get_content().replace("\r\n", "\n") == RENDERED.text
    assert html.get_content().replace("\r\n", "\n") == RENDERED.html
    assert parsed["Subject"] == RENDERED.subject
    assert parsed["From"] == "Complaint Desk <desk@clinic.example>"
    assert parsed["To"].addresses[0].display_name == "田中 一郎"
    assert parsed["To"].addresses[0].addr_spec == "tanaka@clinic.example"
    assert parsed["Message-ID"] == "<n1.tanaka@complaintflow.example>"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"] is not None
    assert parsed["X-Complaintflow-Complaint"] == "2026-000123"


def test_a_subject_cannot_inject_headers() -> None:
    rendered = RenderedEmail("Hello\r\nBcc: victim@evil.example\nX-Evil: 1", "t", "h")
    parsed = _reparse(_build(rendered=rendered))
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    assert parsed["Subject"] == "Hello Bcc: victim@evil.example X-Evil: 1"


@pytest.mark.parametrize(
    "name",
    [
        "Evil\r\nBcc: victim@evil.example",
        'Doe, John" <victim@evil.example>, "x',
        "Mallory <victim@evil.example>",
        "\u202eevil\u2028name\x00",
    ],
)
def test_a_display_name_cannot_add_recipients_or_headers(name: str) -> None:
    parsed = _reparse(_build(to_name=name))
    assert parsed["Bcc"] is None
    addresses = parsed["To"].addresses
    assert [a.addr_spec for a in addresses] == ["tanaka@clinic.example"]
    assert not any(ch in addresses[0].display_name for ch in "\r\n\x00\u2028\u202e")


@pytest.mark.parametrize(
    "address",
    [
        "tanaka@clinic.example\r\nBcc: victim@evil.example",
        "tanaka@clinic.example\n",
        "tanaka@clinic.example, victim@evil.example",
        "tanaka@clinic.example;victim@evil.example",
        "Tanaka <tanaka@clinic.example>",
        "<tanaka@clinic.example>",
        "tanaka@clinic.example victim@evil.example",
        "tanaka@@clinic.example",
        "tanaka@clinic.example@evil.example",
        '"tanaka"@clinic.example',
        "tanaka@[127.0.0.1]",
        "group: tanaka@clinic.example;",
        "田中@clinic.example",
        "tanaka@localhost",
        "tanaka@-clinic.example",
        ".tanaka@clinic.example",
        "tanaka",
        "",
    ],
)
def test_bad_recipient_addresses_are_rejected(address: str) -> None:
    with pytest.raises(BadAddress):
        _build(to_address=address)


def test_good_addresses_pass_and_idn_domains_are_encoded() -> None:
    assert check_address("o'brien+complaints@Mail.Example.COM") == "o'brien+complaints@mail.example.com"
    assert check_address("user@例え.jp") == "user@xn--r8jz45g.jp"
    assert check_address(" padded@clinic.example ") == "padded@clinic.example"


def test_a_complainant_address_is_checked_as_a_recipient_and_refused_as_a_value_error() -> None:
    # Intake (form and API) reports a ValueError on the field; what passes can be sent to.
    assert complainant_address("Hanako@Example.JP") == "Hanako@example.jp"
    for address in ("a@example.jp\r\nBcc: b@example.jp", "a@example.jp, b@example.jp", "A <a@example.jp>"):
        with pytest.raises(ValueError, match="not a single plain address"):
            complainant_address(address)
    with pytest.raises(ValueError, match="local part"):
        complainant_address("はなこ@example.jp")


@pytest.mark.parametrize(
    ("sender", "name", "address"),
    [
        ("desk@clinic.example", "", "desk@clinic.example"),
        ("Complaint Desk <desk@clinic.example>", "Complaint Desk", "desk@clinic.example"),
        ('"Desk, Kyobashi" <desk@clinic.example>', "Desk, Kyobashi", "desk@clinic.example"),
        ("京橋クリニック <desk@clinic.example>", "京橋クリニック", "desk@clinic.example"),
    ],
)
def test_a_sender_may_carry_a_display_name(sender: str, name: str, address: str) -> None:
    parsed_sender = parse_mailbox(sender)
    assert (parsed_sender.display_name, parsed_sender.addr_spec) == (name, address)
    sent_from = _reparse(_build(sender=sender))["From"].addresses
    assert [(a.display_name, a.addr_spec) for a in sent_from] == [(name, address)]


@pytest.mark.parametrize(
    "sender", ["a@b.example, c@d.example", "Desk <a@b.example>\r\nBcc: c@d.example", "<>"]
)
def test_a_bad_sender_is_rejected(sender: str) -> None:
    with pytest.raises(BadAddress):
        _build(sender=sender)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Complaint": "1\r\nBcc: victim@evil.example"},
        {"X-Complaint": "1\n"},
        {"X-Complaint": "\x00"},
        {"X-Bad Name": "1"},
        {"X-Bad:Name": "1"},
        {"Bcc": "victim@evil.example"},
        {"to": "victim@evil.example"},
        {"Subject": "other"},
        {"Content-Type": "text/html"},
        {"Message-ID": "<other@x.example>"},
    ],
)
def test_custom_headers_are_checked(headers: dict[str, str]) -> None:
    with pytest.raises(BadHeader):
        _build(headers=headers)


def test_defaults_may_be_replaced_once() -> None:
    parsed = _reparse(
        _build(headers={"auto-submitted": "auto-replied", "Date": "Mon, 09 Mar 2026 01:00:00 +0000"})
    )
    assert parsed.get_all("Auto-Submitted") == ["auto-replied"]
    assert parsed.get_all("Date") == ["Mon, 09 Mar 2026 01:00:00 +0000"]


@pytest.mark.parametrize(
    ("given", "expected"), [("abc@host.example", "<abc@host.example>"), ("<a.b@c>", "<a.b@c>")]
)
def test_message_ids_are_normalised(given: str, expected: str) -> None:
    assert _build(message_id=given)["Message-ID"] == expected


@pytest.mark.parametrize("given", ["", "no-at-sign", "<a@b>\r\nBcc: x@y.example", "a b@c", "<a@b@c>"])
def test_bad_message_ids_are_rejected(given: str) -> None:
    with pytest.raises(BadHeader):
        _build(message_id=given)
