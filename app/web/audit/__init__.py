"""The auditor's pages: the violation log, evidence, rulings, exports and verification.

May use: the app.web plumbing, flows, models.
"""
