"""Shared builders for the materials tests: the example factory cut down to one order and line."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import FactoryLayout
from seamline.sim import default_start

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "factory"


def example_layout() -> FactoryLayout:
    return load_factory(EXAMPLE)


def one_order_factory(order_id: str, line_id: str) -> FactoryLayout:
    """The example factory with a single order and the one line that will sew it."""
    lay = example_layout()
    lay.orders = {order_id: lay.orders[order_id]}
    lay.bundles = {k: b for k, b in lay.bundles.items() if b.order_id == order_id}
    lay.lines = {line_id: lay.lines[line_id]}
    lay.stations = {k: s for k, s in lay.stations.items() if s.line_id == line_id}
    lay.workers = {k: w for k, w in lay.workers.items() if w.line_id == line_id}
    return lay


def past_weekday_start(layout: FactoryLayout, days_back: int = 4) -> datetime:
    """A shift start in the past on Monday-Friday, so the next day is a workday too."""
    start = default_start(layout, datetime.now(layout.factory.tz) - timedelta(days=days_back))
    while start.weekday() > 4:
        start = default_start(layout, start - timedelta(hours=1))
    return start
