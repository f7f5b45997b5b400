"""Reply tokens: how a reply to a notification email is traced back to its outbox row, unforgeably.

Every mail client that replies keeps the original's Message-ID in ``In-Reply-To`` (and usually in
``References``), whatever it does to addresses and subjects. So the token travels inside the
Message-ID we send: the outbox row's stored id ``<hex@complaintflow>`` goes out as
``<hex.TOKEN@complaintflow>``, where TOKEN is an HMAC of the stored id under the runtime's secret.
A reply naming that id proves its sender saw our mail; an id someone guessed from a complaint number
has no valid token. The transform is deterministic, so a re-sent copy keeps the same Message-ID.
"""

import hashlib
import hmac

OUR_DOMAIN = "complaintflow"  # the right-hand side flows.runtime.apply gives every outbox Message-ID
_TOKEN_LENGTH = 32  # hex digits: 128 bits


def reply_token(secret: str, stored_id: str) -> str:
    """The token for an outbox row's stored Message-ID (with or without angle brackets)."""
    mac = hmac.new(secret.encode(), b"complaintflow-reply\x00" + _bare(stored_id).encode(), hashlib.sha256)
    return mac.hexdigest()[:_TOKEN_LENGTH]


def sent_message_id(secret: str, stored_id: str) -> str:
    """The Message-ID to send for a stored one: the token joined to its left-hand side."""
    local, _, domain = _bare(stored_id).rpartition("@")
    return f"<{local}.{reply_token(secret, stored_id)}@{domain}>"


def stored_message_id(secret: str, referenced: str) -> str | None:
    """The stored Message-ID (``<hex@domain>``) a reply refers to, or None without a valid token."""
    local, _, domain = _bare(referenced).rpartition("@")
    base, dot, token = local.rpartition(".")
    if not dot or not base:
        return None
    stored = f"<{base}@{domain}>"
    return stored if hmac.compare_digest(token, reply_token(secret, stored)) else None


def is_ours(referenced: str) -> bool:
    """Whether a referenced Message-ID was made by complaintflow (valid token or not)."""
    return _bare(referenced).rpartition("@")[2].lower() == OUR_DOMAIN


def _bare(message_id: str) -> str:
    return message_id.strip().removeprefix("<").removesuffix(">")
