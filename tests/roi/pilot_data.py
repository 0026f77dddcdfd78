"""A small pilot for the CLI, API and page tests: one line with sensors, two control lines without.

The pilot line L1 is the one-line factory of ``tests.conftest.tiny_layout`` with an order big
enough for two simulated weeks; the simulator (ground truth) makes its sensor events for the two
weeks from ``SENSORS_FROM``. The daily production report (CSV, Chinese headers) gives the
controls L2 and L3 — not in the layout: they have no sensors — for four weeks from
``REPORT_FROM``, and L1 for its two weeks before. The weeks are placed five weeks before today,
so every day is over whatever the clock says (the import refuses dates in the future).
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from seamline.bootstrap import bootstrap
from seamline.domain.cutting import cut_order
from seamline.domain.model import FactoryLayout, Order
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, simulate
from tests.conftest import tiny_layout

TZ = ZoneInfo("Asia/Shanghai")
_TODAY = datetime.now(TZ).date()
REPORT_FROM = _TODAY - timedelta(days=_TODAY.weekday() + 35)  # a Monday five weeks back
SENSORS_FROM = REPORT_FROM + timedelta(days=14)  # a Monday
REPORT_TO = REPORT_FROM + timedelta(days=26)  # the Saturday two weeks later
SENSOR_WORKDAYS = 12  # 16-28 Nov, Sundays off
HEADER = ["日期", "产线", "款号", "标准工时(分钟)", "产量", "出勤人数", "工作小时", "加班小时", "疵点数", "备注"]


def zh_day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def seamline_exe() -> str:
    """The installed console script of this environment (what users run)."""
    exe = Path(sys.executable).parent / "seamline"
    assert exe.exists(), f"the seamline command is not installed next to {sys.executable}: run make venv"
    return str(exe)


def pilot_layout() -> FactoryLayout:
    lay = tiny_layout()
    big = Order(id="O2", customer="ACME", style_code="HEM", quantities={("M", "Blue"): 30000}, due=date(2026, 12, 20))
    lay.orders[big.id] = big
    for b in cut_order(big, lay.styles["HEM"]):
        lay.bundles[b.id] = b
    return lay


def workdays(a: date, b: date) -> list[date]:
    out, d = [], a
    while d <= b:
        if d.weekday() != 6:
            out.append(d)
        d += timedelta(days=1)
    return out


def write_report(path: Path, seed: int = 1) -> int:
    """The daily report CSV; returns the number of data rows."""
    rng = np.random.default_rng(seed)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for d in workdays(REPORT_FROM, REPORT_TO):
            for line, level in (("L1", 35.0), ("L2", 45.0), ("L3", 40.0)):
                if line == "L1" and d >= SENSORS_FROM:
                    continue
                eff = level + rng.normal(0, 2)
                workers, hours = 30, 9.0
                sam = 12.0
                out = round(eff / 100 * workers * hours * 60 / sam)
                w.writerow([d.isoformat(), line, "POLO", sam, out, workers, hours, 1, round(out * 0.03), ""])
                n += 1
    return n


def settings(path: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "pilot": {"lines": ["L1"], "controls": ["L2", "L3"], "sensors_from": SENSORS_FROM.isoformat()},
                "rates": {"wage_per_hour": "30"},
            }
        ),
        encoding="utf-8",
    )
    return path


def load_sensors(db_url: str) -> None:
    """Save the layout and ingest two simulated weeks of L1's sensor events."""
    lay = pilot_layout()
    start = datetime.combine(SENSORS_FROM, datetime.min.time(), TZ).replace(hour=8)
    sim = simulate(lay, SimConfig(seed=3, start=start, hours=24 * 13))
    rt = bootstrap(db_url)
    try:
        rt.save_layout(lay)
        raws = [RawEvent(p, source="mqtt", topic=t) for t, p, _ in sim.events]
        for i in range(0, len(raws), 4000):
            rt.worker.submit_future(raws[i : i + 4000]).result(120)
    finally:
        rt.close()
