"""Bundle routing: where every bundle is in the style's operations, and how long it has sat there.

Fed by the sensor events in acceptance order (an ingest projection), like the live state: a bundle
is at an operation when the operation's predecessors are done on all its pieces and the
operation is not. Live state already counts bundles in and not out per station; this adds the
per-operation view (the supervisor's "where is the WIP piling up"), ageing, each bundle's steps
and the stale-bundle alert.

Counts are capped at the bundle quantity: a bouncing sensor can count a piece twice, and a bundle
of 20 cannot give 21 garments. The excess is kept as ``overcount`` so it stays visible.

Ageing counts working seconds only (the line's shift hours on workdays, minus breaks): a bundle
left on a table at 17:00 has not aged overnight when the line starts at 08:00.
"""

from __future__ import annotations

import pickle
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from seamline.domain.events import BundleIn, BundleOut, Defect, Piece, SensorEvent
from seamline.domain.model import FactoryLayout, ShiftCalendar, Style

# Two working hours: in the simulated example factory about one bundle in ten that is on the floor
# waits that long (the median waits 35 min), so the alert points at the stuck ones, not the queue.
STALE_AFTER_MIN = 120.0


def working_seconds(cal: ShiftCalendar, start: datetime, end: datetime) -> float:
    """Seconds of [start, end) inside the calendar's shift on workdays, scheduled breaks excluded.

    Spans over three weeks count their whole middle weeks at once (one week's working seconds each,
    DST shifts aside), so an ``as_of`` years ahead costs no more than a month: it used to walk
    every day, for every bundle on the floor, and never answered."""
    if end <= start:
        return 0.0
    tz = cal.tz
    day: date = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    weeks = ((last - day).days - 14) // 7
    if weeks > 0:
        mid = datetime.combine(day + timedelta(days=7), time(0), tz)
        week_s = working_seconds(cal, mid, mid + timedelta(days=7))
        return (
            working_seconds(cal, start, mid)
            + weeks * week_s
            + working_seconds(cal, mid + timedelta(days=7 * weeks), end)
        )
    total = 0.0
    while day <= last:
        if day.weekday() in cal.workdays:
            s = datetime.combine(day, cal.shift_start, tz)
            e_day = day if cal.shift_end > cal.shift_start else day + timedelta(days=1)
            e = datetime.combine(e_day, cal.shift_end, tz)
            a, b = max(s, start), min(e, end)
            if a < b:
                total += cal.attended_s(a, b)
        day += timedelta(days=1)
    return total


@dataclass(slots=True)
class Step:
    station: str
    t_in: datetime
    t_out: datetime | None = None
    ops: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BundleTrack:
    bundle: str
    order_id: str
    style: str
    qty: int
    first_seen: datetime | None = None
    last_move: datetime | None = None
    line: str | None = None
    at: dict[str, datetime] = field(default_factory=dict)  # station -> time in (not yet out)
    steps: list[Step] = field(default_factory=list)
    pieces: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # op -> raw count
    op_first: dict[str, datetime] = field(default_factory=dict)
    op_last: dict[str, datetime] = field(default_factory=dict)
    defects: int = 0

    def done(self, op: str) -> int:
        return min(self.qty, self.pieces.get(op, 0))


