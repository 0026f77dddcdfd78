"""The learning projection: fed every accepted event by ingest (and the whole store at start-up).

``create(layouts, engine)`` is what ``seamline.bootstrap`` calls. Reading it from the API is done
under the pipeline lock, so estimates never see a half-applied event.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..domain.events import SensorEvent
from ..domain.model import FactoryLayout
from .repository import save_snapshot
from .state import LearningState, SkillEstimate

log = logging.getLogger(__name__)


class SnapshotError(RuntimeError):
    """The snapshot could not be written (most often: the ``learning_skills`` table is not migrated yet)."""


class LearningProjection:
    name = "learning"

    def __init__(self, layouts: dict[str, FactoryLayout], engine: Engine | None = None,
                 snapshot_every_s: float = 600.0) -> None:
        self.state = LearningState(layouts)
        self.engine = engine
        self.snapshot_every_s = snapshot_every_s
        self._last_snapshot = -float("inf")

    def apply(self, ev: SensorEvent) -> None:
        self.state.apply(ev)

    def estimates(self, factory: str | None = None, line: str | None = None,
                  worker: str | None = None) -> list[SkillEstimate]:
        cells = sorted(self.state.iter_cells(factory, line, worker), key=lambda c: c.key)
        return self.state.estimates(cells)

    def snapshot(self, now: datetime | None = None) -> int:
        """Write every cell's current estimate to ``learning_skills``; returns rows written."""
        if self.engine is None:
            return 0
        self._last_snapshot = time.monotonic()
        try:
            return save_snapshot(self.engine, self.estimates(), now or datetime.now(UTC))
        except SQLAlchemyError as e:
            raise SnapshotError(
                f"could not write learning_skills ({type(e).__name__}); is the database migrated "
                f"(seamline.adapters.tables_learning)?"
            ) from e

    def maybe_snapshot(self) -> bool:
        """Snapshot if the last one is older than ``snapshot_every_s`` (called by readers)."""
        if self.engine is None or time.monotonic() - self._last_snapshot < self.snapshot_every_s:
            return False
        try:
            self.snapshot()
        except SnapshotError:
            log.warning("learning snapshot skipped", exc_info=True)
            return False
        return True


def create(layouts: dict[str, FactoryLayout], engine: Engine) -> LearningProjection:
    return LearningProjection(layouts, engine)
