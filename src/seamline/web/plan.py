"""What the planner page and the overview's "orders at risk" compute until planning provides it.

Deliberately simple and explainable to a planner: every order's remaining work is its remaining
standard minutes (quantity × garment SAM − minutes already earned on it); a line turns standard
minutes out at operators × expected efficiency per minute of working time (shift minus breaks, on
workdays). Orders are loaded onto lines earliest-due first, an order already started staying on the
line that started it; an order is at risk when its projected finish falls after its due date.
The line balance is read from today's pieces: which stations did which operations, and what that
means in standard minutes per garment for each station.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from ..domain.live import LiveState
from ..domain.model import FactoryLayout, Order, ShiftCalendar
from .progress import OrderProgress

HORIZON_DAYS = 120


@dataclass(slots=True)
class OrderPlan:
    order: Order
    garment_sam_min: float
    done: int
    remaining_sam_min: float
    line: str | None = None
    start: datetime | None = None
    finish: datetime | None = None
    started: bool = False
    # (calendar, now, line rate): what the capacity until due is computed from, when asked (the
    # overview asks for the orders at risk only; walking the days to every due date is the plan's
    # largest cost).
    capacity_of: tuple[ShiftCalendar, datetime, float] | None = None

    @property
    def capacity_until_due_min(self) -> float:
        """Standard minutes the order's line turns out from now until the order's due day ends."""
        if self.capacity_of is None:
            return 0.0
        cal, now, rate = self.capacity_of
        return rate * working_minutes(cal, now, due_end(cal, self.order.due))

    @property
    def progress_pct(self) -> float:
        q = self.order.quantity
        return min(100.0, 100.0 * self.done / q) if q else 100.0


@dataclass(slots=True)
class LinePlan:
    line: str
    operators: int
    std_min_per_work_min: float
    orders: list[OrderPlan] = field(default_factory=list)


@lru_cache(maxsize=4096)
def working_windows(cal: ShiftCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The day's working time: the shift minus its breaks (empty on days off). Cached: the
    overview asks for the same days of the same calendars for every order, every second."""
    if day.weekday() not in cal.workdays:
        return []
    tz = cal.tz
    s = datetime.combine(day, cal.shift_start, tz)
    e_day = day if cal.shift_end > cal.shift_start else day + timedelta(days=1)
    e = datetime.combine(e_day, cal.shift_end, tz)
    out: list[tuple[datetime, datetime]] = []
    cur = s
    for bs, be in cal.break_intervals(s, e):
        if bs > cur:
            out.append((cur, bs))
        cur = max(cur, be)
    if cur < e:
        out.append((cur, e))
    return out


def advance(cal: ShiftCalendar, start: datetime, work_min: float) -> datetime:
    """The moment ``work_min`` minutes of working time after ``start`` have passed."""
    left = work_min
    day = start.astimezone(cal.tz).date()
    t = start
    for _ in range(HORIZON_DAYS * 2):
        for ws, we in working_windows(cal, day):
            s = max(ws, t)
            if s >= we:
                continue
            avail = (we - s).total_seconds() / 60.0
            if left <= avail:
                return s + timedelta(minutes=left)
            left -= avail
            t = we
        day += timedelta(days=1)
    return t + timedelta(minutes=left)


@lru_cache(maxsize=4096)
def _day_minutes(cal: ShiftCalendar, day: date) -> float:
    return sum((we - ws).total_seconds() / 60.0 for ws, we in working_windows(cal, day))


@lru_cache(maxsize=4096)
def _days_minutes(cal: ShiftCalendar, first: date, last: date) -> float:
    """Working minutes of the whole days first..last (cached: the same span for every second of a day)."""
    total, day = 0.0, first
    while day <= last:
        total += _day_minutes(cal, day)
        day += timedelta(days=1)
    return total


def working_minutes(cal: ShiftCalendar, start: datetime, end: datetime) -> float:
    if end <= start:
        return 0.0
    tz = cal.tz
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date()

    def part(day: date) -> float:
        total = 0.0
        for ws, we in working_windows(cal, day):
            s, e = max(ws, start), min(we, end)
            if e > s:
                total += (e - s).total_seconds() / 60.0
        return total

    # The first and the last two days are cut at start/end (a shift past midnight reaches into
    # the next day); the days between are whole.
    one = timedelta(days=1)
    total = part(first)
    if last - first >= 3 * one:
        total += _days_minutes(cal, first + one, last - 2 * one)
    day = max(first + one, last - one)
    while day <= last:
        total += part(day)
        day += one
    return total


def due_end(cal: ShiftCalendar, due: date) -> datetime:
    """An order due on a day is on time if finished by that day's shift end."""
    return datetime.combine(due, cal.shift_end, cal.tz)


