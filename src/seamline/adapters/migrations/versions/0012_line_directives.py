"""line directives: accepted re-balance moves as assignment versions (issue #21)

Revision ID: 0012_line_directives
Revises: 0011_rate_cards
Create Date: 2026-12-05 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_line_directives"
down_revision = "0011_rate_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_directives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("style_code", sa.String(length=64), nullable=False),
        sa.Column("badge", sa.String(length=64), nullable=False),
        sa.Column("from_op", sa.String(length=64), nullable=True),
        sa.Column("to_op", sa.String(length=64), nullable=False),
        sa.Column("gain_pph", sa.Float(), nullable=False),
        sa.Column("pph_before", sa.Float(), nullable=False),
        sa.Column("pph_after", sa.Float(), nullable=False),
        sa.Column("assignment_json", sa.Text(), nullable=False),
        sa.Column("accepted_by", sa.String(length=128), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_directives")),
    )
    op.create_index("ix_line_directives_line", "line_directives", ["factory_id", "line_id", "accepted_at"])


def downgrade() -> None:
    op.drop_index("ix_line_directives_line", table_name="line_directives")
    op.drop_table("line_directives")
