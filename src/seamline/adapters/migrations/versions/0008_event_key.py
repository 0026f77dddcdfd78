"""events: deduplicate per (factory, station, source, id); quarantine: kind of rejection

An event id was unique across the whole store, so a station that published another station's
id first had its own event stored and the victim's dropped as a duplicate (issue #18). The key
is now the numbering device's: ``(event_id, factory_id, station_id, source)``, with ``event_id``
first so id look-ups use the index. ``source`` was only inside the payload; it becomes a column,
filled from the payloads already stored (absent means ``sensor``, the protocol's default).

The quarantine gains ``kind``: ``invalid`` (every row so far), ``conflict`` or ``failed``.

Revision ID: 0008_event_key
Revises: 0007_roi_pilot
Create Date: 2026-12-05 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_event_key"
down_revision = "0007_roi_pilot"
branch_labels = None
depends_on = None

KEY = ["event_id", "factory_id", "station_id", "source"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), server_default="sensor", nullable=False))
    # Only payloads that name a source can have a non-default one; `source` is a top-level,
    # validated field, so reading it never touches the free text of unknown fields.
    if dialect == "sqlite":
        op.execute(
            "UPDATE events SET source = json_extract(payload, '$.source')"
            " WHERE payload LIKE '%\"source\"%' AND json_extract(payload, '$.source') IS NOT NULL"
        )
    else:
        op.execute(
            "UPDATE events SET source = payload::json ->> 'source'"
            " WHERE payload LIKE '%\"source\"%' AND payload::json ->> 'source' IS NOT NULL"
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_event_id", type_="unique")
        batch_op.create_unique_constraint("uq_events_key", KEY)
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="invalid", nullable=False))


def downgrade() -> None:
    # Refuses (unique violation) if two stations now hold the same id: nothing is dropped silently.
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_key", type_="unique")
        batch_op.create_unique_constraint("uq_events_event_id", ["event_id"])
        batch_op.drop_column("source")
