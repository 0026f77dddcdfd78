"""The factory's master data: who and what the sensor events talk about.

Pure Python (no I/O). These objects are what the importers build, the store persists and the
ingest pipeline validates events against. Names carry units: ``sam_min`` is standard allowed
minutes, durations of work are seconds (``*_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MACHINE_TYPES: dict[str, tuple[str, str]] = {
    # code: (English, Chinese)
    "SNLS": ("single-needle lockstitch", "单针平车"),
    "DNLS": ("double-needle lockstitch", "双针平车"),
    "OL3": ("3-thread overlock", "三线包缝机"),
    "OL4": ("4-thread overlock", "四线包缝机"),
    "OL5": ("5-thread overlock", "五线包缝机"),
    "FL": ("flatlock / coverstitch", "绷缝机"),
    "FOA": ("feed-off-the-arm", "埋夹机"),
    "BT": ("bartack", "打枣机"),
    "BH": ("buttonhole", "锁眼机"),
    "BS": ("button sew", "钉扣机"),
    "BL": ("belt-loop", "串带机"),
    "WB": ("waistband attaching", "上腰机"),
    "MAN": ("manual", "手工"),
    "IRON": ("ironing", "熨烫"),
}


class DomainError(ValueError):
    """A rule of the domain was broken; the message says which and where."""


@dataclass(frozen=True, slots=True)
class Factory:
    id: str
    name: str
    timezone: str = "Asia/Shanghai"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    factory_id: str
    name: str
    calendar_id: str = "default"
    # Expected line efficiency used for the hourly target (typical lines run 40-65 %).
    target_efficiency_pct: float = 60.0


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    factory_id: str
    line_id: str
    sensor_id: str
    machine_type: str
    position: int = 0


@dataclass(frozen=True, slots=True)
class Worker:
    badge: str
    name: str
    line_id: str | None = None
    # machine type (or operation code) -> grade 1 (learner) .. 5 (master)
    skills: dict[str, int] = field(default_factory=dict, hash=False, compare=True)
    skill_group: str = "general"

    def grade_for(self, machine_type: str, op_code: str | None = None) -> int:
        if op_code is not None and op_code in self.skills:
            return self.skills[op_code]
        return self.skills.get(machine_type, 0)


@dataclass(frozen=True, slots=True)
class Operation:
    """One line of an operation bulletin."""

    code: str
    name_zh: str
    name_en: str
    sam_min: float
    machine_type: str
    skill_grade: int = 1
    predecessors: tuple[str, ...] = ()
    instruction: str = ""

    def __post_init__(self) -> None:
        if not self.code:
            raise DomainError("operation code is empty")
        if not self.sam_min > 0:
            raise DomainError(f"operation {self.code}: sam_min must be > 0, got {self.sam_min}")


@dataclass(frozen=True, slots=True)
class Style:
    code: str
    name_zh: str
    name_en: str
    operations: tuple[Operation, ...]
    bundle_size: int = 20

    def __post_init__(self) -> None:
        codes = [op.code for op in self.operations]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise DomainError(f"style {self.code}: duplicate operation codes {sorted(dupes)}")
        known = set(codes)
        for op in self.operations:
            missing = [p for p in op.predecessors if p not in known]
            if missing:
                raise DomainError(f"style {self.code}: operation {op.code} follows unknown {missing}")
        self.topological_order()  # raises on a cycle

    @property
    def sam_min(self) -> float:
        """Garment SAM: the sum of the bulletin's operation SAMs."""
        return sum(op.sam_min for op in self.operations)

    def op(self, code: str) -> Operation:
        for o in self.operations:
            if o.code == code:
                return o
        raise KeyError(code)

    def op_map(self) -> dict[str, Operation]:
        return {o.code: o for o in self.operations}

    def successors(self) -> dict[str, list[str]]:
        succ: dict[str, list[str]] = {o.code: [] for o in self.operations}
        for o in self.operations:
            for p in o.predecessors:
                succ[p].append(o.code)
        return succ

    def final_operations(self) -> list[str]:
        """Operations nothing follows: a piece there is a finished garment."""
        return [c for c, s in self.successors().items() if not s]

    def topological_order(self) -> list[str]:
        """Bulletin order respecting precedence (Kahn's algorithm, stable on bulletin order)."""
        indeg = {o.code: len(o.predecessors) for o in self.operations}
        succ = self.successors()
        ready = [o.code for o in self.operations if indeg[o.code] == 0]
        order: list[str] = []
        while ready:
            c = ready.pop(0)
            order.append(c)
            for s in succ[c]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    ready.append(s)
        if len(order) != len(self.operations):
            cyc = sorted(c for c, d in indeg.items() if d > 0)
            raise DomainError(f"style {self.code}: precedence has a cycle through {cyc}")
        return order


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    customer: str
    style_code: str
    # (size, colour) -> pieces
    quantities: dict[tuple[str, str], int] = field(hash=False)
    due: date
    priority: int = 0

    @property
    def quantity(self) -> int:
        return sum(self.quantities.values())


