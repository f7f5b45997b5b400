"""Signed email action links: the page a recipient opens and the step it records.

May use: the app.web plumbing, flows, models, policies.engine.
"""
