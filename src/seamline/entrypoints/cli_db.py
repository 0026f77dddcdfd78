"""Opening the database for commands that read: a clear error instead of an empty new file.

Without ``--db`` every command uses ``data/seamline.db`` relative to the current folder, while
`make demo` keeps its data in ``data/demo/``; a read pointed at the wrong place must say what it
looked for, where, and how to point at the demo, and must not create the file it did not find.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer
from sqlalchemy import Engine, inspect

from ..adapters.db import DatabaseNotFound, existing_engine, missing_database_message, missing_tables_message


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"错误 / error: {msg}", err=True)
    return typer.Exit(2)


def require_db(url: str) -> None:
    """Exit 2 with the bilingual message when ``url`` is a SQLite file that is not there or empty."""
    msg = missing_database_message(url)
    if msg is not None:
        raise _fail(msg)


def open_db(url: str) -> Engine:
    """An engine on an existing database (never creates one); exit 2 with the message otherwise."""
    try:
        return existing_engine(url)
    except DatabaseNotFound as e:
        raise _fail(str(e)) from None


def require_tables(engine: Engine, url: str, tables: Iterable[str], feature_zh: str, feature_en: str) -> None:
    """Exit 2 when the database lacks one of a feature's tables, saying which and what to do."""
    have = set(inspect(engine).get_table_names())
    missing = [t for t in tables if t not in have]
    if missing:
        raise _fail(missing_tables_message(url, feature_zh, feature_en, missing, empty=not have))
