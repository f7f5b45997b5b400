"""Domain types of complaintflow: complaints, their events, the org directory and the engine's decisions.

This package holds data: pydantic models, and the SQLAlchemy tables (`models.tables`) with their
Alembic migrations. Its only I/O goes through SQLAlchemy (`models.db`: engines, sessions, migrations,
complaint ids), and it imports nothing from the other complaintflow packages.
"""
