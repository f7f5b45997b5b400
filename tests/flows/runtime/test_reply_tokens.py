"""Reply tokens: a sent Message-ID leads back to its stored one; a guessed or altered one does not."""

from flows.runtime.reply_tokens import is_ours, sent_message_id, stored_message_id

SECRET = "k" * 40
STORED = "<0123456789abcdef0123456789abcdef@complaintflow>"


def test_the_sent_id_leads_back_to_the_stored_one_and_is_stable() -> None:
    sent = sent_message_id(SECRET, STORED)
    assert sent == sent_message_id(SECRET, STORED.strip("<>"))  # a re-sent copy keeps its Message-ID
    assert sent != STORED
    assert stored_message_id(SECRET, sent) == STORED
    assert stored_message_id(SECRET, sent.strip("<>")) == STORED  # as parsed from In-Reply-To


def test_guessed_altered_or_foreign_ids_are_refused() -> None:
    sent = sent_message_id(SECRET, STORED)
    assert stored_message_id(SECRET, STORED) is None  # the stored id alone carries no token
    assert stored_message_id("other-secret" * 4, sent) is None
    assert stored_message_id(SECRET, sent.replace("0123", "0124", 1)) is None
    assert stored_message_id(SECRET, "<CAF=abc@mail.gmail.com>") is None
    assert is_ours(sent)
    assert is_ours(STORED)
    assert not is_ours("<CAF=abc@mail.gmail.com>")
