"""history: hour rollups and projection checkpoints (issue #19)

Revision ID: 0009_history
Revises: 0008_event_key
Create Date: 2026-12-05 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_history"
down_revision = "0008_event_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hour_rollups",
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=64), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("earned_min", sa.Float(), nullable=False),
        sa.Column("output", sa.Integer(), nullable=False),
        sa.Column("defects", sa.Integer(), nullable=False),
        sa.Column("attended_s", sa.Float(), nullable=False),
        sa.Column("running_s", sa.Float(), nullable=False),
        sa.Column("idle_s", sa.Float(), nullable=False),
        sa.Column("off_s", sa.Float(), nullable=False),
        sa.Column("downtime_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "factory_id", "hour", "line_id", "station_id", "worker", "op", name=op.f("pk_hour_rollups")
        ),
    )
    op.create_index("ix_hour_rollups_factory_hour", "hour_rollups", ["factory_id", "hour"])
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("projection_checkpoints")
    op.drop_index("ix_hour_rollups_factory_hour", table_name="hour_rollups")
    op.drop_table("hour_rollups")
