"""One call from data to report, shared by the API, the page, the PDF and the CLI."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from seamline.adapters.event_store import EventStore
from seamline.domain.live import LiveState

from .collect import Collected, collect, default_period
from .did import RESAMPLES as DID_RESAMPLES
from .did import LineDay
from .inputs import RoiInputs, inputs_from_dict, load_settings, with_measured
from .measure import measure
from .pilot import PilotConfig, assess_pilot, local_midnight, sensor_line_days
from .report import Query, build_report
from .spread import RESAMPLES, RoiResult, assess
from .store import latest_forecasts, load_report

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
    before: Collected | None = None


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
    before_start: datetime | None = None,
    before_end: datetime | None = None,
) -> Assessment:
    """Collect, assess and report. A before-period (arguments, else ``settings["before_period"]``)
    is measured from the same data and replaces the hand baseline's figures it can measure."""
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
    period = settings.get("before_period") or {}
    if before_start is None and period.get("start"):
        before_start = datetime.fromisoformat(period["start"])
    if before_end is None and period.get("end"):
        before_end = datetime.fromisoformat(period["end"])
    before: Collected | None = None
    before_source = ("", "")
    if before_start is not None and before_end is not None:
        if before_start.tzinfo is None or before_end.tzinfo is None or before_end <= before_start:
            raise ValueError("the before-period needs aware start < end")
        before = collect(
            live,
            store,
            factory,
            before_start,
            before_end,
            lines=lines,
            small_order_max_qty=inputs.rates.small_order_max_qty,
            lock=lock,
        )
        b0, b1 = before_start.isoformat(), before_end.isoformat()
        before_source = (f"measured, before-period {b0} to {b1}", f"实测，改造前时期 {b0} 至 {b1}")
        measured = measure(before.blocks, inputs.rates.workdays_per_month).metrics
        inputs = replace(inputs, baseline=with_measured(inputs.baseline, measured, *before_source))
    res = assess(
        col.blocks,
        inputs,
        col.block_kind,
        resamples,
        before=before.blocks if before else (),
        before_source=before_source,
    )
    q = Query(start, end, tuple(lines) if lines else None, before_start, before_end)
    report = build_report(col, inputs, res, q)
    report["settings_file"] = settings_file
    report["before_period"] = (
        {"start": before.start.isoformat(), "end": before.end.isoformat(), "blocks": len(before.blocks)}
        if before
        else None
    )
    return Assessment(col, inputs, res, report, q, settings_file, before)


def load(explicit: str | Path | None = None) -> tuple[dict[str, Any], str]:
    p = settings_path(explicit)
    return load_settings(p), str(p)


def assess_pilot_factory(
    live: LiveState,
    store: EventStore,
    engine: Engine,
    factory: str,
    settings: dict[str, Any],
    now: datetime | None = None,
    pilot: PilotConfig | None = None,
    lock: AbstractContextManager[Any] | None = None,
    resamples: int = DID_RESAMPLES,
) -> dict[str, Any]:
    """The pilot against its control lines (docs/roi.md, "Pilot against control lines").

    ``pilot`` (else ``settings["pilot"]``) names the lines; without one the answer says so
    (``configured: False``). Days up to yesterday in the factory's time zone count; today never."""
    cfg = pilot or PilotConfig.from_settings(settings.get("pilot"))
    if cfg is None:
        return {"configured": False}
    layout = live.layouts[factory]
    tz = live.tz(factory)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    stations = sum(1 for s in layout.stations.values() if s.line_id in cfg.pilot_lines)
    inputs = inputs_from_dict(settings, stations_default=stations, tablets_default=len(cfg.pilot_lines))
    rows = load_report(engine, factory, cfg.pilot_lines + cfg.control_lines)
    sensor_days: list[LineDay] = []
    if today > cfg.sensors_from:
        start = local_midnight(cfg.sensors_from, tz)
        end = local_midnight(today, tz)
        for line in cfg.pilot_lines:
            if line not in layout.lines:
                continue  # a pilot line has sensors, so it is in the layout; else it has no sensor days
            col = collect(live, store, factory, start, end, lines=[line], block_kind="day", lock=lock)
            sensor_days += sensor_line_days(col.blocks, line)
    forecasts = {m: f.as_dict() for m, f in latest_forecasts(engine, factory, cfg.pilot_lines).items()}
    out = assess_pilot(rows, sensor_days, cfg, inputs, today, forecasts, resamples)
    out["factory"] = factory
    out["factory_name"] = layout.factory.name
    return out