@dataclass(frozen=True, slots=True)
class Bundle:
    id: str
    order_id: str
    size: str
    colour: str
    qty: int


@dataclass(frozen=True, slots=True)
class Break:
    start: time
    end: time
    name: str = "break"


@dataclass(frozen=True, slots=True)
class ShiftCalendar:
    """Scheduled breaks (local wall-clock times of the factory) and the regular shift.

    Attended time is login → logout minus the scheduled breaks that fall inside it.
    """

    id: str
    timezone: str = "Asia/Shanghai"
    shift_start: time = time(8, 0)
    shift_end: time = time(17, 0)
    breaks: tuple[Break, ...] = ()
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday=0; six-day weeks are common

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def break_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Scheduled break intervals (aware datetimes) overlapping [start, end), clipped to it."""
        if start.tzinfo is None or end.tzinfo is None:
            raise DomainError("break_intervals needs timezone-aware datetimes")
        if end <= start or not self.breaks:
            return []
        tz = self.tz
        out: list[tuple[datetime, datetime]] = []
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date()
        while day <= last:
            for b in self.breaks:
                bs = datetime.combine(day, b.start, tz)
                be_day = day if b.end > b.start else day + timedelta(days=1)
                be = datetime.combine(be_day, b.end, tz)
                s, e = max(bs, start), min(be, end)
                if s < e:
                    out.append((s, e))
            day += timedelta(days=1)
        out.sort()
        return out

    def break_seconds(self, start: datetime, end: datetime) -> float:
        return sum((e - s).total_seconds() for s, e in self.break_intervals(start, end))

    def attended_s(self, start: datetime, end: datetime) -> float:
        """Seconds between start and end that are not scheduled break."""
        if end <= start:
            return 0.0
        return (end - start).total_seconds() - self.break_seconds(start, end)

    def shift_minutes(self) -> float:
        """Scheduled working minutes of one regular shift, breaks excluded."""
        d = date(2026, 1, 5)
        tz = self.tz
        s = datetime.combine(d, self.shift_start, tz)
        e_day = d if self.shift_end > self.shift_start else d + timedelta(days=1)
        e = datetime.combine(e_day, self.shift_end, tz)
        return self.attended_s(s, e) / 60.0


@dataclass(slots=True)
class FactoryLayout:
    """Everything the ingest pipeline validates events against, in one place."""

    factory: Factory
    lines: dict[str, Line] = field(default_factory=dict)
    stations: dict[str, Station] = field(default_factory=dict)
    workers: dict[str, Worker] = field(default_factory=dict)
    styles: dict[str, Style] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    calendars: dict[str, ShiftCalendar] = field(default_factory=dict)

    def calendar_for_line(self, line_id: str) -> ShiftCalendar:
        line = self.lines.get(line_id)
        cal_id = line.calendar_id if line else "default"
        return self.calendars.get(cal_id) or ShiftCalendar(id="default", timezone=self.factory.timezone)

    def style_of_bundle(self, bundle_id: str) -> Style | None:
        b = self.bundles.get(bundle_id)
        if b is None:
            return None
        o = self.orders.get(b.order_id)
        if o is None:
            return None
        return self.styles.get(o.style_code)
