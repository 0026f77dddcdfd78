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

import bisect
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from ..domain.live import LiveState
from ..domain.model import FactoryLayout, Order, ShiftCalendar
from ..domain.order_state import planned
from ..planning.work_clock import US_PER_MIN, WorkClock, WorkClocks
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


CLOCKS = WorkClocks(working_windows)  # every calendar's working-time axis, shared by all pages


@dataclass(frozen=True, slots=True)
class _Slot:
    """One open order in a plan laid out from "now": offsets are microseconds of work on its
    line's clock after now (a plan that only time moved is the same list of slots)."""

    order: Order
    garment_sam_min: float
    done: int
    remaining_sam_min: float
    line: str
    started: bool
    begin_us: int
    end_us: int


@dataclass(slots=True)
class OrderBook:
    """The open orders loaded onto the lines, earliest due first (see the module text).

    Laid out in offsets from "now" on the lines' work clocks (``planning/work_clock.py``). When
    every line keeps one calendar, the layout does not depend on the time (only on what is left of
    each order, which lines sewed what and the order states), so a later read reuses it as long as
    none of those changed: an order's finish is then ``pos(now) + offset`` and it is at risk
    exactly when ``pos(now) > pos(due end) - offset``, a binary search over the sorted slacks.
    With lines on different calendars the layout depends on the time, and is keyed by it too.
    """

    key: tuple[object, ...]
    lines: dict[str, tuple[int, float]]  # line -> (operators, standard minutes per work minute)
    slots: list[_Slot]  # in plan order: lines sorted, each line's queue in turn
    clocks: dict[str, WorkClock]  # line -> its calendar's clock
    anchor: dict[str, int]  # line -> pos(now) the offsets start from ({} when shared: now's pos)
    slack: list[int]  # sorted: pos(due end) - end offset, per slot (shared clock only)
    slack_at: list[int]  # slot index of each slack
    shared: bool
    held: object = None
    index: dict[str, int] = field(default_factory=dict)  # order -> slot

    def origin(self, lid: str, now: datetime) -> int:
        return self.clocks[lid].pos(now) if self.shared else self.anchor[lid]

    def plan(self, i: int, now: datetime) -> OrderPlan:
        """Slot ``i`` as the overview shows it at ``now``."""
        s = self.slots[i]
        clock = self.clocks[s.line]
        o = self.origin(s.line, now)
        p = OrderPlan(s.order, s.garment_sam_min, s.done, s.remaining_sam_min, s.line)
        p.started = s.started
        p.start = now if s.begin_us == 0 else clock.at(o + s.begin_us)
        p.finish = clock.at(o + s.end_us)
        p.capacity_of = (clock.cal, now, self.lines[s.line][1] or 1e-9)
        return p

    def at_risk(self, now: datetime) -> list[OrderPlan]:
        """The orders that the plan finishes after their due day, in plan order."""
        if self.shared:
            if not self.slots:
                return []
            x = next(iter(self.clocks.values())).pos(now)
            idx = sorted(self.slack_at[: bisect.bisect_left(self.slack, x)])
        else:
            idx = [
                i
                for i, s in enumerate(self.slots)
                if self.anchor[s.line] + s.end_us > self.clocks[s.line].pos(_due_end(self.clocks[s.line].cal, s))
            ]
        return [self.plan(i, now) for i in idx]


def _due_end(cal: ShiftCalendar, s: _Slot) -> datetime:
    return due_end(cal, s.order.due)


# factory -> the last book and what its open-order list was taken from (see _candidates)
_BOOKS: dict[str, OrderBook] = {}
_Candidate = tuple[Order, float, int, float]
_CANDIDATES: dict[str, tuple[tuple[object, ...], tuple[list[_Candidate], dict[str, _Candidate]]]] = {}


