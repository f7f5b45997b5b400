"""Domain types of complaintflow: complaints, their events, the org directory and the engine's decisions.

This package holds data only (pydantic models now, SQLAlchemy tables later); it performs no I/O and
imports nothing from the other complaintflow packages.
"""
