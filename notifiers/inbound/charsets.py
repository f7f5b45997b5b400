"""Decoding mail text in the charsets complaints arrive in, never failing.

Mail labels its charset, and often under-labels it: Windows mailers send cp932 (with NEC/IBM extras
such as ① and ㈱) as "Shift_JIS" or "ISO-2022-JP", GBK or GB18030 text as "GB2312", cp950 as "Big5",
windows-1252 as "ISO-8859-1". So each label is decoded with the superset its senders really use.
Bytes that still do not decode become U+FFFD; an unknown label falls back to UTF-8. Python has no
CP50221 codec (ISO-2022-JP with the Windows extras), so ISO-2022-JP is transcoded to cp932 here.
"""

import codecs
import re

# Label (lower case) -> codecs to try strictly, in order; the first one is used with replacement
# characters if none decodes cleanly.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932", "shift_jis_2004"),
    "x-sjis": ("cp932", "shift_jis_2004"),
    "windows-31j": ("cp932",),
    "cp932": ("cp932",),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "euc-cn": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("cp950", "big5hkscs"),
    "x-big5": ("cp950", "big5hkscs"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "us-ascii": ("utf-8", "cp1252"),  # 8-bit bytes under an ASCII label: UTF-8 is the likely truth
    "ascii": ("utf-8", "cp1252"),
    "utf-8": ("utf-8-sig",),
    "utf8": ("utf-8-sig",),
}
_JAPANESE_LABELS = {"iso-2022-jp", "csiso2022jp", "iso-2022-jp-ms", "cp50220", "cp50221", "cp50222"}
_FALLBACK = ("utf-8", "cp1252")
# Controls that have no place in text (tab and newline stay); NUL also because PostgreSQL refuses it.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def decode_text(data: bytes, charset: str | None) -> str:
    """``data`` as text under its declared ``charset`` (or a guess); never raises."""
    label = (charset or "").strip().strip('"').lower()
    if label in _JAPANESE_LABELS:
        try:
            return _iso2022jp_via_cp932(data, strict=True)
        except UnicodeDecodeError:
            try:
                return data.decode("iso2022_jp_2")
            except UnicodeDecodeError:
                return _iso2022jp_via_cp932(data, strict=False)
    known = _python_codec(label)
    candidates = _SUPERSETS.get(label) or ((known,) if known else _FALLBACK)
    for name in candidates:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode(candidates[0], errors="replace")


def clean_text(text: str) -> str:
    """Text safe to store and show: CRLF/CR become LF, lone surrogates (from undecodable header bytes)
    become U+FFFD, and other control characters (NUL included) are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub(lambda m: "\ufffd" if "\ud800" <= m[0] <= "\udfff" else "", text)


def _python_codec(label: str) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_ESC = 0x1B
_ESCAPES = {
    b"\x1b(B": "ascii",
    b"\x1b(J": "ascii",  # JIS X 0201 Roman: ASCII except ¥ and ‾, which mailers send as \ and ~
    b"\x1b(I": "kana",  # JIS X 0201 half-width katakana
    b"\x1b$@": "jis",
    b"\x1b$B": "jis",
    b"\x1b$(D": "unsupported",  # JIS X 0212: not in cp932
}


def _iso2022jp_via_cp932(data: bytes, *, strict: bool) -> str:
    """ISO-2022-JP (and CP50220/50221) decoded by moving each JIS X 0208 pair to its Shift_JIS code.

    cp932 then maps NEC row 13 and the IBM rows that Windows puts into "ISO-2022-JP" mail."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        if data[i] == _ESC:
            escape = next((e for e in _ESCAPES if data.startswith(e, i)), None)
            if escape is None or _ESCAPES[escape] == "unsupported":
                if strict:
                    raise UnicodeDecodeError("iso-2022-jp", data, i, i + 1, "unsupported escape")
                out += "\ufffd".encode("cp932", errors="replace")
                i += 1
                continue
            mode = _ESCAPES[escape]
            i += len(escape)
        elif mode == "jis" and data[i] not in b"\r\n":
            pair = data[i : i + 2]
            out += _jis_to_sjis(pair) if len(pair) == 2 else b"?"  # noqa: PLR2004 (a JIS pair)
            i += 2
        elif mode == "kana" and 0x21 <= data[i] <= 0x5F:  # noqa: PLR2004 (JIS X 0201 kana range)
            out.append(data[i] + 0x80)
            i += 1
        else:
            out.append(data[i])
            i += 1
    return out.decode("cp932", errors="strict" if strict else "replace")


def _jis_to_sjis(pair: bytes) -> bytes:
    """The Shift_JIS code of a JIS X 0208 row/cell pair (the standard arithmetic transform)."""
    first, second = pair[0], pair[1]
    if not (0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E):  # noqa: PLR2004 (JIS byte range)
        return b"\xff\xff"  # not JIS: cp932 rejects it, so strict decoding tries the next codec
    lead = ((first + 1) >> 1) + (0x70 if first <= 0x5E else 0xB0)  # noqa: PLR2004
    trail = second + (0x1F if first & 1 else 0x7E)
    if first & 1 and trail >= 0x7F:  # noqa: PLR2004 (Shift_JIS skips 0x7F)
        trail += 1
    return bytes((lead, trail))
