"""Quality's hour rollups: what the quality projection hands to the database when an hour leaves
its retention window, and how past-period quality figures are read back (issue #19).

The grain is the one every quality figure is known at: factory × line × station × worker ×
operation × local hour, plus the defect code. A row with ``code == ""`` carries the hour's
pieces checked, defects and defective pieces; a row with a code carries the defects of that code
(its ``pieces`` and ``defective`` are 0), which is what a past period's Pareto needs. The station,
worker and line of a defect are the ones that made the piece (quality/dhu.py says how).

Types only: the quality projection (``quality``) and the database (``adapters``) both use them
and may not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

QUALITY_SCOPES = ("operation", "worker", "station")


@dataclass(frozen=True, slots=True)
class QualityRollupRow:
    factory: str
    hour: datetime  # the local clock hour's start (aware)
    line: str
    station: str
    worker: str
    op: str  # STYLE:OP (quality.dhu.op_key)
    code: str  # "" = the hour's totals; otherwise the defects of this code
    pieces: int = 0
    defects: int = 0
    defective: int = 0


@dataclass(slots=True)
class QualitySums:
    """Past hours' quality summed by the database: (pieces, defects, defective) per line and hour,
    per key of each scope in ``QUALITY_SCOPES``, and defects per code."""

    by_line_hour: dict[tuple[str, datetime], tuple[int, int, int]] = field(default_factory=dict)
    by: dict[str, dict[str, tuple[int, int, int]]] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)


class QualityHistory(Protocol):
    """Where quality's hours that left memory are read back from (adapters/history.py)."""

    @property
    def generation(self) -> int:
        """Changes whenever the rollup tables do (at a checkpoint): a read begun before is stale."""
        ...

    def quality_sums(self, factory: str, start: datetime, end: datetime, line: str | None) -> QualitySums:
        """Sums over the rollup rows of hours in [start, end), of one line if ``line`` is set."""
        ...


__all__ = ["QUALITY_SCOPES", "QualityHistory", "QualityRollupRow", "QualitySums"]
