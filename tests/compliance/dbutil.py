"""A database (SQLite or PostgreSQL, from the ``db_url`` fixture) with the layout and events of a
test, as the CLI would find it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert

from seamline.adapters import migrate
from seamline.adapters import tables as t
from seamline.adapters.db import make_engine
from seamline.adapters.master_data import save_layout
from seamline.domain.events import encode_event
from seamline.domain.model import FactoryLayout


def make_db(url: str, layout: FactoryLayout, events: list) -> tuple[str, Engine]:
    """Migrate ``url``, store the layout and events; the caller disposes the engine."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    save_layout(engine, layout)
    add_events(engine, events)
    return url, engine


def add_events(engine: Engine, events: list) -> None:
    rows = [
        {
            "event_id": e.id,
            "factory_id": e.factory,
            "station_id": e.station,
            "seq": e.seq,
            "type": type(e).__struct_config__.tag,
            "ts": e.ts,
            "worker": getattr(e, "worker", None),
            "bundle": getattr(e, "bundle", None),
            "op": getattr(e, "op", None),
            "qty": getattr(e, "qty", None),
            "payload": encode_event(e).decode(),
            "received_at": datetime.now(UTC),
        }
        for e in events
    ]
    with engine.begin() as conn:
        conn.execute(insert(t.events), rows)


def delete_event(engine: Engine, event_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(t.events).where(t.events.c.event_id == event_id))
