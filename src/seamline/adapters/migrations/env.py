"""Alembic environment: run with a connection handed in by seamline.adapters.migrate."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from seamline.adapters.tables import UtcDateTime, all_tables

target_metadata = all_tables()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from seamline.adapters.db import make_engine

        engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///data/seamline.db")
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Migrations stay free of seamline imports: UtcDateTime is a plain aware DateTime in the DB."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__name__ == "ExactDecimal":  # NUMERIC, text on SQLite (exact)
        return "sa.Numeric(precision=18, scale=4).with_variant(sa.String(length=40), 'sqlite')"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
