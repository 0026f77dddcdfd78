"""SQLAlchemy Core tables: the event store, quarantine and master data.

Feature modules define their own tables on the same ``metadata`` in ``tables_<feature>.py``;
``all_tables()`` imports them so migrations and ``create_all`` see everything.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

from ..plugins import optional_modules


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite keeps no offset, so it is normalised on the way in
    and UTC is attached on the way out. Naive datetimes are refused: every time here is aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: seamline stores aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- event store -----------------------------------------------------------------------------
# Append-only. `pos` is the global order events were accepted in; replaying by `pos` rebuilds the
# live state exactly. An event is identified by its numbering device: (factory, station, source)
# and the device's `event_id`. That unique key makes ingest idempotent across restarts and
# processes, and keeps one station from shadowing another's event by reusing its id (issue #18).
# `event_id` leads the key so that looking ids up uses the index.
events = Table(
    "events",
    metadata,
    Column("pos", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(128), nullable=False),
    Column("factory_id", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("source", String(16), nullable=False, server_default="sensor"),  # who numbered `seq`
    Column("seq", BigInteger, nullable=False),
    Column("type", String(16), nullable=False),
    Column("ts", UtcDateTime(), nullable=False),
    Column("worker", String(64)),
    Column("bundle", String(64)),
    Column("op", String(64)),
    Column("qty", Integer),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    UniqueConstraint("event_id", "factory_id", "station_id", "source", name="uq_events_key"),
    # One secondary index: every index costs each insert, and the queries that read the store
    # (hours, reports, ROI) select a factory's time range; per-bundle and per-worker questions
    # are answered by the projections in memory.
    Index("ix_events_factory_ts", "factory_id", "ts"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("qid", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("source", String(16), nullable=False),  # mqtt | http | replay
    Column("topic", String(256)),
    Column("factory_id", String(64)),
    Column("station_id", String(64)),
    Column("event_id", String(128)),
    Column("raw", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    # invalid: broke the protocol; conflict: a known key with other content; failed: the
    # database refused the event alone (found by splitting its batch).
    Column("kind", String(16), nullable=False, server_default="invalid"),
    Index("ix_quarantine_received", "received_at"),
)

seq_gaps = Table(
    "seq_gaps",
    metadata,
    Column("gid", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("expected_seq", BigInteger, nullable=False),
    Column("got_seq", BigInteger, nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("detected_at", UtcDateTime(), nullable=False),
)

# --- master data -----------------------------------------------------------------------------
factories = Table(
    "factories",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
)

calendars = Table(
    "calendars",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("timezone", String(64), nullable=False),
    Column("shift_start", String(5), nullable=False),
    Column("shift_end", String(5), nullable=False),
    Column("breaks", JSON, nullable=False),  # [["12:00", "13:00", "lunch"], ...]
    Column("workdays", JSON, nullable=False),
)

lines = Table(
    "lines",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("name", String(200), nullable=False),
    Column("calendar_id", String(64), nullable=False),
    Column("target_efficiency_pct", Float, nullable=False),
)

stations = Table(
    "stations",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("line_id", String(64), nullable=False),
    Column("sensor_id", String(64), nullable=False),
    Column("machine_type", String(16), nullable=False),
    Column("position", Integer, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("badge", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("name", String(200), nullable=False),
    Column("line_id", String(64)),
    Column("skill_group", String(64), nullable=False),
    Column("skills", JSON, nullable=False),
)

styles = Table(
    "styles",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("bundle_size", Integer, nullable=False),
)

operations = Table(
    "operations",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("style_code", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("seq_no", Integer, nullable=False),
    Column("name_zh", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("sam_min", Float, nullable=False),
    Column("machine_type", String(16), nullable=False),
    Column("skill_grade", Integer, nullable=False),
    Column("predecessors", JSON, nullable=False),
    Column("instruction", Text, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("customer", String(200), nullable=False),
    Column("style_code", String(64), nullable=False),
    Column("quantities", JSON, nullable=False),  # [[size, colour, qty], ...]
    Column("due", String(10), nullable=False),  # ISO date
    Column("priority", Integer, nullable=False),
)

bundles = Table(
    "bundles",
    metadata,
    Column("factory_id", String(64), ForeignKey("factories.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("ord", Integer),  # position in the saved layout: see master_data
    Column("order_id", String(64), nullable=False),
    Column("size", String(32), nullable=False),
    Column("colour", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
)

FEATURE_TABLE_MODULES = (
    "seamline.adapters.tables_compliance",
    "seamline.adapters.tables_quality",
    "seamline.adapters.tables_learning",
    "seamline.adapters.tables_materials",
    "seamline.adapters.tables_planning",
    "seamline.adapters.tables_roi",
    "seamline.adapters.tables_auth",
    "seamline.adapters.tables_history",
    "seamline.adapters.tables_pay",
    "seamline.adapters.tables_directives",
    "seamline.adapters.tables_orders",
)


def all_tables() -> MetaData:
    """Import every feature's tables onto ``metadata`` and return it."""
    for _mod in optional_modules(FEATURE_TABLE_MODULES):
        pass  # importing a tables module defines its tables on `metadata`
    return metadata
