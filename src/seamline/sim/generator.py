"""Offline mode: simulate a stretch of time at full speed and hand back events and truth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seamline.domain.model import FactoryLayout

from .config import SimConfig
from .engine import Engine

# (topic, payload bytes, event time)
Event = tuple[str, bytes, datetime]


@dataclass(slots=True)
class SimResult:
    events: list[Event]
    truth: dict[str, Any]
    start: datetime
    end: datetime
    run_id: str


def simulate(layout: FactoryLayout, config: SimConfig | None = None) -> SimResult:
    """Run ``config.hours`` of simulated time from ``config.start``; events are in time order."""
    config = config or SimConfig()
    eng = Engine(layout, config)
    emitted = eng.run_until(config.hours * 3600.0)
    return SimResult(
        events=[(topic, payload, ts) for topic, payload, ts, _ in emitted],
        truth=eng.truth_dict(),
        start=eng.start,
        end=eng.now_dt(),
        run_id=eng.run_id,
    )