def line_operators(layout: FactoryLayout, line: str) -> int:
    stations = sum(1 for s in layout.stations.values() if s.line_id == line)
    workers = sum(1 for w in layout.workers.values() if w.line_id == line)
    return min(stations, workers) if workers else stations


def load_orders(layout: FactoryLayout, progress: OrderProgress, live: LiveState, now: datetime) -> list[LinePlan]:
    """Earliest-due-first loading of the remaining work onto the lines (see the module text).

    Open orders only: a finished one (every standard minute earned, in memory or handed to the
    database by order progress) is on no line's list."""
    f = layout.factory.id
    lines: dict[str, LinePlan] = {}
    for lid, line in sorted(layout.lines.items()):
        ops = line_operators(layout, lid)
        lines[lid] = LinePlan(lid, ops, ops * line.target_efficiency_pct / 100.0)
    ran: dict[str, set[str]] = defaultdict(set)  # style -> lines that ran it
    for pf, style_code, lid in progress.ran:
        if pf == f:
            ran[style_code].add(lid)
    for (pf, lid), style_code in live.line_style.items():
        if pf == f:
            ran[style_code].add(lid)

    on_lines: dict[str, list[tuple[float, str]]] = defaultdict(list)  # order -> (earned, line)
    for (pf, lid, oid), lo in progress.by_line.items():
        if pf == f:
            on_lines[oid].append((lo.earned_min, lid))
    finished = progress.finished(f)  # out of memory: every minute earned, nothing left to plan
    plans: list[OrderPlan] = []
    sams: dict[str, float | None] = {}  # style -> garment SAM (a sum over its operations: once a style)
    for o in layout.orders.values():
        sam = sams.get(o.style_code, -1.0)
        if sam == -1.0:
            style = layout.styles.get(o.style_code)
            sam = sams[o.style_code] = style.sam_min if style is not None else None
        if sam is None:
            continue
        earned = progress.earned_min.get((f, o.id), 0.0)
        gone = finished.get(o.id)
        if gone is not None:
            earned += gone.earned_min
        remaining = o.quantity * sam - earned
        if remaining <= 0:
            continue  # finished: nothing to load on a line
        op = OrderPlan(o, sam, progress.done.get((f, o.id), 0) + (gone.done if gone else 0), remaining)
        on = on_lines.get(o.id)
        if on:
            op.line = max(on)[1]
            op.started = True
        plans.append(op)
    plans.sort(key=lambda p: (not p.started, p.order.due, -p.order.priority, p.order.id))

    free_at = {lid: now for lid in lines}
    for p in plans:
        if p.line is None:
            cands = sorted(ran.get(p.order.style_code, set())) or list(lines)
            p.line = min(cands, key=lambda lid: (free_at[lid], lid))
        lp = lines[p.line]
        cal = layout.calendar_for_line(p.line)
        rate = lp.std_min_per_work_min or 1e-9
        p.start = free_at[p.line]
        p.finish = advance(cal, p.start, p.remaining_sam_min / rate)
        free_at[p.line] = p.finish
        p.capacity_of = (cal, now, rate)
        lp.orders.append(p)
    return list(lines.values())


def at_risk(layout: FactoryLayout, p: OrderPlan) -> bool:
    if p.remaining_sam_min <= 0 or p.finish is None or p.line is None:
        return False
    return p.finish > due_end(layout.calendar_for_line(p.line), p.order.due)


@dataclass(slots=True)
class StationLoad:
    station: str
    worker: str | None
    ops: list[tuple[str, float]]  # (op code, share of the op's pieces done here)
    load_min: float  # standard minutes per garment this station carries


def balance(layout: FactoryLayout, live: LiveState, line: str, since: datetime) -> tuple[str | None, list[StationLoad]]:
    """Today's de-facto balance of a line: op → stations by share of pieces, load per station."""
    f = layout.factory.id
    style_code = live.line_style.get((f, line))
    style = layout.styles.get(style_code) if style_code else None
    if style is None:
        return None, []
    on_line = {s.id for s in layout.stations.values() if s.line_id == line}
    per_op: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (st, op, _h), n in live.op_pieces_between(f, since, datetime.max.replace(tzinfo=UTC)).items():
        if st in on_line:
            per_op[op][st] += n
    ops = style.op_map()
    loads: dict[str, StationLoad] = {}
    for code in style.topological_order():
        by_st = per_op.get(code)
        if not by_st:
            continue
        total = sum(by_st.values())
        for st, n in sorted(by_st.items()):
            share = n / total
            sl = loads.get(st)
            if sl is None:
                live_st = live.stations.get((f, st))
                sl = loads[st] = StationLoad(st, live_st.worker if live_st else None, [], 0.0)
            sl.ops.append((code, share))
            sl.load_min += share * ops[code].sam_min
    order = {s.id: (s.position, s.id) for s in layout.stations.values()}
    return style.code, sorted(loads.values(), key=lambda x: order.get(x.station, (0, x.station)))
