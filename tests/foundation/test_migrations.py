"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from seamline.adapters import migrate
from seamline.adapters.db import make_engine
from seamline.adapters.tables import all_tables


def test_migrations_match_the_declared_tables(db_url):
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # idempotent
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), all_tables())
        assert diff == []
    finally:
        engine.dispose()
