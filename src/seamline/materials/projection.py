"""Bundle routing as an ingest projection: fed every accepted event, rebuilt from the store at start-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from seamline.domain.events import SensorEvent
from seamline.domain.model import FactoryLayout

from .routing import Routing


class MaterialsProjection:
    name = "materials"

    def __init__(self, layouts: dict[str, FactoryLayout], engine: Engine) -> None:
        self.engine = engine
        self.layouts = layouts
        self.routing = Routing(layouts)

    def apply(self, ev: SensorEvent) -> None:
        self.routing.apply(ev)

    def retain(self, cutoff: datetime) -> None:
        self.routing.forget_before(cutoff)
        self.routing.pack_sewn()


def create(layouts: dict[str, FactoryLayout], engine: Engine) -> MaterialsProjection:
    return MaterialsProjection(layouts, engine)
