"""planning board: the planner's confirmed moves (issue #22)

Revision ID: 0010_plan_moves
Revises: 0009_history
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_plan_moves"
down_revision = "0009_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_moves",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("moved_by", sa.String(length=128), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_moves")),
    )
    op.create_index("ix_plan_moves_factory_order", "plan_moves", ["factory_id", "order_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_plan_moves_factory_order", table_name="plan_moves")
    op.drop_table("plan_moves")
