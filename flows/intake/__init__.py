"""Complaints coming in: storing a new complaint from the web or API, email intake and the IMAP poller.

May use: models, notifiers, flows.records, flows.runtime and the flows root.
"""
