"""Quality as an ingest projection: DHU tallies, Pareto and alerts kept live from defect and piece
events, rebuilt from the event store at start-up like the live state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from ..domain.events import Defect, Login, Logout, Piece, SensorEvent
from ..domain.model import FactoryLayout
from ..domain.quality_rollup import QualityHistory, QualityRollupRow
from .dhu import DhuAggregator


class QualityProjection:
    name = "quality"

    def __init__(self, layouts: dict[str, FactoryLayout], engine: Engine) -> None:
        self.engine = engine
        self.layouts = layouts
        self.dhu = DhuAggregator(layouts)

    def apply(self, ev: SensorEvent) -> None:
        if isinstance(ev, (Piece, Defect, Login, Logout)):
            self.dhu.apply(ev)

    def retain(self, cutoff: datetime) -> list[QualityRollupRow]:
        """Keep the hours from ``cutoff`` on (the retention window, service_layer/history.py);
        the older ones are returned as rollup rows for the checkpoint to write."""
        return self.dhu.forget_before(cutoff)

    def bind_history(self, history: QualityHistory) -> None:
        """Where past hours are read back from (set at start-up, after a checkpoint is loaded)."""
        self.dhu.history = history


def create(layouts: dict[str, FactoryLayout], engine: Engine) -> QualityProjection:
    return QualityProjection(layouts, engine)
