"""Does the demo look like a factory? Starved stations, first garments, line efficiency (issue #21).

Runs the simulator exactly as `seamline demo` does (sample factory, seed, motor sensors on the first
line, 1.5 bundles per station of work in progress at the start, the floor following the seamline
controller, `entrypoints/demo_control.py`, with no server to record its directives) from a
Monday shift start; as baselines in the same run, the same preloaded floor on the simulator's own
balance (the demo before it followed seamline) and that floor starting with empty lines. Figures
come from the event stream alone (`seamline.sim.floor_health`): what the pages would show.

    .venv/bin/python bench/demo_floor.py [--seeds 5] [--hours 8] [--quick]

The last line is one JSON object: per set-up (demo / sim_balance / empty) the first hour's starved
share and latest first garment, and over the shift each line's efficiency and starved share, seed
means; `seamline_vs_sim_eff_ratio` is the demo's mean line efficiency over the sim_balance one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import add_quick

from seamline.adapters.layout_files import load_factory
from seamline.entrypoints.demo_control import DemoControl
from seamline.sim import SimConfig, simulate
from seamline.sim.engine import Engine
from seamline.sim.floor_health import Ev, floor_health

REPO = Path(__file__).resolve().parents[1]
START = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday shift start


def latest(mins: list[float | None]) -> float | None:
    """The latest first garment (minutes after the shift start); None when a line shipped none."""
    return None if any(m is None for m in mins) else round(max(m for m in mins if m is not None), 1)


def seamline_events(layout: Any, cfg: SimConfig) -> list[Ev]:
    """The floor under the demo's controller (what ``entrypoints/demo_control.py`` runs)."""
    eng = Engine(layout, cfg)
    stop = threading.Event()
    out: list[Ev] = []
    end = cfg.hours * 3600.0
    for topic, payload, ts, _ in DemoControl(layout, None).stream(eng, stop):
        if eng.sim_s(ts) > end:
            break
        out.append((topic, payload, ts))
    stop.set()
    return out


def measure(setup: str, seed: int, hours: float) -> dict[str, Any]:
    layout = load_factory(REPO / "examples" / "factory")
    preload = 0.0 if setup == "empty" else 1.5
    cfg = SimConfig(
        seed=seed,
        start=START,
        hours=hours,
        record_pieces=False,
        motor_lines=(sorted(layout.lines)[0],),
        preload_wip_bundles_per_station=preload,
    )
    events = seamline_events(layout, cfg) if setup == "demo" else simulate(layout, cfg).events
    first = floor_health(layout, [e for e in events if (e[2] - START).total_seconds() < 3600])
    shift = floor_health(layout, events)
    att1 = sum(h.attended_min for h in first.values())
    att = sum(h.attended_min for h in shift.values())
    return {
        "first_hour_starved_share": sum(h.starved_min for h in first.values()) / att1,
        "first_hour_lines_with_garments": sum(1 for h in first.values() if h.garments > 0),
        "first_garment_max_min": latest([h.first_garment_min for h in shift.values()]),
        "first_garment_min": {k: h.first_garment_min for k, h in shift.items()},
        "starved_share": sum(h.starved_min for h in shift.values()) / att,
        "line_eff_pct": {k: h.efficiency_pct for k, h in shift.items()},
        "line_starved_share": {k: h.starved_share for k, h in shift.items()},
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(xs: list[float]) -> float:
        return round(statistics.fmean(xs), 3)

    lines = sorted(runs[0]["line_eff_pct"])
    return {
        "first_hour_starved_share": mean([r["first_hour_starved_share"] for r in runs]),
        "first_hour_lines_with_garments_min": min(r["first_hour_lines_with_garments"] for r in runs),
        "first_garment_max_min": latest([r["first_garment_max_min"] for r in runs]),
        "line_first_garment_max_min": {k: latest([r["first_garment_min"][k] for r in runs]) for k in lines},
        "starved_share": mean([r["starved_share"] for r in runs]),
        "line_eff_pct": {k: round(statistics.fmean(r["line_eff_pct"][k] for r in runs), 1) for k in lines},
        "line_starved_share": {k: mean([r["line_starved_share"][k] for r in runs]) for k in lines},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--hours", type=float, default=8.0)
    add_quick(ap)
    a = ap.parse_args()
    seeds = 1 if a.quick else a.seeds
    hours = 2.0 if a.quick else a.hours
    t0 = time.monotonic()
    out: dict[str, Any] = {"seeds": seeds, "hours": hours}
    for name in ("demo", "sim_balance", "empty"):
        runs = [measure(name, seed, hours) for seed in range(1, seeds + 1)]
        s = summarise(runs)
        out[name] = s
        first = s["first_garment_max_min"]
        first_txt = "none" if first is None else f"{first:.0f} min"
        print(
            f"{name:11s}: first hour starved {s['first_hour_starved_share']:.0%}, latest first garment {first_txt};"
            f" shift starved {s['starved_share']:.0%}; line efficiency "
            + ", ".join(f"{k} {v:.0f} %" for k, v in s["line_eff_pct"].items())
        )
    out["first_hour_starved_ratio"] = round(
        out["demo"]["first_hour_starved_share"] / max(out["empty"]["first_hour_starved_share"], 1e-9), 3
    )
    effs = {k: statistics.fmean(out[k]["line_eff_pct"].values()) for k in ("demo", "sim_balance")}
    out["seamline_vs_sim_eff_ratio"] = round(effs["demo"] / max(effs["sim_balance"], 1e-9), 3)
    out["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
