"""The durable records every other wing shares: the event log and the decision log (append-only, HMAC-
chained) and the audit keys that chain them.

May use: models, flows.errors, flows.settings.
"""
