"""Several processes starting at once on a new PostgreSQL database: the schema is built once, and
every one of them starts."""

import threading

from sqlalchemy import create_engine, text

from models.db import migrate
from tests.faults.cluster import new_database


def test_concurrent_first_starts_migrate_once_and_all_succeed(postgres_url: str) -> None:
    url = new_database(postgres_url, "first_start")
    failures: list[BaseException] = []
    ready = threading.Barrier(4)

    def start() -> None:
        ready.wait()
        try:
            migrate(url)
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()
