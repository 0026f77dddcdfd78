"""Tables that keep history cheap: hour rollups and projection checkpoints (issue #19).

``hour_rollups`` holds what live state drops from memory once an hour leaves the retention
window, at the finest grain every figure is known (factory × line × station × worker × operation
× local hour). ``projection_checkpoints`` holds the pickled in-memory read models at a recorded
event-store position, so start-up replays only the events after it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, String, Table

from .tables import UtcDateTime, metadata

hour_rollups = Table(
    "hour_rollups",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("hour", UtcDateTime(), primary_key=True),  # the local clock hour's start, stored as UTC
    Column("line_id", String(64), primary_key=True),
    Column("station_id", String(64), primary_key=True),
    Column("worker", String(64), primary_key=True),  # "" = nobody logged in / not per worker
    Column("op", String(64), primary_key=True),  # "" = not per operation (attended, machine time)
    Column("pieces", Integer, nullable=False, default=0),
    Column("earned_min", Float, nullable=False, default=0.0),
    Column("output", Integer, nullable=False, default=0),
    Column("defects", Integer, nullable=False, default=0),
    Column("attended_s", Float, nullable=False, default=0.0),
    Column("running_s", Float, nullable=False, default=0.0),
    Column("idle_s", Float, nullable=False, default=0.0),
    Column("off_s", Float, nullable=False, default=0.0),
    Column("downtime_s", Float, nullable=False, default=0.0),
    Index("ix_hour_rollups_factory_hour", "factory_id", "hour"),
)

projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("pos", BigInteger, nullable=False),  # the last event-store position folded in
    Column("version", String(32), nullable=False),
    Column("taken_at", UtcDateTime(), nullable=False),
    Column("state", LargeBinary, nullable=False),
)

# Quality's hours that left memory (domain/quality_rollup.py): code "" rows hold pieces checked,
# defects and defective pieces; a code's row holds that code's defects (for past Paretos).
quality_rollups = Table(
    "quality_rollups",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("hour", UtcDateTime(), primary_key=True),
    Column("line_id", String(64), primary_key=True),
    Column("station_id", String(64), primary_key=True),  # where the piece was made
    Column("worker", String(64), primary_key=True),  # who made it ("?" = nobody logged in)
    Column("op", String(64), primary_key=True),  # STYLE:OP
    Column("code", String(64), primary_key=True),  # "" = totals of the cell
    Column("pieces", Integer, nullable=False, default=0),
    Column("defects", Integer, nullable=False, default=0),
    Column("defective", Integer, nullable=False, default=0),
    Index("ix_quality_rollups_factory_hour", "factory_id", "hour"),
)

# Orders finished and out of the retention window: order progress hands them over at a checkpoint
# (domain/order_rollup.py), one row per order.
finished_orders = Table(
    "finished_orders",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("order_id", String(64), primary_key=True),
    Column("done", Integer, nullable=False),
    Column("earned_min", Float, nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("line_earned_min", Float, nullable=False),
    Column("first_ts", UtcDateTime(), nullable=False),
    Column("last_ts", UtcDateTime(), nullable=False),
)
