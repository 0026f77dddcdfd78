"""finished orders: order progress of orders finished before the retention window (issue #19)

The table starts empty: order progress still holds every order in a checkpoint written before
this revision, and hands the finished ones over at its next checkpoint.

Revision ID: 0014_orders19
Revises: 0013_rollup19
Create Date: 2026-12-05 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_orders19"
down_revision = "0013_rollup19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finished_orders",
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("earned_min", sa.Float(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("line_earned_min", sa.Float(), nullable=False),
        sa.Column("first_ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("factory_id", "order_id", name=op.f("pk_finished_orders")),
    )


def downgrade() -> None:
    op.drop_table("finished_orders")
