"""Tables of the planning board: the planner's confirmed moves (issue #22).

Append-only: a confirmed move is a new row, never an update, so the board's history (who moved
which order where, when) stays readable and the plan's version is the newest row's id. The move
in force for an order is its newest row.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, String, Table

from .tables import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

plan_moves = Table(
    "plan_moves",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("start_day", Date, nullable=False),  # the order starts no earlier than this day
    Column("moved_by", String(128), nullable=False),
    Column("moved_at", UtcDateTime(), nullable=False),
    Index("ix_plan_moves_factory_order", "factory_id", "order_id", "id"),
)
