"""Retention, rollups and checkpoints: what keeps start-up and memory flat as history grows.

Every ``every_s`` seconds (and every ``every_events`` events of a replay) the keeper:
1. moves the hours older than the retention window out of live state into the rollup table,
2. asks each projection to drop what is older than the window (``retain(cutoff)``, if it has one),
3. pickles live state and every projection at the event-store position they have folded up to,
in one transaction with step 1 (adapters/history.py says why that matters). Start-up loads the
checkpoint and replays only the events after its position; with no usable checkpoint it replays
the whole store (and writes checkpoints as it goes, so memory stays bounded during the replay).

Retention rule, one for every read model: the local hours of the last ``retain_days`` days before
the factory's latest event stay in memory; older ones are in the rollup tables (live state's
hours; quality's hour tallies and defects by code; finished orders' progress) or gone (quality's piece index and defect
records, finished bundles' routes, learning's caches). docs/data-model.md lists every read model
with its rule.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..adapters.history import HistoryStore
from ..domain.efficiency import hour_start
from ..domain.live import LiveState
from ..domain.order_rollup import FinishedOrderRow
from ..domain.quality_rollup import QualityRollupRow
from .ingest import Projection

log = logging.getLogger(__name__)

DEFAULT_RETAIN_DAYS = 8.0


@dataclass
class HistoryKeeper:
    history: HistoryStore
    live: LiveState
    projections: list[Projection]
    retain_days: float = DEFAULT_RETAIN_DAYS
    every_s: float = 300.0
    every_events: int = 500_000
    last_at: float = field(default_factory=time.monotonic)
    last_pos: int = 0
    last_bytes: int = 0
    checkpoints: int = 0

    def __post_init__(self) -> None:
        # Projections that read their evicted hours back (quality) get the rollup tables.
        for p in self.projections:
            bind = getattr(p, "bind_history", None)
            if bind is not None:
                bind(self.history)

    def cutoffs(self) -> dict[str, datetime]:
        """factory -> the first local hour kept in memory."""
        keep = timedelta(days=self.retain_days)
        return {f: hour_start(ts - keep, self.live.tz(f)) for f, ts in self.live.latest_ts.items()}

    def checkpoint(self, pos: int) -> int:
        """Evict, trim and save at ``pos`` (every event up to it is folded into every read model)."""
        cutoffs = self.cutoffs()
        rows = [r for f, c in cutoffs.items() for r in self.live.evict_before(f, c)]
        quality: list[QualityRollupRow] = []
        finished: list[FinishedOrderRow] = []
        if cutoffs:
            oldest = min(cutoffs.values())
            for p in self.projections:
                retain = getattr(p, "retain", None)
                if retain is not None:
                    try:
                        dropped = retain(oldest)
                    except Exception:  # a feature's bug must not stop checkpoints
                        log.exception("retention of projection %s failed", p.name)
                        continue
                    if isinstance(dropped, list):  # hours (quality's) or orders handed to the database
                        quality.extend(r for r in dropped if isinstance(r, QualityRollupRow))
                        finished.extend(r for r in dropped if isinstance(r, FinishedOrderRow))
        states: dict[str, object] = {"live": self.live, **{p.name: p for p in self.projections}}
        n = self.history.save(pos, states, rows, quality, finished)
        self.last_at, self.last_pos, self.last_bytes = time.monotonic(), pos, n
        self.checkpoints += 1
        return n

    def due(self) -> bool:
        return time.monotonic() - self.last_at >= self.every_s
