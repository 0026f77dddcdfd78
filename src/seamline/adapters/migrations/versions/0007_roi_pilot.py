"""roi: daily production reports (control lines, pilot before sensors) and the twin's forecasts

Revision ID: 0007_roi_pilot
Revises: 0006_layout_order
Create Date: 2026-12-05 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_roi_pilot"
down_revision = "0006_layout_order"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roi_daily_reports",
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("style", sa.String(length=64), nullable=False),
        sa.Column("sam_min", sa.Float(), nullable=False),
        sa.Column("output", sa.Integer(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("overtime_h", sa.Float(), nullable=False),
        sa.Column("defects", sa.Integer(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=True),
        sa.Column("orders_due", sa.Integer(), nullable=True),
        sa.Column("orders_on_time", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("factory_id", "line_id", "day", "style", name=op.f("pk_roi_daily_reports")),
    )
    op.create_table(
        "roi_forecasts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("factory_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.String(length=300), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("level_pct", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roi_forecasts")),
    )
    with op.batch_alter_table("roi_forecasts", schema=None) as batch_op:
        batch_op.create_index("ix_roi_forecasts_factory", ["factory_id", "metric", "recorded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roi_forecasts", schema=None) as batch_op:
        batch_op.drop_index("ix_roi_forecasts_factory")
    op.drop_table("roi_forecasts")
    op.drop_table("roi_daily_reports")
