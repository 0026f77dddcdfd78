"""Small factories built in code for the quality tests."""

from __future__ import annotations

from datetime import date, time

from seamline.domain.cutting import cut_order
from seamline.domain.model import (
    Break,
    Factory,
    FactoryLayout,
    Line,
    Order,
    ShiftCalendar,
    Station,
    Worker,
)

# The simulator's tests define the same small style and day; the quality tests share them.
from tests.sim.layouts import MONDAY_8, TEE, TZ  # noqa: F401 - re-exported for the quality tests

STATION_TYPES = ("OL4", "OL4", "OL4", "OL4", "FL", "FL", "FL", "MAN")


def tee_factory(lines: int = 1, qty: int = 2000) -> FactoryLayout:
    """``lines`` lines of 8 stations sewing TEE, one worker per station, one order per line."""
    cal = ShiftCalendar(
        id="day",
        timezone="Asia/Shanghai",
        shift_start=time(8, 0),
        shift_end=time(17, 0),
        breaks=(Break(time(12, 0), time(13, 0), "lunch"),),
    )
    lay = FactoryLayout(factory=Factory("F1", "Test Garments", "Asia/Shanghai"), calendars={"day": cal})
    lay.styles["TEE"] = TEE
    for li in range(1, lines + 1):
        lid = f"L{li}"
        lay.lines[lid] = Line(lid, "F1", f"Line {li}", calendar_id="day")
        for pos, mt in enumerate(STATION_TYPES, 1):
            sid = f"{lid}-S{pos:02d}"
            lay.stations[sid] = Station(sid, "F1", lid, f"sensor-{sid}", mt, pos)
            badge = f"W{li}{pos:02d}"
            lay.workers[badge] = Worker(badge, f"Worker {badge}", lid, {"OL4": 3, "FL": 3, "MAN": 3})
        oid = f"O{li}"
        order = Order(oid, "ACME", "TEE", {("M", "white"): qty}, due=date(2026, 12, 20))
        lay.orders[oid] = order
        for b in cut_order(order, TEE):
            lay.bundles[b.id] = b
    return lay
