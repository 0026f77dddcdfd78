"""One call from data to report, shared by the API, the page, the PDF and the CLI."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from seamline.adapters.event_store import EventStore
from seamline.domain.live import LiveState

from .collect import Collected, collect, default_period
from .inputs import RoiInputs, inputs_from_dict, load_settings
from .report import Query, build_report
from .spread import RESAMPLES, RoiResult, assess

EXAMPLE_SETTINGS = Path(__file__).parent / "data" / "demo_settings.json"
SETTINGS_ENV = "SEAMLINE_ROI_SETTINGS"


def settings_path(explicit: str | Path | None = None) -> Path:
    """``explicit``, else $SEAMLINE_ROI_SETTINGS, else the example settings shipped for the demo."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(SETTINGS_ENV)
    return Path(env) if env else EXAMPLE_SETTINGS


@dataclass(slots=True)
class Assessment:
    collected: Collected
    inputs: RoiInputs
    result: RoiResult
    report: dict[str, Any]
    query: Query
    settings_file: str


def assess_factory(
    live: LiveState,
    store: EventStore,
    factory: str,
    settings: dict[str, Any],
    start: datetime | None = None,
    end: datetime | None = None,
    lines: list[str] | None = None,
    lock: AbstractContextManager[Any] | None = None,
    resamples: int = RESAMPLES,
    settings_file: str = "",
) -> Assessment:
    layout = live.layouts[factory]
    scope_lines = lines or sorted(layout.lines)
    stations = sum(1 for s in layout.stations.values() if s.line_id in scope_lines)
    inputs = inputs_from_dict(settings, stations_default=stations, tablets_default=len(scope_lines))
    with lock or nullcontext():
        if start is None or end is None:
            s0, e0 = default_period(live, factory)
            start, end = start or s0, end or e0
        col = collect(
            live, store, factory, start, end, lines=lines, small_order_max_qty=inputs.rates.small_order_max_qty
        )
    res = assess(col.blocks, inputs, col.block_kind, resamples)
    q = Query(start, end, tuple(lines) if lines else None)
    report = build_report(col, inputs, res, q)
    report["settings_file"] = settings_file
    return Assessment(col, inputs, res, report, q, settings_file)


def load(explicit: str | Path | None = None) -> tuple[dict[str, Any], str]:
    p = settings_path(explicit)
    return load_settings(p), str(p)
