"""Block facts from the live state and the event store: the only module here that reads data.

Efficiency, pieces, output, defects and attended time come from ``LiveState`` (the same
accumulators ``/api/v1/efficiency`` serves, so the page's evidence links show the same numbers);
WIP over time and order completion need the events themselves (the live state keeps only the
current WIP), read from the event store with a type filter.

Overtime here is the simple reading of the PRC rule: attended hours beyond 8 in a worker's
work day, and every hour on a rest day of the line calendar. ``seamline.compliance`` applies the
full weekly rules and corrections; its figure is the one for payroll, this one is for the trend.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from seamline.adapters.event_store import EventStore
from seamline.domain.events import BundleIn, BundleOut, Piece
from seamline.domain.live import LiveState, Tally
from seamline.domain.model import FactoryLayout

from .measure import BlockFacts
from .spread import MIN_DAY_BLOCKS

REGULAR_DAY_S = 8 * 3600.0
# How far before the period the event scan starts: bundles still in WIP at the start and orders
# due in the period that began earlier. An order sewn over more than this is counted from here.
EVENT_LOOKBACK = timedelta(days=60)


@dataclass(slots=True)
class _Acc:
    label: str
    start: datetime
    end: datetime
    day_equiv: float = 0.0
    pieces: int = 0
    earned_min: float = 0.0
    attended_min: float = 0.0
    output: int = 0
    defects: int = 0
    overtime_h: float = 0.0
    worker_days: float = 0.0
    wip_piece_samples: float = 0.0
    wip_samples: int = 0
    orders_due: int = 0
    orders_on_time: int = 0
    order_qty_due: int = 0
    small_orders: int = 0
    small_order_qty: int = 0
    orders: list[dict[str, Any]] = field(default_factory=list)

    def facts(self) -> BlockFacts:
        return BlockFacts(
            label=self.label,
            day_equiv=self.day_equiv,
            pieces=self.pieces,
            earned_min=self.earned_min,
            attended_min=self.attended_min,
            output=self.output,
            defects=self.defects,
            overtime_h=self.overtime_h,
            worker_days=self.worker_days,
            wip_piece_samples=self.wip_piece_samples,
            wip_samples=self.wip_samples,
            orders_due=self.orders_due,
            orders_on_time=self.orders_on_time,
            order_qty_due=self.order_qty_due,
            small_orders=self.small_orders,
            small_order_qty=self.small_order_qty,
        )


@dataclass(slots=True)
class Collected:
    """Blocks of a period at a scope, with the rows behind them for the evidence endpoint."""

    factory: str
    lines: list[str]
    start: datetime
    end: datetime
    block_kind: str
    blocks: list[BlockFacts]
    orders: list[dict[str, Any]]
    spans: dict[str, tuple[datetime, datetime]]  # block label -> [start, end)


def default_period(live: LiveState, factory: str) -> tuple[datetime, datetime]:
    """From the first local midnight with data to the end of the hour of the latest event."""
    tz = live.tz(factory)
    hours = list(live.buckets.get(factory, {}))
    latest = live.latest_ts.get(factory)
    if not hours or latest is None:
        now = datetime.now(tz)
        return now - timedelta(days=1), now
    first = min(hours).astimezone(tz).replace(hour=0)
    last = latest.astimezone(tz).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return first, last


def collect(
    live: LiveState,
    store: EventStore,
    factory: str,
    start: datetime,
    end: datetime,
    lines: Iterable[str] | None = None,
    small_order_max_qty: int = 500,
    block_kind: str | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> Collected:
    """Block facts for ``[start, end)``. ``lock`` (the ingest lock) is held only while ``live`` is
    read, not while the event store is scanned, so ingest is not held up. ``block_kind`` None picks
    days when there are at least ``MIN_DAY_BLOCKS`` worked days, else hours."""
    layout = live.layouts[factory]
    tz = live.tz(factory)
    line_set = set(lines) if lines else set(layout.lines)
    with lock or nullcontext():
        as_of = live.as_of(factory)
        line_tallies = live.tallies(factory, "line", start, end)
        # whole local days, so a period starting mid-day still knows the hours already worked
        day0 = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        day1 = (end - timedelta(microseconds=1)).astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        worker_tallies = live.tallies(factory, "worker", day0, day1 + timedelta(days=1))

    # Attended hours at the scope (sum over its lines): they define which blocks exist.
    line_hours: dict[datetime, list[Any]] = {}
    for line, by_hour in line_tallies.items():
        if line not in line_set:
            continue
        for h, t in by_hour.items():
            acc = line_hours.setdefault(h, [0, 0.0, 0.0, 0, 0])
            acc[0] += t.pieces
            acc[1] += t.earned_min
            acc[2] += t.attended_s
            acc[3] += t.output
            acc[4] += t.defects
    worked_hours = sorted(h for h, a in line_hours.items() if a[2] > 0)
    worked_days = sorted({h.astimezone(tz).date() for h in worked_hours})
    kind = block_kind or ("day" if len(worked_days) >= MIN_DAY_BLOCKS else "hour")

    blocks: dict[str, _Acc] = {}
    day_att_s: dict[date, float] = defaultdict(float)
    for h in worked_hours:
        day_att_s[h.astimezone(tz).date()] += line_hours[h][2]

    def block_of_hour(h: datetime) -> _Acc:
        local = h.astimezone(tz)
        if kind == "day":
            d = local.date()
            label = d.isoformat()
            s = datetime.combine(d, datetime.min.time(), tz)
            e = s + timedelta(days=1)
        else:
            label = local.isoformat()
            s, e = local, local + timedelta(hours=1)
        acc = blocks.get(label)
        if acc is None:
            acc = blocks[label] = _Acc(label, s, e)
        return acc

    # Pieces made in an hour nobody attended (a break) still count; WIP is sampled in worked hours.
    for h in sorted(h for h, a in line_hours.items() if a[2] > 0 or a[0] or a[4]):
        pieces, earned, att_s, output, defects = line_hours[h]
        b = block_of_hour(h)
        b.pieces += pieces
        b.earned_min += earned
        b.attended_min += att_s / 60.0
        b.output += output
        b.defects += defects
        day_s = day_att_s.get(h.astimezone(tz).date(), 0.0)
        b.day_equiv += att_s / day_s if kind == "hour" and day_s > 0 else 0.0
    if kind == "day":
        for b in blocks.values():
            b.day_equiv = 1.0

    _overtime(worker_tallies, layout, line_set, tz, set(worked_hours), block_of_hour)
    orders = _events(
        store,
        layout,
        factory,
        start,
        end,
        as_of,
        line_set,
        small_order_max_qty,
        tz,
        worked_hours,
        blocks,
        block_of_hour,
    )
    ordered = sorted(blocks.values(), key=lambda b: b.start)
    return Collected(
        factory=factory,
        lines=sorted(line_set),
        start=start,
        end=end,
        block_kind=kind,
        blocks=[b.facts() for b in ordered],
        orders=orders,
        spans={b.label: (b.start, b.end) for b in ordered},
    )


def _overtime(
    worker_tallies: dict[str, dict[datetime, Tally]],
    layout: FactoryLayout,
    line_set: set[str],
    tz: ZoneInfo,
    worked: set[datetime],
    block_of_hour: Callable[[datetime], _Acc],
) -> None:
    """Per worker and local day: hours past 8 (or all on a rest day) are overtime, taken from the
    day's last hours; each hour's share of the worker's day counts as worker-days."""
    for badge, by_hour in worker_tallies.items():
        w = layout.workers.get(badge)
        if w is None or (w.line_id is not None and w.line_id not in line_set):
            continue
        if w.line_id is None and line_set != set(layout.lines):
            continue
        cal = layout.calendar_for_line(w.line_id) if w.line_id else layout.calendar_for_line("")
        per_day: dict[date, list[tuple[datetime, float]]] = defaultdict(list)
        for h, t in sorted(by_hour.items()):
            if t.attended_s > 0:
                per_day[h.astimezone(tz).date()].append((h, t.attended_s))
        for d, hours in per_day.items():
            day_total = sum(s for _, s in hours)
            rest_day = d.weekday() not in cal.workdays
            used = 0.0
            for h, secs in hours:
                ot = secs if rest_day else max(0.0, used + secs - max(REGULAR_DAY_S, used))
                used += secs
                if h in worked:  # hours outside the period still count towards the day's 8
                    b = block_of_hour(h)
                    b.overtime_h += ot / 3600.0
                    b.worker_days += secs / day_total


