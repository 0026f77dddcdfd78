"""Database engines: SQLite (WAL) by default, PostgreSQL by URL, one code path for both."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy is imported when an engine is made: `seamline CMD --help` never needs it
    from sqlalchemy import Engine
    from sqlalchemy.engine.interfaces import DBAPIConnection

DEFAULT_URL = "sqlite:///data/seamline.db"
DEMO_URL = "sqlite:///data/demo/seamline.db"  # where `make demo` (`seamline demo`) keeps its data


class DatabaseNotFound(LookupError):
    """A command that reads was pointed at a database that is not there (or holds nothing)."""


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for in-memory SQLite and for other databases."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


def _where_to_look(url: str) -> str:
    """How to point a command at the data: the default file, the demo's file, importing a factory."""
    demo = sqlite_file(DEMO_URL)
    found = demo is not None and demo.is_file() and demo.stat().st_size > 0 and url != DEMO_URL
    zh = (
        f"演示数据在 {demo}：加 --db {DEMO_URL}"
        if found
        else f"`make demo` 的数据在 {demo}（相对于仓库目录）：加 --db {DEMO_URL}"
    )
    en = (
        f"the demo's data is in {demo}: pass --db {DEMO_URL}"
        if found
        else f"`make demo` keeps its data in {demo} (relative to the checkout): pass --db {DEMO_URL}"
    )
    return (
        f"  没有 --db 时用 {DEFAULT_URL}（相对于当前目录 {Path.cwd()}）；{zh}；"
        f"或先导入工厂：seamline import examples/factory --db {url}\n"
        f"  without --db, commands use {DEFAULT_URL} (relative to the current folder {Path.cwd()}); {en}; "
        f"or import a factory first: seamline import examples/factory --db {url}"
    )


def missing_database_message(url: str) -> str | None:
    """Why ``url`` cannot be read, in Chinese and English; None when its file is there."""
    path = sqlite_file(url)
    if path is None:
        return None
    if not path.exists():
        return f"找不到数据库 {path} / database not found: {path} ({url})\n" + _where_to_look(url)
    if path.is_file() and path.stat().st_size == 0:
        return f"数据库是空的 {path} / the database is empty: {path} ({url})\n" + _where_to_look(url)
    return None


def missing_tables_message(url: str, feature_zh: str, feature_en: str, missing: list[str], empty: bool) -> str:
    """The database is there but lacks a feature's tables: say which, where, and what to do."""
    if empty:
        return (
            f"数据库 {url} 里没有任何表（空数据库）/ the database {url} has no tables at all (an empty database)\n"
            + _where_to_look(url)
        )
    return (
        f"数据库 {url} 没有{feature_zh}表（{', '.join(missing)}）/ the database {url} has no {feature_en} tables "
        f"({', '.join(missing)}): it was made by an older seamline; `seamline serve --db {url}` or "
        f"`seamline import … --db {url}` brings its schema up to date (the migrations run by themselves)\n"
        + _where_to_look(url)
    )


def existing_engine(url: str) -> Engine:
    """An engine for a command that reads: the database must be there, and no file is created.

    ``make_engine`` makes the folder and SQLite makes the file on first connect, which is right for
    `seamline import` and `serve` but would leave an empty ``data/seamline.db`` behind a mistyped
    read and then report "no tables" instead of "wrong file".
    """
    msg = missing_database_message(url)
    if msg is not None:
        raise DatabaseNotFound(msg)
    return make_engine(url)


def make_engine(url: str = DEFAULT_URL, *, echo: bool = False) -> Engine:
    """Create an engine; for SQLite, make the folder, switch to WAL and sane pragmas."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
            cur = dbapi_conn.cursor()
            if path and path != ":memory:":
                cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives a power cut (an fsync of the WAL per commit). Ingest
            # commits in batches, so the cost is one fsync per batch, not per event.
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)
