"""Reading mail: the IMAP mailbox, parsing of received messages (charsets, HTML to text, attachments).

May use: notifiers.errors, notifiers.headers.
"""
