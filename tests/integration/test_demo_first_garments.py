"""The demo's floor looks like a factory from the first minutes (issue #21, item 3).

With work in progress preloaded (``bench/demo_floor.py``'s set-up, as ``seamline demo`` runs it)
every line ships a garment within minutes of the shift start under the seamline controller.
docs/simulator.md claims within 10 minutes. Seed 1 is the case that broke: a re-balance one
minute in put the jeans line's last operation on a lockstitch station halfway through a
12-piece waistband bundle on a substitute machine (the morning cover for an absent operator),
and the idle manual stations, told by their tablets to help where the most bundles waited,
helped upstream; the two bundles that needed only their final inspection waited 33 minutes.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from seamline.adapters.layout_files import load_factory
from seamline.entrypoints.demo_control import DemoControl
from seamline.sim import SimConfig
from seamline.sim.engine import Engine
from seamline.sim.floor_health import Ev, floor_health

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# docs/simulator.md: "every line ships its first garment within 10 minutes"
FIRST_GARMENT_MIN = 10.0


def test_every_preloaded_line_ships_a_garment_within_ten_minutes() -> None:
    layout = load_factory(ROOT / "examples" / "factory")
    cfg = SimConfig(
        seed=1,
        start=MONDAY,
        hours=1.0,
        record_pieces=False,
        motor_lines=(sorted(layout.lines)[0],),
        preload_wip_bundles_per_station=1.5,
    )
    eng = Engine(layout, cfg)
    stop = threading.Event()
    events: list[Ev] = []
    for topic, payload, ts, _ in DemoControl(layout, None).stream(eng, stop):
        if eng.sim_s(ts) > (FIRST_GARMENT_MIN + 2.0) * 60.0:
            break
        events.append((topic, payload, ts))
    stop.set()
    first = {line: h.first_garment_min for line, h in floor_health(layout, events).items()}
    assert set(first) == set(layout.lines)
    late = {line: m for line, m in first.items() if m is None or m > FIRST_GARMENT_MIN}
    assert not late, first