class Routing:
    """Per-bundle tracks of one or more factories, folded from events."""

    def __init__(self, layouts: dict[str, FactoryLayout], stale_after_min: float = STALE_AFTER_MIN) -> None:
        self.layouts = layouts
        self.stale_after_min = stale_after_min
        self.tracks: dict[tuple[str, str], BundleTrack] = {}
        # Sewn bundles at no station, packed (``pack_sewn``): (last move, order, sewn, zlib'd track).
        self.packed: dict[tuple[str, str], tuple[datetime | None, str, int, bytes]] = {}
        self.latest: dict[str, datetime] = {}
        self._finals: dict[tuple[str, str], tuple[Style, list[str], list[str]]] = {}

    # --- folding ---------------------------------------------------------------------------
    def _style_info(self, factory: str, style: Style) -> tuple[list[str], list[str]]:
        key = (factory, style.code)
        c = self._finals.get(key)
        if c is None or c[0] is not style:
            c = self._finals[key] = (style, style.topological_order(), style.final_operations())
        return c[1], c[2]

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("packed", {})

    def _unpacked(self, key: tuple[str, str]) -> BundleTrack | None:
        p = self.packed.get(key)
        return None if p is None else pickle.loads(zlib.decompress(p[3]))  # our own bytes, from pack_sewn

    def _track(self, factory: str, bundle_id: str) -> BundleTrack | None:
        key = (factory, bundle_id)
        t = self.tracks.get(key)
        packed = self._unpacked(key) if t is None else None
        if packed is not None:  # a late event for a sewn bundle: it is live again
            t = self.tracks[key] = packed
            del self.packed[key]
        if t is None:
            lay = self.layouts.get(factory)
            b = lay.bundles.get(bundle_id) if lay else None
            o = lay.orders.get(b.order_id) if lay and b else None
            if b is None or o is None:
                return None
            t = self.tracks[key] = BundleTrack(bundle_id, b.order_id, o.style_code, b.qty)
        return t

    def apply(self, ev: SensorEvent) -> None:
        if not isinstance(ev, (BundleIn, BundleOut, Piece, Defect)):
            return
        f, station = ev.factory or "", ev.station or ""
        t = self._track(f, ev.bundle)
        if t is None:
            return
        ts = ev.ts
        prev = self.latest.get(f)
        if prev is None or ts > prev:
            self.latest[f] = ts
        if t.first_seen is None or ts < t.first_seen:
            t.first_seen = ts
        if t.last_move is None or ts > t.last_move:
            t.last_move = ts
        st = self.layouts[f].stations.get(station)
        if st is not None:
            t.line = st.line_id
        if isinstance(ev, BundleIn):
            t.at[station] = ts
            t.steps.append(Step(station, ts))
        elif isinstance(ev, BundleOut):
            t.at.pop(station, None)
            for s in reversed(t.steps):
                if s.station == station and s.t_out is None:
                    s.t_out = ts
                    break
        elif isinstance(ev, Piece):
            t.pieces[ev.op] += ev.qty
            if ev.op not in t.op_first or ts < t.op_first[ev.op]:
                t.op_first[ev.op] = ts
            if ev.op not in t.op_last or ts > t.op_last[ev.op]:
                t.op_last[ev.op] = ts
            for s in reversed(t.steps):
                if s.station == station:
                    if s.t_out is None and ev.op not in s.ops:
                        s.ops.append(ev.op)
                    break
        else:
            t.defects += ev.qty

    def forget_before(self, cutoff: datetime) -> None:
        """Retention: drop bundles that have not moved since ``cutoff`` and are at no station
        (finished or abandoned); the ones still on the floor stay whatever their age."""
        for key in [k for k, t in self.tracks.items() if not t.at and t.last_move is not None and t.last_move < cutoff]:
            del self.tracks[key]
        for key in [k for k, p in self.packed.items() if p[0] is not None and p[0] < cutoff]:
            del self.packed[key]

    def pack_sewn(self) -> int:
        """Pack the tracks of sewn bundles that are at no station; returns how many.

        They are most of the tracks of the retention window and only the bundle's own page and
        the order's sewn count read them again, so they are kept as compressed bytes (about a
        tenth of the objects' size) and unpacked when asked for or when an event comes for one.
        A sewn bundle stays sewn (counts only grow, its quantity is the one it was cut with).
        """
        done = [k for k, t in self.tracks.items() if not t.at and self.status(k[0], t) == "sewn"]
        for key in done:
            t = self.tracks.pop(key)
            blob = zlib.compress(pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL))
            self.packed[key] = (t.last_move, t.order_id, self.sewn(key[0], t), blob)
        return len(done)

    # --- queries ---------------------------------------------------------------------------
    def now(self, factory: str, as_of: datetime | None = None) -> datetime:
        if as_of is not None:
            return as_of
        return self.latest.get(factory) or datetime.now(self.layouts[factory].factory.tz)

    def style_of(self, factory: str, t: BundleTrack) -> Style:
        return self.layouts[factory].styles[t.style]

    def sewn(self, factory: str, t: BundleTrack) -> int:
        """Finished garments of the bundle: the least done of its final operations."""
        _, finals = self._style_info(factory, self.style_of(factory, t))
        return min(t.done(op) for op in finals)

    def status(self, factory: str, t: BundleTrack) -> str:
        if self.sewn(factory, t) >= t.qty:
            return "sewn"
        return "in_progress" if t.first_seen is not None else "cut"

    def open_ops(self, factory: str, t: BundleTrack) -> list[tuple[str, datetime | None]]:
        """Operations the bundle is at: predecessors all done, itself not; with when it became ready."""
        style = self.style_of(factory, t)
        ops = style.op_map()
        out = []
        for code in self._style_info(factory, style)[0]:
            if t.done(code) >= t.qty:
                continue
            preds = ops[code].predecessors
            if any(t.done(p) < t.qty for p in preds):
                continue
            ready = max((t.op_last[p] for p in preds if p in t.op_last), default=t.first_seen)
            out.append((code, ready))
        return out

    def _age_s(self, factory: str, t: BundleTrack, since: datetime | None, now: datetime) -> float:
        if since is None:
            return 0.0
        cal = self.layouts[factory].calendar_for_line(t.line or "")
        return working_seconds(cal, since, now)

    def bundle(self, factory: str, bundle_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
        lay = self.layouts.get(factory)
        if lay is None or bundle_id not in lay.bundles:
            return None
        key = (factory, bundle_id)
        t = self.tracks.get(key) or self._unpacked(key) or self._track(factory, bundle_id)
        assert t is not None
        now = self.now(factory, as_of)
        style = self.style_of(factory, t)
        return {
            "bundle": t.bundle,
            "order": t.order_id,
            "style": t.style,
            "qty": t.qty,
            "status": self.status(factory, t),
            "sewn": self.sewn(factory, t),
            "line": t.line,
            "stations": sorted(t.at),
            "defects": t.defects,
            "first_seen": _iso(t.first_seen),
            "last_move": _iso(t.last_move),
            "idle_working_min": round(self._age_s(factory, t, t.last_move, now) / 60, 1),
            "operations": [
                {
                    "op": code,
                    "done": t.done(code),
                    "counted": t.pieces.get(code, 0),
                    "overcount": max(0, t.pieces.get(code, 0) - t.qty),
                    "first_piece": _iso(t.op_first.get(code)),
                    "last_piece": _iso(t.op_last.get(code)),
                    "minutes": _minutes(t.op_first.get(code), t.op_last.get(code)),
                }
                for code in self._style_info(factory, style)[0]
            ],
            "at_operations": [code for code, _ in self.open_ops(factory, t)] if t.first_seen else [],
            "steps": [
                {
                    "station": s.station,
                    "in": _iso(s.t_in),
                    "out": _iso(s.t_out),
                    "ops": list(s.ops),
                    "minutes": _minutes(s.t_in, s.t_out or (now if s.station in t.at else None)),
                }
                for s in t.steps
            ],
        }

    def wip(self, factory: str, as_of: datetime | None = None, line: str | None = None) -> dict[str, Any]:
        """Bundles and pieces waiting or in work per operation (per style), with their ageing."""
        now = self.now(factory, as_of)
        per_op: dict[tuple[str, str], dict[str, Any]] = {}
        per_station: dict[str, dict[str, Any]] = {}
        for (f, _), t in self.tracks.items():
            if f != factory or t.first_seen is None or (line is not None and t.line != line):
                continue
            if self.status(factory, t) == "sewn":
                continue
            for code, ready in self.open_ops(factory, t):
                since = t.op_last.get(code, ready)
                age_min = self._age_s(factory, t, since, now) / 60
                row = per_op.setdefault(
                    (t.style, code),
                    {
                        "style": t.style,
                        "op": code,
                        "bundles": 0,
                        "pieces": 0,
                        "started": 0,
                        "max_age_min": 0.0,
                        "sum_age_min": 0.0,
                    },
                )
                row["bundles"] += 1
                row["pieces"] += t.qty - t.done(code)
                row["started"] += 1 if t.pieces.get(code) else 0
                row["sum_age_min"] += age_min
                row["max_age_min"] = max(row["max_age_min"], age_min)
            for station, t_in in t.at.items():
                age_min = self._age_s(factory, t, t_in, now) / 60
                row = per_station.setdefault(station, {"station": station, "bundles": 0, "max_age_min": 0.0})
                row["bundles"] += 1
                row["max_age_min"] = max(row["max_age_min"], age_min)
        ops = []
        for row in per_op.values():
            row["avg_age_min"] = round(row.pop("sum_age_min") / row["bundles"], 1)
            row["max_age_min"] = round(row["max_age_min"], 1)
            ops.append(row)
        for row in per_station.values():
            row["max_age_min"] = round(row["max_age_min"], 1)
        ops.sort(key=lambda r: (r["style"], self._op_rank(factory, r["style"], r["op"])))
        return {
            "factory": factory,
            "as_of": now.isoformat(),
            "operations": ops,
            "stations": sorted(per_station.values(), key=lambda r: r["station"]),
        }

    def _op_rank(self, factory: str, style_code: str, op: str) -> int:
        style = self.layouts[factory].styles[style_code]
        order = self._style_info(factory, style)[0]
        return order.index(op) if op in order else len(order)

    def stale(
        self, factory: str, as_of: datetime | None = None, stale_after_min: float | None = None
    ) -> list[dict[str, Any]]:
        """Bundles started and not finished that have not moved for longer than the limit."""
        limit = self.stale_after_min if stale_after_min is None else stale_after_min
        now = self.now(factory, as_of)
        out: list[dict[str, Any]] = []
        for (f, _), t in self.tracks.items():
            if f != factory or t.first_seen is None or self.status(factory, t) == "sewn":
                continue
            idle_min = self._age_s(factory, t, t.last_move, now) / 60
            if idle_min > limit:
                at = [c for c, _ in self.open_ops(factory, t)]
                out.append(
                    {
                        "bundle": t.bundle,
                        "order": t.order_id,
                        "line": t.line,
                        "stations": sorted(t.at),
                        "at_operations": at,
                        "last_move": _iso(t.last_move),
                        "idle_working_min": round(idle_min, 1),
                        "message": (
                            f"bundle {t.bundle} has not moved for {idle_min:.0f} working minutes"
                            f" (limit {limit:g}); waiting at {', '.join(at) or 'no operation'}"
                        ),
                    }
                )
        out.sort(key=lambda r: -r["idle_working_min"])
        return out

    def order_sewn(self, factory: str, order_id: str) -> dict[str, int]:
        """Bundle id -> finished garments, for every bundle of the order seen on the floor."""
        out = {
            t.bundle: self.sewn(factory, t)
            for (f, _), t in self.tracks.items()
            if f == factory and t.order_id == order_id
        }
        out.update((b, p[2]) for (f, b), p in self.packed.items() if f == factory and p[1] == order_id)
        return out


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() / 60, 2)
