"""The management dashboard's pages, SVG charts and CSV downloads.

May use: the app.web plumbing, flows.dashboard, models.
"""
