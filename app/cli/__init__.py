"""The `complaintflow` command: policy, simulate, serve, worker, accounts, violations and audit command
groups.

May use: everything below app, and app.serve.
"""
