"""Administrators' pages: accounts and tokens, policies (upload, dry run, activation), failed mail, and the
dev mailbox.

May use: the app.web plumbing, flows, models, policies, notifiers.
"""