def _events(
    store: EventStore,
    layout: FactoryLayout,
    factory: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
    line_set: set[str],
    small_max: int,
    tz: ZoneInfo,
    worked_hours: list[datetime],
    blocks: dict[str, _Acc],
    block_of_hour: Callable[[datetime], _Acc],
) -> list[dict[str, Any]]:
    """WIP samples at the end of each worked hour, and order completion against due dates."""
    stations = {s.id for s in layout.stations.values() if s.line_id in line_set}
    moves: list[tuple[datetime, int, str, str]] = []  # ts, +1/-1, station, bundle
    finals: dict[str, frozenset[str]] = {c: frozenset(s.final_operations()) for c, s in layout.styles.items()}
    order_final: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order_done: dict[str, datetime] = {}
    order_first: dict[str, datetime] = {}
    order_in_scope: set[str] = set()
    since = start - EVENT_LOOKBACK
    for _pos, ev in store.iter_events(
        factory=factory, types=("piece", "bundle_in", "bundle_out"), start=since, end=end
    ):
        if isinstance(ev, (BundleIn, BundleOut)):
            if ev.station in stations:
                moves.append((ev.ts, 1 if isinstance(ev, BundleIn) else -1, ev.station, ev.bundle))
            continue
        if not isinstance(ev, Piece):
            continue
        bundle = layout.bundles.get(ev.bundle)
        if bundle is None:
            continue
        order = layout.orders.get(bundle.order_id)
        if order is None:
            continue
        oid = order.id
        if ev.station in stations:
            order_in_scope.add(oid)
        if oid not in order_first or ev.ts < order_first[oid]:
            order_first[oid] = ev.ts
        fin = finals.get(order.style_code, frozenset())
        if ev.op in fin and oid not in order_done:
            order_final[oid][ev.op] += ev.qty
            if all(order_final[oid][op] >= order.quantity for op in fin):
                order_done[oid] = ev.ts

    # WIP: pieces in bundles checked in and not yet out, sampled at the end of each worked hour.
    moves.sort(key=lambda m: m[0])
    open_: dict[tuple[str, str], int] = {}
    i = 0
    for h in worked_hours:
        h_end = h + timedelta(hours=1)
        while i < len(moves) and moves[i][0] < h_end:
            _ts, sign, st, bid = moves[i]
            if sign > 0:
                b = layout.bundles.get(bid)
                open_[(st, bid)] = b.qty if b else 0
            else:
                open_.pop((st, bid), None)
            i += 1
        blk = block_of_hour(h)
        blk.wip_piece_samples += sum(open_.values())
        blk.wip_samples += 1

    # Orders: due in the period (and already due) -> on time or late; small orders by first piece.
    starts = sorted(blocks.values(), key=lambda b: b.start)
    starts_ts = [b.start for b in starts]
    rows: list[dict[str, Any]] = []
    limit = min(end, as_of)
    all_lines = line_set == set(layout.lines)
    for oid, order in sorted(layout.orders.items()):
        if oid not in order_in_scope and not all_lines:
            continue
        due_end = datetime.combine(order.due + timedelta(days=1), datetime.min.time(), tz)
        done = order_done.get(oid)
        first = order_first.get(oid)
        row = {
            "order": oid,
            "customer": order.customer,
            "quantity": order.quantity,
            "due": order.due.isoformat(),
            "first_piece": first.isoformat() if first else None,
            "completed": done.isoformat() if done else None,
            "counted_as_due_in": None,
            "on_time": None,
            "counted_as_small_in": None,
        }
        # An order counts in its due day's block once the day is over, or earlier if already done.
        known = due_end <= limit or (done is not None and done < due_end and due_end - timedelta(days=1) < end)
        if starts and start < due_end and known:
            k = bisect_right(starts_ts, due_end - timedelta(microseconds=1)) - 1
            if k >= 0:
                blk = starts[k]
                on_time = done is not None and done < due_end
                blk.orders_due += 1
                blk.orders_on_time += int(on_time)
                blk.order_qty_due += order.quantity
                row["counted_as_due_in"] = blk.label
                row["on_time"] = on_time
        if first is not None and order.quantity <= small_max and start <= first < end:
            k = bisect_right(starts_ts, first) - 1
            if k >= 0:
                blk = starts[k]
                blk.small_orders += 1
                blk.small_order_qty += order.quantity
                row["counted_as_small_in"] = blk.label
        if row["counted_as_due_in"] or row["counted_as_small_in"]:
            rows.append(row)
    return rows
