"""order states: a planner holds, cancels or closes (short-shipped) an order (issue #19)

Append-only: each row is one change (the audit trail); an order's state is its newest row, and an
order without rows is open, so existing databases need no data.

Revision ID: 0015_ord19
Revises: 0014_orders19
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_ord19"
down_revision = "0014_orders19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_state_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("before", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_state_changes")),
    )
    op.create_index("ix_order_state_changes_order", "order_state_changes", ["factory_id", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_state_changes_order", table_name="order_state_changes")
    op.drop_table("order_state_changes")
