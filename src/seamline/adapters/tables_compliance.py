"""Tables of seamline.compliance: manual attendance corrections and the hash-chained day records.

Both are append-only by contract: corrections are never updated (a later correction supersedes), and
day records are only ever appended (a re-sealed day gets a new version at the end of the chain).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from .tables import UtcDateTime, metadata

attendance_corrections = Table(
    "attendance_corrections",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("factory_id", String(64), nullable=False),
    Column("action", String(8), nullable=False),  # add | adjust | void
    Column("worker", String(64), nullable=False),
    Column("session_id", String(128)),
    Column("station_id", String(64)),
    Column("start", UtcDateTime()),
    Column("end", UtcDateTime()),
    Column("who", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("why", Text, nullable=False),
    Index("ix_attendance_corrections_factory_at", "factory_id", "at"),
)

hours_chain = Table(
    "hours_chain",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("day", String(10), nullable=False),  # ISO date, factory-local work day
    Column("version", Integer, nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, exactly what was hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sealed_at", UtcDateTime(), nullable=False),
    UniqueConstraint("factory_id", "day", "version", name="uq_hours_chain_factory_day_version"),
)
