"""A small factory and an event builder for the compliance and pay tests.

Calendars (Asia/Shanghai): day shift 08:00-17:00 with lunch 12:00-13:00; night shift 20:00-05:00 with
a break 00:00-00:30; both Monday-Saturday. March 2026 starts on a Sunday: 2026-03-02 is a Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from seamline.domain.events import Defect, Login, Logout, Piece
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
FACTORY = "F1"


def at(day: str, hhmm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), TZ)


def make_layout() -> FactoryLayout:
    day_cal = ShiftCalendar(
        id="day", shift_start=time(8), shift_end=time(17), breaks=(Break(time(12), time(13), "lunch"),)
    )
    night_cal = ShiftCalendar(
        id="night", shift_start=time(20), shift_end=time(5), breaks=(Break(time(0), time(0, 30), "meal"),)
    )
    style = Style(
        code="T1",
        name_zh="T恤",
        name_en="T-shirt",
        operations=(
            Operation("A", "合肩", "join shoulders", 0.5, "OL4"),
            Operation("B", "上袖", "attach sleeves", 1.2, "OL4", predecessors=("A",)),
        ),
    )
    lay = FactoryLayout(factory=Factory(FACTORY, "Test Garments", "Asia/Shanghai"))
    lay.calendars = {"day": day_cal, "night": night_cal}
    lay.lines = {"L1": Line("L1", FACTORY, "Line 1", "day"), "L2": Line("L2", FACTORY, "Line 2", "night")}
    lay.stations = {
        "S1": Station("S1", FACTORY, "L1", "sen-1", "OL4", 1),
        "S2": Station("S2", FACTORY, "L1", "sen-2", "OL4", 2),
        "S3": Station("S3", FACTORY, "L2", "sen-3", "OL4", 1),
    }
    lay.workers = {
        "W1": Worker("W1", "Li Na", "L1"),
        "W2": Worker("W2", "Wang Fang", "L1"),
        "W3": Worker("W3", "Zhang Wei", "L2"),
    }
    lay.styles = {"T1": style}
    lay.orders = {
        "O1": Order("O1", "ACME", "T1", {("M", "red"): 500}, date(2026, 4, 30)),
        "O2": Order("O2", "BETA", "T1", {("L", "blue"): 500}, date(2026, 4, 30)),
    }
    lay.bundles = {"B1": Bundle("B1", "O1", "M", "red", 100), "B2": Bundle("B2", "O2", "L", "blue", 100)}
    return lay


class Ev:
    """Builds sensor events with unique ids and per-station sequence numbers."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._seq: dict[str, int] = {}

    def _base(self, station: str, ts: datetime) -> dict:
        n = self._seq.get(station, 0)
        self._seq[station] = n + 1
        return {"id": f"{station}-{n}", "seq": n, "ts": ts, "factory": FACTORY, "station": station}

    def login(self, worker: str, station: str, ts: datetime) -> Login:
        e = Login(worker=worker, **self._base(station, ts))
        self.events.append(e)
        return e

    def logout(self, worker: str, station: str, ts: datetime) -> Logout:
        e = Logout(worker=worker, **self._base(station, ts))
        self.events.append(e)
        return e

    def piece(self, station: str, ts: datetime, op: str = "A", qty: int = 1, bundle: str = "B1") -> Piece:
        e = Piece(bundle=bundle, op=op, qty=qty, **self._base(station, ts))
        self.events.append(e)
        return e

    def defect(self, station: str, ts: datetime, op: str = "A", qty: int = 1, bundle: str = "B1") -> Defect:
        e = Defect(bundle=bundle, op=op, defect="open-seam", qty=qty, **self._base(station, ts))
        self.events.append(e)
        return e

    def shift(self, worker: str, station: str, day: str, start: str, end: str) -> None:
        self.login(worker, station, at(day, start))
        self.logout(worker, station, at(day, end))
