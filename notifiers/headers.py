"""Header text hygiene: what may reach a header line, shared by subjects, display names and custom headers.

A CR or LF in a header value ends the header and lets the rest forge new headers or a new body (header
injection). User input reaches headers through complaint subjects and names, so every value is either
collapsed to one line (text we compose) or rejected (values callers pass as headers verbatim).
"""

import re

from notifiers.errors import BadHeader

# C0 and C1 controls (CR, LF, NUL, NEL …; TAB apart), Unicode line/paragraph separators (which some
# clients treat as line breaks) and bidi overrides/isolates (which can make a name display as another).
_CONTROLS = "\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_BREAKERS = "\t" + _CONTROLS
_BREAK_RUN = re.compile(f"[ {_BREAKERS}]*[{_BREAKERS}][ {_BREAKERS}]*")
_FORBIDDEN_IN_VALUE = re.compile(f"[{_CONTROLS}]")
# RFC 5322 field-name: printable US-ASCII except the colon.
_FIELD_NAME = re.compile(r"^[!-9;-~]+$")


def single_line(text: str) -> str:
    """``text`` on one line: each run of control/separator characters (with the spaces around it)
    becomes one space, and the ends are stripped. Other spacing, such as a full-width space inside a
    Japanese name, is left alone."""
    return _BREAK_RUN.sub(" ", text).strip()


def check_header(name: str, value: str) -> None:
    """Raise ``BadHeader`` unless ``name`` is a valid field name and ``value`` has no CR/LF or control
    characters (a TAB is allowed: it is ordinary folding whitespace)."""
    if not _FIELD_NAME.match(name):
        raise BadHeader(f"invalid header name {name!r}: use printable ASCII without spaces or ':'")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise BadHeader(f"header {name} contains a line break or control character")
