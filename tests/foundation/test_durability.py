"""What makes "a power cut loses at most the batch not yet acknowledged" true on SQLite.

A real power cut cannot be staged in a test process; what can be checked is the contract it rests
on: every connection ingest commits through (the ORM path and the raw fast path) runs in WAL mode
with ``synchronous=FULL``, so a COMMIT returns only after the WAL is fsynced, and the MQTT receiver
acknowledges a message only after that COMMIT (tests/integration/test_crash.py proves the ordering
with kill -9).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from seamline.adapters.db import make_engine
from seamline.adapters.event_store import EventStore
from seamline.adapters.migrate import upgrade

FULL = 2


def test_every_sqlite_connection_fsyncs_each_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/d.db")
    upgrade(engine)
    EventStore(engine)
    try:
        with engine.connect() as c:
            assert c.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert c.execute(text("PRAGMA synchronous")).scalar_one() == FULL
        raw = engine.raw_connection()  # the event store's fast path commits through this kind
        try:
            cur = raw.cursor()
            assert cur.execute("PRAGMA synchronous").fetchone()[0] == FULL
            assert cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            raw.close()
    finally:
        engine.dispose()