def _candidates(layout: FactoryLayout, progress: OrderProgress) -> tuple[list[_Candidate], dict[str, _Candidate]]:
    """(order, garment SAM, garments and minutes done out of memory) for every order the plan may
    load: known style, not over or on hold, not finished out of memory. Kept until master data,
    the finished-orders table or the order states change, so a page walks the open orders, not
    every order the factory ever had."""
    f = layout.factory.id
    finished = progress.finished(f)
    states = progress.order_states(f)
    key: tuple[object, ...] = (layout.orders, layout.styles, finished, states, len(layout.orders))
    last = _CANDIDATES.get(f)
    if last is not None and all(a is b for a, b in zip(last[0][:4], key[:4], strict=True)) and last[0][4] == key[4]:
        return last[1]
    out: list[tuple[Order, float, int, float]] = []
    sams: dict[str, float | None] = {}  # style -> garment SAM (a sum over its operations: once a style)
    for o in layout.orders.values():
        if o.id in states and not planned(states[o.id]):
            continue
        sam = sams.get(o.style_code, -1.0)
        if sam == -1.0:
            style = layout.styles.get(o.style_code)
            sam = sams[o.style_code] = style.sam_min if style is not None else None
        if sam is None:
            continue
        gone = finished.get(o.id)
        if gone is not None and o.quantity * sam - gone.earned_min <= 0:
            continue  # finished and out of memory: minutes earned only grow
        out.append((o, sam, gone.done if gone else 0, gone.earned_min if gone else 0.0))
    # keys are held (not just their ids), so a replaced object is never mistaken for the old one
    _CANDIDATES[f] = (key, (out, {c[0].id: c for c in out}))
    return out, _CANDIDATES[f][1][1]


def order_book(layout: FactoryLayout, progress: OrderProgress, live: LiveState, now: datetime) -> OrderBook:
    """The plan of the open orders (see ``OrderBook``), reused while only the time changed.

    A read costs the orders order progress holds in memory (the open ones under way and the ones
    sewn within the window), the styles × lines that sewed them and the rows at risk: the open
    orders nobody has touched are the candidates' list, fixed until a checkpoint, a master-data
    change or an order state change (``_candidates``). Only a change of what is left of an order
    under way (or of which line sews it) lays the plan out again."""
    f = layout.factory.id
    line_ids = sorted(layout.lines)
    cals = {lid: layout.calendar_for_line(lid) for lid in line_ids}
    clocks = {lid: CLOCKS.of(cal, now) for lid, cal in cals.items()}
    shared = len(set(cals.values())) <= 1
    ran: dict[str, set[str]] = defaultdict(set)  # style -> lines that ran it
    for pf, style_code, lid in progress.ran:
        if pf == f:
            ran[style_code].add(lid)
    for (pf, lid), style_code in live.line_style.items():
        if pf == f:
            ran[style_code].add(lid)
    static, index = _candidates(layout, progress)
    on_lines: dict[str, list[tuple[float, str]]] = defaultdict(list)  # order -> (earned, line)
    for (pf, lid, oid), lo in progress.by_line.items():
        if pf == f:
            on_lines[oid].append((lo.earned_min, lid))
    mem: dict[str, tuple[float, int, str | None]] = {}  # candidates in memory: (earned, done, line)
    for (pf, oid), earned in progress.earned_min.items():
        if pf == f and oid in index:
            on = on_lines.get(oid)
            mem[oid] = (earned, progress.done.get((pf, oid), 0), max(on)[1] if on else None)
    key: tuple[object, ...] = (
        id(layout),  # the book holds the layout (``held``): its id is not reused meanwhile
        static,  # the same list object while nothing but pieces changed (compared by identity first)
        tuple(sorted((oid, e, line) for oid, (e, _d, line) in mem.items())),
        tuple(sorted((k, tuple(sorted(v))) for k, v in ran.items())),
        tuple(id(c) for c in clocks.values()),
    )
    if not shared:
        key = (*key, now)
    book = _BOOKS.get(f)
    if book is not None and book.key == key:
        return _with_done(book, mem, index)
    rows: list[tuple[Order, float, int, float, str | None]] = []
    for o, sam, gone_done, gone_earned in static:
        m = mem.get(o.id)
        earned = (m[0] if m else 0.0) + gone_earned
        remaining = o.quantity * sam - earned
        if remaining <= 0:
            continue  # finished: nothing to load on a line
        rows.append((o, sam, (m[1] if m else 0) + gone_done, remaining, m[2] if m else None))
    book = _lay_out(layout, line_ids, clocks, shared, rows, ran, now, key)
    _BOOKS[f] = book
    return book


