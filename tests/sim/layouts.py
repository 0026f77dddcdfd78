"""Small factories built in code, so the simulator's tests need no files."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

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

SHORTS = Style(
    code="SHORTS",
    name_zh="短裤",
    name_en="knit shorts",
    bundle_size=10,
    operations=(
        Operation("S10", "合前后裆", "join crotch", 0.60, "OL4"),
        Operation("S20", "合侧缝", "side seams", 0.80, "OL4", 2, ("S10",)),
        Operation("S30", "上松紧腰", "attach elastic waist", 0.90, "FL", 3, ("S20",)),
        Operation("S40", "卷裤脚", "hem legs", 0.70, "FL", 2, ("S20",)),
        Operation("S50", "钉商标", "sew label", 0.30, "SNLS", 1, ("S30",)),
        Operation("S60", "剪线", "trim threads", 0.40, "MAN", 1, ("S40", "S50")),
    ),
)

STATION_TYPES = ("OL4", "OL4", "OL4", "OL4", "FL", "FL", "FL", "SNLS", "MAN", "MAN")


DAY_SHIFT = ShiftCalendar(
    id="day",
    timezone="Asia/Shanghai",
    shift_start=time(8, 0),
    shift_end=time(17, 0),
    breaks=(
        Break(time(10, 0), time(10, 10), "tea"),
        Break(time(12, 0), time(13, 0), "lunch"),
        Break(time(15, 0), time(15, 10), "tea"),
    ),
)


def small_factory(
    *,
    n_lines: int = 2,
    orders: list[Order] | None = None,
    spares: int = 1,
    grades: tuple[int, ...] = (2, 3, 4, 5),
    calendar: ShiftCalendar = DAY_SHIFT,
) -> FactoryLayout:
    """``n_lines`` lines of 10 stations, a worker per station plus spares, T-shirts and shorts."""
    cal = calendar
    lay = FactoryLayout(factory=Factory("F1", "Test Garments", cal.timezone), calendars={"day": cal})
    lay.styles = {TEE.code: TEE, SHORTS.code: SHORTS}
    k = 0
    for li in range(1, n_lines + 1):
        lid = f"L{li}"
        lay.lines[lid] = Line(lid, "F1", f"Line {li}", calendar_id="day")
        for pos, mt in enumerate(STATION_TYPES, 1):
            sid = f"{lid}-S{pos:02d}"
            lay.stations[sid] = Station(sid, "F1", lid, f"sensor-{sid}", mt, pos)
        for n in range(len(STATION_TYPES) + spares):
            k += 1
            badge = f"W{k:03d}"
            mt = STATION_TYPES[n % len(STATION_TYPES)]
            g = grades[k % len(grades)]
            skills = {mt: g, "MAN": 3}
            if mt == "OL4":
                skills["FL"] = max(1, g - 1)
            lay.workers[badge] = Worker(badge, f"Worker {k}", lid, skills)
    if orders is None:
        orders = [
            Order("O1", "Acme", "TEE", {("M", "white"): 120, ("L", "white"): 80}, date(2026, 11, 25)),
            Order("O2", "Acme", "SHORTS", {("M", "navy"): 100}, date(2026, 11, 26)),
            Order("O3", "Bolt", "TEE", {("S", "black"): 150, ("M", "black"): 150}, date(2026, 11, 27)),
            Order("O4", "Bolt", "SHORTS", {("L", "grey"): 300}, date(2026, 11, 28)),
        ]
    lay.orders = {o.id: o for o in orders}
    return lay
