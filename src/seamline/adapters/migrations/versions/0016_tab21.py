"""line trials: exploration trials handed to the floor, shown on the tablets (issue #21)

Revision ID: 0016_tab21
Revises: 0015_ord19
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_tab21"
down_revision = "0015_ord19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_trials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("style_code", sa.String(length=64), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("op_code", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_trials")),
    )
    op.create_index("ix_line_trials_line", "line_trials", ["factory_id", "line_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_line_trials_line", table_name="line_trials")
    op.drop_table("line_trials")
