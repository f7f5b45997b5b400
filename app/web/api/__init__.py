"""The JSON API under /api: complaints, steps, timelines and the violation log.

May use: the app.web plumbing, flows, models, notifiers.
"""
