"""Table of seamline.learning: the latest skill-matrix snapshot, one row per worker × operation.

The learning state itself is rebuilt from the event store at start-up (it is a projection), so this
table is a snapshot for readers that do not replay events: reports, the planner, other processes.
A snapshot replaces the previous rows of its factory.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table

from .tables import UtcDateTime, metadata

learning_skills = Table(
    "learning_skills",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("worker", String(64), primary_key=True),
    Column("style_code", String(64), primary_key=True),
    Column("op_code", String(64), primary_key=True),
    Column("line_id", String(64)),
    Column("n_pieces", Integer, nullable=False),
    Column("n_cycles", Integer, nullable=False),
    Column("efficiency", Float, nullable=False),  # fraction of standard, now
    Column("se", Float, nullable=False),
    Column("lo", Float, nullable=False),  # 95 % interval
    Column("hi", Float, nullable=False),
    Column("steady_state", Float, nullable=False),
    Column("forecast_next_50", Float, nullable=False),
    Column("trend", String(16), nullable=False),  # learning | steady
    Column("p_learning", Float, nullable=False),
    Column("confidence", String(8), nullable=False),  # high | medium | low
    Column("double_counts", Integer, nullable=False),
    Column("interruptions", Integer, nullable=False),
    Column("updated_at", UtcDateTime()),  # time of the cell's latest piece
    Column("saved_at", UtcDateTime(), nullable=False),
    Index("ix_learning_skills_worker", "factory_id", "worker"),
)
