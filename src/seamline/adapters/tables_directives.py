"""Supervisor directives: an accepted re-balance move, stored as a version of the line's assignment.

One row per accepted move: who moves from which operation to which, the expected gain, who
accepted it and when, and the whole assignment after the move (JSON: ``[[badge, {op: share}], …]``
in line order), so the tablets concerned show the new task and the next suggestion starts from it.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from .tables import UtcDateTime, metadata

line_directives = Table(
    "line_directives",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("style_code", String(64), nullable=False),
    Column("badge", String(64), nullable=False),
    Column("from_op", String(64), nullable=True),
    Column("to_op", String(64), nullable=False),
    Column("gain_pph", Float, nullable=False),
    Column("pph_before", Float, nullable=False),
    Column("pph_after", Float, nullable=False),
    Column("assignment_json", Text, nullable=False),
    Column("accepted_by", String(128), nullable=False),
    Column("accepted_at", UtcDateTime(), nullable=False),  # the factory clock (latest event time)
    Index("ix_line_directives_line", "factory_id", "line_id", "accepted_at"),
)

# Exploration trials handed to the floor (issue #21): a worker with slack tries one bundle of an
# operation she has not been seen on, so the learning gets evidence for a pair the balance might
# use. One row per trial: open (``ended_at`` null) while it runs; the tablet at her station shows
# it apart from her own work, the line page lists the open ones.
line_trials = Table(
    "line_trials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("factory_id", String(64), nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("style_code", String(64), nullable=False),
    Column("badge", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("op_code", String(64), nullable=False),
    Column("started_by", String(128), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),  # the factory clock
    Column("ended_at", UtcDateTime(), nullable=True),
    Index("ix_line_trials_line", "factory_id", "line_id", "started_at"),
)
