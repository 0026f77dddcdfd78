"""Small factories built in code for the quality tests."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from seamline.domain.cutting import cut_order
from seamline.domain.model import (
    Break,
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
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)

TEE = Style(
    code="TEE",
    name_zh="基本款T恤",
    name_en="basic T-shirt",
    bundle_size=10,
    operations=(
        Operation("T10", "合肩", "join shoulders", 0.35, "OL4"),
        Operation("T20", "上领", "attach neck rib", 0.45, "OL4", 2, ("T10",)),
        Operation("T30", "压领", "topstitch neck", 0.40, "FL", 2, ("T20",)),
        Operation("T40", "上袖", "attach sleeves", 0.70, "OL4", 3, ("T20",)),
        Operation("T50", "合侧缝", "side seams", 0.80, "OL4", 2, ("T40",)),
        Operation("T60", "卷袖口", "hem sleeves", 0.50, "FL", 2, ("T50",)),
        Operation("T70", "卷下摆", "hem bottom", 0.50, "FL", 2, ("T50",)),
        Operation("T80", "剪线", "trim threads", 0.40, "MAN", 1, ("T30", "T60", "T70")),
    ),
)

STATION_TYPES = ("OL4", "OL4", "OL4", "OL4", "FL", "FL", "FL", "MAN")


def tee_factory(lines: int = 1, qty: int = 2000) -> FactoryLayout:
    """``lines`` lines of 8 stations sewing TEE, one worker per station, one order per line."""
    cal = ShiftCalendar(id="day", timezone="Asia/Shanghai", shift_start=time(8, 0), shift_end=time(17, 0),
                        breaks=(Break(time(12, 0), time(13, 0), "lunch"),))
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
