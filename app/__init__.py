"""Entry points of complaintflow: the ``complaintflow`` command line (and, later, the web app)."""
