"""master data: the position of each row in the saved layout

PostgreSQL returns a table's rows in page order, which re-imports shuffle once VACUUM has freed
earlier space; SQLite happened to return them in insertion order. ``ord`` makes the order the
layout was saved in explicit on both. Rows saved before this revision keep NULL until the next
import of their factory.

Revision ID: 0006_layout_order
Revises: 0005_auth
Create Date: 2026-11-26 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_layout_order"
down_revision = "0005_auth"
branch_labels = None
depends_on = None

TABLES = ("calendars", "lines", "stations", "workers", "styles", "orders", "bundles")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("ord", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("ord")
