"""Parsing incoming mail: charsets, HTML bodies, attachments, automated mail, and no crash on any input."""

import base64
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifiers.inbound.charsets import clean_text, decode_text
from notifiers.inbound.html_text import html_to_text
from notifiers.inbound.parsing import MAX_BODY_CHARS, MAX_LISTED_ATTACHMENTS, TRUNCATED, parse_mail


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("ascii")


def test_iso_2022_jp_from_windows_keeps_nec_and_ibm_characters() -> None:
    # CP50221 as Outlook writes it: ① and ㈱ (NEC row 13), 髙 (IBM extension), half-width kana.
    data = b"\x1b$B-!-j\x1b(B \x1b$B|b\x1b(B \x1b(I1\x1b(B"
    assert decode_text(data, "ISO-2022-JP") == "①㈱ 髙 ｱ"
    assert decode_text("普通の日本語".encode("iso2022_jp"), "iso-2022-jp") == "普通の日本語"


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("Shift_JIS", "cp932", "①髙橋様の件"),  # Windows characters under the standard label
        ("GB2312", "gbk", "朱镕基"),  # GBK under the GB2312 label
        ("GB18030", "gb18030", "𠀀"),  # a four-byte GB18030 sequence
        ("Big5", "cp950", "掛號處"),
        ("ISO-8859-1", "cp1252", "“quoted” €"),
    ],
)
def test_labels_decode_with_the_superset_their_senders_use(label: str, codec: str, text: str) -> None:
    assert decode_text(text.encode(codec), label) == text


def test_undecodable_bytes_and_unknown_charsets_never_raise() -> None:
    assert decode_text(b"ok \xff\xfe", "utf-8") == "ok \ufffd\ufffd"
    assert set(decode_text(b"\x1b$Bxx\x1b(B", "iso-2022-jp")) == {"\ufffd"}
    assert decode_text(b"plain", "x-no-such-charset") == "plain"
    assert decode_text("日本".encode(), None) == "日本"
    assert clean_text("a\x00b\r\nc\x1bd\ud800") == "ab\ncd\ufffd"


def test_encoded_word_subjects_and_raw_8bit_subjects_are_decoded() -> None:
    gbk = base64.b64encode("朱镕基".encode("gbk")).decode()
    raw = _crlf(f"Subject: Re: =?GB2312?B?{gbk}?= =?utf-8?q?caf=C3=A9?= end\nFrom: a@b.example\n\nx")
    assert parse_mail(raw).subject == "Re: 朱镕基café end"
    sjis = b"Subject: \x8f\x8a\x93\xe0\r\n\r\nbody"  # undeclared Shift_JIS bytes in the header
    assert parse_mail(sjis).subject == "所内"


def test_html_only_text_drops_scripts_styles_and_markup_and_keeps_lines() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>受付&amp;会計</p><script>alert('x')</script><div>行1<br>行2<br/>行3</div>"
        "<ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table>"
        "<p>&lt;script&gt; is text here</p><!-- hidden --></body></html>"
    )
    assert html_to_text(html) == "受付&会計\n\n行1\n行2\n行3\n\n- a\n- b\n\nx y\n\n<script> is text here"
    assert html_to_text("<p>unclosed <script>never closed") == "unclosed"


def _with_attachments(count: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Patient <patient@example.jp>"
    message["Subject"] = "files"
    message.set_content("本文")
    for index in range(count):
        message.add_attachment(b"x" * 100, maintype="image", subtype="png", filename=f"../../p{index}.png")
    inner = EmailMessage()
    inner["Subject"] = "転送"
    inner.set_content("forwarded")
    message.add_attachment(inner)
    return message.as_bytes()


def test_attachments_are_listed_with_name_type_and_size_up_to_a_cap() -> None:
    parsed = parse_mail(_with_attachments(2))
    assert parsed.body == "本文"
    assert [(a.name, a.content_type, a.size > 0) for a in parsed.attachments] == [
        ("p0.png", "image/png", True),  # path components dropped: a name, never a path
        ("p1.png", "image/png", True),
        ("転送.eml", "message/rfc822", True),  # an attached mail is one attachment, not its parts
    ]
    assert not any(a.too_large for a in parsed.attachments)
    many = parse_mail(_with_attachments(MAX_LISTED_ATTACHMENTS + 4))
    assert (len(many.attachments), many.more_attachments) == (MAX_LISTED_ATTACHMENTS, 5)


def test_a_huge_body_is_truncated() -> None:
    raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + b"a" * (
        MAX_BODY_CHARS + 10
    )
    assert parse_mail(raw).body == "a" * MAX_BODY_CHARS + TRUNCATED


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("From: a@b.example\nAuto-Submitted: auto-replied", "auto-submitted"),
        ("From: a@b.example\nAuto-Submitted: auto-generated; owner-email=x", "auto-submitted"),
        ("From: a@b.example\nX-Autoreply: yes", "autoreply-header"),
        ("From: a@b.example\nX-Autorespond: on", "autoreply-header"),
        ("From: a@b.example\nPrecedence: junk", "precedence"),
        ("From: a@b.example\nPrecedence: auto_reply", "precedence"),
        ("From: Mail Delivery System <MAILER-DAEMON@mx.example>", "mailer-daemon"),
        ("From: postmaster@mx.example", "mailer-daemon"),
        ("From: a@b.example\nReturn-Path: <>", "null-sender"),
        ("From: a@b.example\nContent-Type: multipart/report; report-type=delivery-status", "report"),
        ("From: a@b.example\nAuto-Submitted: no\nPrecedence: list", None),
    ],
)
def test_automated_mail_is_recognised(headers: str, reason: str | None) -> None:
    assert parse_mail(_crlf(headers + "\n\nbody")).automated == reason


def test_sender_ids_and_reply_references_are_read() -> None:
    raw = _crlf(
        "From: =?utf-8?b?5bGx55Sw?= <Yamada@Example.JP>\nMessage-ID: <m1@example.jp>\n"
        "In-Reply-To: <parent@x>\nReferences: <root@x>\n <parent@x>\n\nbody"
    )
    parsed = parse_mail(raw)
    assert (parsed.from_name, parsed.from_address, parsed.message_id) == (
        "山田",
        "yamada@example.jp",
        "m1@example.jp",
    )
    assert parsed.replies_to == ("parent@x", "root@x")
    assert parsed.key.startswith("mid:")
    assert parse_mail(b"Subject: no id\r\n\r\nx").key.startswith("raw:")


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000)
    | st.text(max_size=500).map(lambda t: ("Subject: " + t + "\r\n\r\n" + t).encode())
)
def test_any_bytes_parse_without_raising_into_storable_text(raw: bytes) -> None:
    parsed = parse_mail(raw)
    for text in (parsed.subject, parsed.body, parsed.from_name or ""):
        text.encode("utf-8")  # no lone surrogates
        assert "\x00" not in text  # PostgreSQL refuses NUL in text
