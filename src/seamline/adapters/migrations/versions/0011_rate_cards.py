"""pay: the stored rate card (the tablet's piece-rate earnings, the demo's pay)

Revision ID: 0011_rate_cards
Revises: 0010_plan_moves
Create Date: 2026-12-05 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_rate_cards"
down_revision = "0010_plan_moves"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_cards",
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("factory_id", name=op.f("pk_rate_cards")),
    )


def downgrade() -> None:
    op.drop_table("rate_cards")
