"""Alembic environment: runs migrations on the database given by ``models.db.alembic_config``.

Connections come from ``models.db.make_engine`` so SQLite migrations run with the same pragmas
(foreign keys, WAL, busy timeout) as the application.
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from models.db import make_engine
from models.tables import Base, UTCDateTime

TARGET = Base.metadata


def render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render `UTCDateTime` as its plain column type: a revision must not import today's model code."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_offline(url: str) -> None:
    """``--sql`` mode: print the DDL instead of running it."""
    context.configure(url=url, target_metadata=TARGET, literal_binds=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_online(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=TARGET,
                render_item=render_item,
                # SQLite cannot ALTER most things: later revisions must copy-and-move tables.
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


_url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
if not _url:
    raise RuntimeError("no database URL: build the Alembic config with models.db.alembic_config(url)")
if context.is_offline_mode():
    run_offline(_url)
else:
    run_online(_url)