def _with_done(
    book: OrderBook, mem: dict[str, tuple[float, int, str | None]], index: dict[str, tuple[Order, float, int, float]]
) -> OrderBook:
    """Garments done do not move the plan (minutes left do): a reused layout shows today's count.
    Only orders in memory can have made garments since the layout (the others are fixed)."""
    changed = {}
    for oid, (_e, done, _l) in mem.items():
        i = book.index.get(oid)
        if i is not None and book.slots[i].done != done + index[oid][2]:
            changed[i] = done + index[oid][2]
    if not changed:
        return book
    slots = [_replace_done(s, changed[i]) if i in changed else s for i, s in enumerate(book.slots)]
    return dataclasses.replace(book, slots=slots)


def _replace_done(s: _Slot, done: int) -> _Slot:
    return _Slot(s.order, s.garment_sam_min, done, s.remaining_sam_min, s.line, s.started, s.begin_us, s.end_us)


def _lay_out(
    layout: FactoryLayout,
    line_ids: list[str],
    clocks: dict[str, WorkClock],
    shared: bool,
    rows: list[tuple[Order, float, int, float, str | None]],
    ran: dict[str, set[str]],
    now: datetime,
    key: tuple[object, ...],
) -> OrderBook:
    lines: dict[str, tuple[int, float]] = {}
    for lid in line_ids:
        ops = line_operators(layout, lid)
        lines[lid] = (ops, ops * layout.lines[lid].target_efficiency_pct / 100.0)
    rows.sort(key=lambda r: (r[4] is None, r[0].due, -r[0].priority, r[0].id))
    anchor = {} if shared else {lid: clocks[lid].pos(now) for lid in line_ids}
    free = dict.fromkeys(line_ids, 0)  # offset (µs of work after now) each line is free from

    def free_key(lid: str) -> tuple[object, str]:
        if shared:
            return (free[lid], lid)
        return (clocks[lid].at(anchor[lid] + free[lid]) if free[lid] else now, lid)

    queues: dict[str, list[_Slot]] = {lid: [] for lid in line_ids}
    for o, sam, done, remaining, line in rows:
        started = line is not None
        if line is None:
            cands = sorted(ran.get(o.style_code, set())) or line_ids
            line = min(cands, key=free_key)
        rate = lines[line][1] or 1e-9
        work = max(1, round(remaining / rate * US_PER_MIN))
        begin = free[line]
        free[line] = begin + work
        queues[line].append(_Slot(o, sam, done, remaining, line, started, begin, begin + work))
    slots = [s for lid in line_ids for s in queues[lid]]
    slack: list[tuple[int, int]] = []
    if shared and slots:
        clock = clocks[slots[0].line]
        dues: dict[date, int] = {}
        for i, s in enumerate(slots):
            d = dues.get(s.order.due)
            if d is None:
                d = dues[s.order.due] = clock.pos(due_end(clock.cal, s.order.due))
            slack.append((d - s.end_us, i))
        slack.sort()
    return OrderBook(key, lines, slots, clocks, anchor, [x for x, _i in slack], [i for _x, i in slack], shared, layout)


def load_orders(layout: FactoryLayout, progress: OrderProgress, live: LiveState, now: datetime) -> list[LinePlan]:
    """Earliest-due-first loading of the remaining work onto the lines (see the module text).

    Open orders only: a finished one (every standard minute earned, in memory or handed to the
    database by order progress), a held, cancelled or closed one is on no line's list."""
    book = order_book(layout, progress, live, now)
    out = {lid: LinePlan(lid, ops, rate) for lid, (ops, rate) in book.lines.items()}
    for i, s in enumerate(book.slots):
        out[s.line].orders.append(book.plan(i, now))
    return list(out.values())


def orders_at_risk(layout: FactoryLayout, progress: OrderProgress, live: LiveState, now: datetime) -> list[OrderPlan]:
    """What the overview shows: the open orders the plan finishes after their due day, in plan
    order. Costs the rows it returns once the plan is laid out (see ``OrderBook``)."""
    return order_book(layout, progress, live, now).at_risk(now)


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
