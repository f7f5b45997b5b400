"""Several processes starting at once on a new PostgreSQL database: the schema is built once, and
every one of them starts."""

from sqlalchemy import create_engine, text

from models.db import migrate
from tests.concurrency import run_together
from tests.faults.cluster import new_database


def test_concurrent_first_starts_migrate_once_and_all_succeed(postgres_url: str) -> None:
    url = new_database(postgres_url, "first_start")
    assert run_together(lambda: migrate(url), 4) == []
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()
