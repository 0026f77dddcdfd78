"""Quality as an ingest projection: DHU tallies, Pareto and alerts kept live from defect and piece
events, rebuilt from the event store at start-up like the live state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from ..domain.events import Defect, Login, Logout, Piece, SensorEvent
from ..domain.model import FactoryLayout
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

    def retain(self, cutoff: datetime) -> None:
        """Keep the hours from ``cutoff`` on (the retention window, service_layer/history.py)."""
        self.dhu.forget_before(cutoff)


def create(layouts: dict[str, FactoryLayout], engine: Engine) -> QualityProjection:
    return QualityProjection(layouts, engine)
