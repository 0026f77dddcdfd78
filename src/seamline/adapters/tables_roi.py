"""Tables of seamline.roi: the imported daily production reports and the twin's forecasts.

A report row is keyed by factory, line, day and style: importing a corrected file replaces the
rows it repeats and adds the others, so a re-import never counts a day twice. Forecasts are
append-only: the page shows the latest for a metric and lines, the older ones stay as history.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, Index, Integer, String, Table, Text

from .tables import UtcDateTime, metadata

_ID = BigInteger().with_variant(Integer, "sqlite")

roi_daily_reports = Table(
    "roi_daily_reports",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("line_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("style", String(64), primary_key=True),
    Column("sam_min", Float, nullable=False),
    Column("output", Integer, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("hours", Float, nullable=False),  # per worker, overtime included
    Column("overtime_h", Float, nullable=False),  # per worker
    Column("defects", Integer),
    Column("checked", Integer),
    Column("orders_due", Integer),
    Column("orders_on_time", Integer),
    Column("source", String(300), nullable=False),  # the file it came from (evidence, not shown to owners)
    Column("imported_at", UtcDateTime(), nullable=False),
)

roi_forecasts = Table(
    "roi_forecasts",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("lines", String(300), nullable=False),  # comma-separated, sorted
    Column("mean", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    Column("level_pct", Float, nullable=False),
    Column("source", Text, nullable=False),
    Column("made_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Index("ix_roi_forecasts_factory", "factory_id", "metric", "recorded_at"),
)
