"""quality rollups: DHU, pieces checked and defects by code per hour, for hours out of memory (issue #19)

The table starts empty. Hours evicted before this revision were dropped from quality's memory
without a rollup, so the code bumps the checkpoint version (adapters/history.py): the first
start after the upgrade ignores the old checkpoint and replays the whole event store once, which
writes these rollups (and the hour rollups) again from the stored events. ``seamline rebuild``
does the same on demand.

Revision ID: 0013_rollup19
Revises: 0012_line_directives
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_rollup19"
down_revision = "0012_line_directives"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_rollups",
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("defects", sa.Integer(), nullable=False),
        sa.Column("defective", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "factory_id", "hour", "line_id", "station_id", "worker", "op", "code", name=op.f("pk_quality_rollups")
        ),
    )
    op.create_index("ix_quality_rollups_factory_hour", "quality_rollups", ["factory_id", "hour"])


def downgrade() -> None:
    op.drop_index("ix_quality_rollups_factory_hour", table_name="quality_rollups")
    op.drop_table("quality_rollups")
