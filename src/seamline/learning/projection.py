"""The learning projection: fed every accepted event by ingest (and the whole store at start-up).

It touches no database: snapshots go to a ``SnapshotStore``; ``seamline.adapters.learning_store``
supplies the SQL one and the ``create(layouts, engine)`` that ``seamline.bootstrap`` calls. Reading it
from the API is done under the pipeline lock, so estimates never see a half-applied event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol

from ..domain.events import SensorEvent
from ..domain.model import FactoryLayout
from .state import LearningState, SkillEstimate

log = logging.getLogger(__name__)


class SnapshotError(RuntimeError):
    """The snapshot could not be written (most often: the ``learning_skills`` table is not migrated yet)."""


class SnapshotStore(Protocol):
    """Where snapshots go; ``save`` replaces the rows of every factory present, raises ``SnapshotError``."""

    def save(self, estimates: Sequence[SkillEstimate], saved_at: datetime) -> int: ...


class LearningProjection:
    name = "learning"

    def __init__(
        self, layouts: dict[str, FactoryLayout], store: SnapshotStore | None = None, snapshot_every_s: float = 600.0
    ) -> None:
        self.state = LearningState(layouts)
        self.store = store
        self.snapshot_every_s = snapshot_every_s
        self._last_snapshot = -float("inf")

    def apply(self, ev: SensorEvent) -> None:
        self.state.apply(ev)

    def retain(self, cutoff: datetime) -> None:
        """Retention: cells keep their last cycles already (state.MAX_KEEP); the per-bundle style
        cache is the one thing that grows with history, and it is only a cache."""
        self.state._bundle_style.clear()

    def estimates(
        self, factory: str | None = None, line: str | None = None, worker: str | None = None
    ) -> list[SkillEstimate]:
        cells = sorted(self.state.iter_cells(factory, line, worker), key=lambda c: c.key)
        return self.state.estimates(cells)

    def estimates_beside(
        self,
        lock: AbstractContextManager[object],
        factory: str | None = None,
        line: str | None = None,
        worker: str | None = None,
    ) -> list[SkillEstimate]:
        """Like ``estimates``, but fitting happens outside ``lock`` (the ingest lock): cells are
        copied under it, fitted beside it, and the fits stored under it again, so a cold skill
        matrix of a big factory does not stop ingest for seconds."""
        with lock:
            cells = sorted(self.state.iter_cells(factory, line, worker), key=lambda c: c.key)
            jobs = self.state.fit_jobs(cells)
        results = self.state.run_jobs(jobs)
        with lock:
            self.state.store_fits(results)
            return self.state.estimates(cells)

    def snapshot(self, now: datetime | None = None, lock: AbstractContextManager[object] | None = None) -> int:
        """Write every cell's current estimate to ``learning_skills``; returns rows written.

        With ``lock`` (the ingest lock) fitting happens beside it and the write after it.
        """
        if self.store is None:
            return 0
        self._last_snapshot = time.monotonic()
        ests = self.estimates() if lock is None else self.estimates_beside(lock)
        return self.store.save(ests, now or datetime.now(UTC))

    def maybe_snapshot(self, lock: AbstractContextManager[object] | None = None) -> bool:
        """Snapshot if the last one is older than ``snapshot_every_s`` (called by readers)."""
        if self.store is None or time.monotonic() - self._last_snapshot < self.snapshot_every_s:
            return False
        try:
            self.snapshot(lock=lock)
        except SnapshotError:
            log.warning("learning snapshot skipped", exc_info=True)
            return False
        return True
