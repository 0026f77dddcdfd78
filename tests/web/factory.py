"""A tiny hand-made factory for the page-logic tests: one line, three stations, one style."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from seamline.domain.model import (
    Break,
    Bundle,
    Factory,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)
CAL = ShiftCalendar(
    id="day", timezone="Asia/Shanghai", shift_start=time(8), shift_end=time(17), breaks=(Break(time(12), time(13)),)
)
STYLE = Style(
    "S1",
    "短裤",
    "Shorts",
    (
        Operation("A", "合裆", "Join crotch", 1.0, "OL4"),
        Operation("B", "上腰", "Attach waistband", 0.5, "SNLS", predecessors=("A",)),
        Operation("C", "卷脚", "Hem legs", 0.5, "FL", predecessors=("B",)),
    ),
    bundle_size=10,
)


def at(hh: int, mm: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hh, mm), TZ)


def layout(order_qty: int = 100, due: date = date(2026, 12, 31), operators: int = 3) -> FactoryLayout:
    lay = FactoryLayout(factory=Factory("F", "Test"), calendars={"day": CAL})
    lay.lines["L"] = Line("L", "F", "测试线 / Test line", "day", target_efficiency_pct=50.0)
    for i, mt in enumerate(("OL4", "SNLS", "FL")[:operators], 1):
        lay.stations[f"S{i}"] = Station(f"S{i}", "F", "L", f"sen{i}", mt, i)
        lay.workers[f"W{i}"] = Worker(f"W{i}", f"工人{i}", "L", {mt: 3})
    lay.styles["S1"] = STYLE
    lay.orders["O1"] = Order("O1", "ACME", "S1", {("M", "blue"): order_qty}, due)
    for b in range(1, order_qty // 10 + 1):
        lay.bundles[f"B{b}"] = Bundle(f"B{b}", "O1", "M", "blue", 10)
    return lay
