"""The planner's order states (domain/order_state.py): every change is a row, the last one wins.

Append-only on purpose: the rows are the audit trail (who changed an order, when, why, from what),
and the current state of an order is its newest row. Orders without a row are open.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from .tables import UtcDateTime, metadata

order_state_changes = Table(
    "order_state_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # after the change: open / hold / cancelled / closed
    Column("before", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_order_state_changes_order", "factory_id", "order_id"),
)
