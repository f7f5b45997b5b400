"""Email addresses as complaintflow accepts them: exactly one plain ``local@domain``, or nothing.

Addresses come from org directories and from complainants on web forms. Anything that could add a
recipient or a header (a comma, a semicolon, angle brackets, a CR/LF, quotes, a group ``:``) is rejected
rather than repaired: guessing which of two addresses was meant is how mail goes to the wrong person.
"""

import re
from email.headerregistry import Address

from notifiers.errors import BadAddress
from notifiers.headers import single_line

# RFC 5321 caps a forward path at 256 octets including the angle brackets.
MAX_ADDRESS_LENGTH = 254
# RFC 5322 dot-atom: no quoted local parts, comments or domain literals; nobody needs them here.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_NAME_AND_ADDRESS = re.compile(r"^(?P<name>[^<>]*)<(?P<address>[^<>]*)>$")


def check_address(value: str) -> str:
    """``value`` as a plain ASCII ``local@domain`` (an internationalised domain is IDNA-encoded).

    Raises ``BadAddress`` for several addresses, header-breaking characters, display-name syntax,
    a non-ASCII local part (it would need SMTPUTF8, which relays may lack) or a malformed domain.
    """
    shown = repr(value[:80])
    address = value.strip(" ")
    if not address:
        raise BadAddress("empty email address")
    if re.search(r"[\x00-\x1f\x7f-\x9f\s,;<>()\[\]\"\\:]", address):
        raise BadAddress(f"not a single plain address (CR/LF, space, comma, bracket or quote): {shown}")
    local, at, domain = address.rpartition("@")
    if not at or "@" in local:
        raise BadAddress(f"an address needs exactly one '@': {shown}")
    if not _LOCAL.match(local):
        raise BadAddress(f"invalid local part (only plain ASCII, dots between words): {shown}")
    domain = _ascii_domain(domain, shown)
    result = f"{local}@{domain}"
    if len(result) > MAX_ADDRESS_LENGTH:
        raise BadAddress(f"address longer than {MAX_ADDRESS_LENGTH} characters: {shown}")
    return result


def complainant_address(value: str) -> str:
    """A complainant's email as every intake (web form, JSON API) accepts it: ``check_address``
    raising ``ValueError`` so pydantic and the forms report it on the field.

    The receipt goes to this address; one refused only at send time would fail where nobody sees it.
    """
    try:
        return check_address(value)
    except BadAddress as exc:
        raise ValueError(str(exc)) from None


def mailbox(display_name: str | None, address: str) -> Address:
    """A checked address with a display name made safe: control characters, line breaks and bidi
    overrides collapse to spaces. Quoting and RFC 2047 encoding are left to the email package."""
    local, _, domain = check_address(address).partition("@")
    return Address(display_name=single_line(display_name or ""), username=local, domain=domain)


def parse_mailbox(value: str) -> Address:
    """``addr@example.jp`` or ``Display Name <addr@example.jp>`` (e.g. a configured sender) as a
    checked ``Address``; a quoted display name loses its quotes."""
    if "\r" in value or "\n" in value:
        raise BadAddress(f"line break in address {value[:80]!r}")
    match = _NAME_AND_ADDRESS.match(value.strip())
    if match is None:
        return mailbox(None, value)
    name = match["name"].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':  # noqa: PLR2004 (a pair of quotes)
        name = name[1:-1]
    return mailbox(name, match["address"])


def _ascii_domain(domain: str, shown: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadAddress(f"invalid internationalised domain: {shown}") from exc
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):  # noqa: PLR2004 (name.tld)
        raise BadAddress(f"invalid domain (expected e.g. example.jp): {shown}")
    return domain.lower()
