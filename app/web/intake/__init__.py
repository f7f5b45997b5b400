"""The public complaint form, the staff form and the complainant's status page.

May use: the app.web plumbing, flows, models, notifiers.
"""
