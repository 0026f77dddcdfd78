"""Live production state, kept incrementally from accepted sensor events.

``LiveState.apply`` is called once per accepted event, in the order the event store accepted
them; every figure is an accumulator updated in O(1), never recomputed per query. Replaying the
event store from empty through ``apply`` gives exactly the same state (tests check it), which is
why nothing here reads a clock: "now" is the latest event time of the factory unless a query
passes ``as_of``.

Accounting rules (docs/data-model.md):
- A piece is earned by the worker logged in at the station (qty × the operation's SAM).
- Attended time is login → logout minus the line calendar's scheduled breaks, cut at local clock
  hours; an open session counts up to ``as_of``.
- A login at a second station closes the worker's session at the first one.
- Line output is pieces at the style's final operations; the hourly target is the line's attended
  operator-minutes × expected efficiency ÷ garment SAM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from . import yielding
from .demo_clock import DemoClock
from .efficiency import efficiency_pct, hour_start, split_by_hour, target_for_attended
from .events import BundleIn, BundleOut, Defect, Downtime, Login, Logout, Machine, Piece, SensorEvent
from .model import FactoryLayout, Operation, ShiftCalendar, Style

_T = TypeVar("_T")
SCOPES = ("worker", "station", "line", "factory")
MACHINE_STATES = ("running", "idle", "off")


@dataclass(slots=True)
class Tally:
    pieces: int = 0
    earned_min: float = 0.0
    attended_s: float = 0.0
    output: int = 0
    defects: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pieces": self.pieces,
            "earned_min": round(self.earned_min, 6),
            "attended_min": round(self.attended_s / 60.0, 6),
            "output": self.output,
            "defects": self.defects,
            "efficiency_pct": _round(efficiency_pct(self.earned_min, self.attended_s / 60.0)),
        }


@dataclass(slots=True)
class StationLive:
    factory: str
    station: str
    line: str
    worker: str | None = None
    login_ts: datetime | None = None
    machine_state: str = "off"
    machine_since: datetime | None = None
    downtime: dict[str, datetime] = field(default_factory=dict)
    wip: dict[str, datetime] = field(default_factory=dict)  # bundle -> time in
    bundle: str | None = None
    op: str | None = None
    last_piece_ts: datetime | None = None
    last_seq: int = -1
    last_ts: datetime | None = None


ROLLUP_FIELDS = (
    "pieces",
    "earned_min",
    "output",
    "defects",
    "attended_s",
    "running_s",
    "idle_s",
    "off_s",
    "downtime_s",
)


@dataclass(slots=True)
class RollupCell:
    """One (line, station, worker, operation, hour) of history: what the rollup table keeps.

    Attended time has no operation (``op`` = ""), machine and downtime seconds no worker either:
    the finest grain at which each figure is known.
    """

    pieces: int = 0
    earned_min: float = 0.0
    output: int = 0
    defects: int = 0
    attended_s: float = 0.0
    running_s: float = 0.0
    idle_s: float = 0.0
    off_s: float = 0.0
    downtime_s: float = 0.0


@dataclass(slots=True)
class RollupRow:
    factory: str
    hour: datetime
    line: str
    station: str
    worker: str
    op: str
    cell: RollupCell


def _copy_cell(c: RollupCell) -> RollupCell:
    return RollupCell(
        c.pieces, c.earned_min, c.output, c.defects, c.attended_s, c.running_s, c.idle_s, c.off_s, c.downtime_s
    )


class HourBucket:
    """Everything live state knows about one local clock hour of one factory.

    Partitioning by hour is what keeps memory a function of stations × window: a bucket older
    than the retention window is handed to the rollup table whole and dropped (``evict_before``),
    and a query for today touches today's buckets only, however long the history.
    """

    __slots__ = ("downtime", "fine", "frozen", "hourly", "machine", "ops")

    def __init__(self) -> None:
        self.frozen = False  # a reader's view holds it: the writer copies it before changing it
        self.hourly: dict[tuple[str, str], Tally] = defaultdict(Tally)  # (scope, key)
        self.machine: dict[tuple[str, str], float] = defaultdict(float)  # (station, state)
        self.downtime: dict[tuple[str, str], float] = defaultdict(float)  # (station, reason)
        self.ops: dict[tuple[str, str], int] = defaultdict(int)  # (station, op) -> pieces
        self.fine: dict[tuple[str, str, str, str], RollupCell] = defaultdict(RollupCell)  # line, station, worker, op

    def thawed(self) -> HourBucket:
        """A private, writable copy (copy-on-write for readers' views)."""
        b = HourBucket()
        b.hourly.update(
            (k, Tally(t.pieces, t.earned_min, t.attended_s, t.output, t.defects)) for k, t in self.hourly.items()
        )
        b.machine.update(self.machine)
        b.downtime.update(self.downtime)
        b.ops.update(self.ops)
        # Field by field: ``dataclasses.astuple`` deep-copies, and this runs under the ingest lock
        # on the first event after every page view (it was most of the copy's 3-5 ms).
        b.fine.update((k, _copy_cell(c)) for k, c in self.fine.items())
        return b

    def __getstate__(self) -> tuple[dict[Any, Any], ...]:
        return (dict(self.hourly), dict(self.machine), dict(self.downtime), dict(self.ops), dict(self.fine))

    def __setstate__(self, state: tuple[dict[Any, Any], ...]) -> None:
        self.frozen = False
        self.hourly = defaultdict(Tally, state[0])
        self.machine = defaultdict(float, state[1])
        self.downtime = defaultdict(float, state[2])
        self.ops = defaultdict(int, state[3])
        self.fine = defaultdict(RollupCell, state[4])


def open_span_s(tz: ZoneInfo, since: datetime, as_of: datetime, start: datetime, end: datetime) -> float:
    """Seconds of [since, as_of) that fall in local hours whose start is in [start, end).

    In closed form: pages ask it for every station with an open machine state or downtime, and
    cutting the span into hours (as it was) was a fifth of a page's computation."""
    h0 = hour_start(start, tz)
    first = start if h0 == start else (h0.astimezone(UTC) + timedelta(hours=1)).astimezone(tz)
    last = hour_start(end, tz)
    hi = min(as_of, end if last == end else (last.astimezone(UTC) + timedelta(hours=1)).astimezone(tz))
    lo = max(since, first)
    return (hi - lo).total_seconds() if hi > lo else 0.0


class HistorySource(Protocol):
    """Where hours that left memory are read back from (the rollup table, adapters/history.py)."""

    def rollups(self, factory: str, start: datetime, end: datetime) -> list[RollupRow]: ...

    def rollup_tallies(
        self, factory: str, scope: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, int, float, float, int, int]]:
        """(key, hour, pieces, earned_min, attended_s, output, defects) of ``scope`` summed per key
        and hour, over the rows that have any of them."""
        ...


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


class LiveState:
    """Accumulators per worker, station, line and factory per local clock hour."""

    def __init__(self, layouts: dict[str, FactoryLayout]) -> None:
        self.layouts = layouts
        self.stations: dict[tuple[str, str], StationLive] = {}
        self.worker_at: dict[tuple[str, str], str] = {}  # (factory, badge) -> station
        # factory -> local hour start -> what happened in it (see HourBucket)
        self.buckets: dict[str, dict[datetime, HourBucket]] = {}
        self.line_style: dict[tuple[str, str], str] = {}
        self.latest_ts: dict[str, datetime] = {}
        self.events_applied = 0
        # factory -> the hour before which everything was handed to the rollup table
        self.evicted_before: dict[str, datetime] = {}
        self.history: HistorySource | None = None
        # Set by `seamline demo` only (domain/demo_clock.py): "now" is then the demo's factory clock.
        self.demo_clock: DemoClock | None = None
        self._tz: dict[str, ZoneInfo] = {}
        self._hour_cache: dict[str, tuple[datetime, datetime, datetime]] = {}
        self._bucket_cache: dict[str, tuple[datetime, HourBucket]] = {}
        self._styles: dict[tuple[str, str], tuple[dict[str, Operation], frozenset[str], Style]] = {}
        # None on the writer's state; on a frozen view, figures computed from it (see ``memo``).
        self.view_memo: dict[Any, Any] | None = None
        # Open sessions' whole hours already cut (``_cut_sessions``): one dict shared by the
        # writer and its views (the hours of a session never change once passed).
        self._cuts: dict[Any, tuple[datetime, tuple[tuple[datetime, float], ...]]] = {}

    # --- helpers -------------------------------------------------------------------------
    def tz(self, factory: str) -> ZoneInfo:
        z = self._tz.get(factory)
        if z is None:
            z = self._tz[factory] = self.layouts[factory].factory.tz
        return z

    def hour_of(self, factory: str, ts: datetime) -> datetime:
        """``hour_start`` with a one-entry cache per factory: events mostly fall in the current hour."""
        c = self._hour_cache.get(factory)
        if c is not None and c[0] <= ts < c[1]:
            return c[2]
        h = hour_start(ts, self.tz(factory))
        self._hour_cache[factory] = (h, (h.astimezone(UTC) + timedelta(hours=1)).astimezone(h.tzinfo), h)
        return h

    def bucket(self, factory: str, h: datetime) -> HourBucket:
        """The bucket of local hour ``h`` (created on first use)."""
        c = self._bucket_cache.get(factory)
        if c is not None and c[0] == h and not c[1].frozen:
            return c[1]
        hours = self.buckets.get(factory)
        if hours is None:
            hours = self.buckets[factory] = {}
        b = hours.get(h)
        if b is None:
            b = hours[h] = HourBucket()
        elif b.frozen:
            b = hours[h] = b.thawed()
        self._bucket_cache[factory] = (h, b)
        return b

    def buckets_between(self, factory: str, start: datetime, end: datetime) -> list[tuple[datetime, HourBucket]]:
        """The buckets of hours in [start, end), cheapest when the range is a day: one pass over
        the retained hours (a few days' worth), never over history."""
        return [(h, b) for h, b in self.buckets.get(factory, {}).items() if start <= h < end]

    def horizon(self, factory: str) -> datetime | None:
        """The oldest hour still in memory (older hours are in the rollup table)."""
        hours = self.buckets.get(factory)
        return min(hours) if hours else None

    def evict_before(self, factory: str, cutoff: datetime) -> list[RollupRow]:
        """Drop the hours before ``cutoff`` and return their rollup rows (for the rollup table)."""
        hours = self.buckets.get(factory, {})
        old = [h for h in hours if h < cutoff]
        out: list[RollupRow] = []
        for h in sorted(old):
            b = hours.pop(h)
            for (line, station, worker, op), cell in b.fine.items():
                out.append(RollupRow(factory, h, line, station, worker, op, cell))
        if old:
            self._bucket_cache.pop(factory, None)
        prev = self.evicted_before.get(factory)
        if prev is None or cutoff > prev:
            self.evicted_before[factory] = cutoff
        return out

    def frozen_view(self) -> LiveState:
        """A consistent, read-only view for a page, taken under the ingest lock in about a
        millisecond; the page is then computed from it outside the lock while ingest goes on.

        Copy-on-write: the view shares the hour buckets, marked frozen, and the writer copies a
        frozen bucket before changing it (usually only the current hour's). Station states are small
        and copied.
        """
        v = object.__new__(LiveState)
        v.__dict__.update(self.__dict__)
        for hours in self.buckets.values():
            for b in hours.values():
                b.frozen = True
        v.buckets = {f: dict(hs) for f, hs in self.buckets.items()}
        v.stations = {k: replace(st, downtime=dict(st.downtime), wip=dict(st.wip)) for k, st in self.stations.items()}
        v.worker_at = dict(self.worker_at)
        v.line_style = dict(self.line_style)
        v.latest_ts = dict(self.latest_ts)
        v.evicted_before = dict(self.evicted_before)
        v._tz = dict(self._tz)
        v._hour_cache = {}
        v._bucket_cache = {}
        v._styles = dict(self._styles)
        v.view_memo = {}
        return v

    def memo(self, key: Any, compute: Callable[[], _T]) -> _T:
        """``compute()`` once per frozen view: a view never changes, so every page computed from
        it (the overview and a line page read the same line's figures) shares one computation.
        On the writer's state, or with the demo's moving clock, it is simply computed."""
        m = self.view_memo
        if m is None or self.demo_clock is not None:
            return compute()
        try:
            return m[key]  # type: ignore[no-any-return]
        except KeyError:
            value = m[key] = compute()
            return value

    def __getstate__(self) -> dict[str, Any]:
        """For checkpoints: the accumulators, not the history reader or the caches."""
        state = dict(self.__dict__)
        state["history"] = None
        state["_hour_cache"] = {}
        state["_bucket_cache"] = {}
        state["_styles"] = {}
        state["view_memo"] = None
        state["_cuts"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("view_memo", None)  # checkpoints written before these existed
        state.setdefault("_cuts", {})
        self.__dict__.update(state)

    # Flat views of the buckets, for comparisons and callers that want every retained hour.
    @property
    def hourly(self) -> dict[tuple[str, str, str, datetime], Tally]:
        return {
            (f, sc, k, h): t for f, hs in self.buckets.items() for h, b in hs.items() for (sc, k), t in b.hourly.items()
        }

    @property
    def machine_s(self) -> dict[tuple[str, str, datetime, str], float]:
        return {
            (f, s, h, st): v
            for f, hs in self.buckets.items()
            for h, b in hs.items()
            for (s, st), v in b.machine.items()
        }

    @property
    def downtime_s(self) -> dict[tuple[str, str, datetime, str], float]:
        return {
            (f, s, h, r): v for f, hs in self.buckets.items() for h, b in hs.items() for (s, r), v in b.downtime.items()
        }

    @property
    def op_pieces(self) -> dict[tuple[str, str, str, datetime], int]:
        return {
            (f, s, op, h): n for f, hs in self.buckets.items() for h, b in hs.items() for (s, op), n in b.ops.items()
        }

    def bucket_ops(self, factory: str, h: datetime) -> dict[tuple[str, str], int]:
        """(station, op) -> pieces in local hour ``h`` (empty if nothing happened)."""
        b = self.buckets.get(factory, {}).get(h)
        return dict(b.ops) if b is not None else {}

    def op_pieces_between(self, factory: str, start: datetime, end: datetime) -> dict[tuple[str, str, datetime], int]:
        """(station, op, hour) -> pieces for the hours in [start, end)."""
        return {(s, op, h): n for h, b in self.buckets_between(factory, start, end) for (s, op), n in b.ops.items()}

    def station_live(self, factory: str, station: str) -> StationLive:
        key = (factory, station)
        st = self.stations.get(key)
        if st is None:
            line = self.layouts[factory].stations[station].line_id
            st = self.stations[key] = StationLive(factory, station, line)
        return st

    def _calendar(self, factory: str, line: str) -> ShiftCalendar:
        return self.layouts[factory].calendar_for_line(line)

    def _add_attended(self, st: StationLive, worker: str, start: datetime, end: datetime) -> None:
        cal = self._calendar(st.factory, st.line)
        for h, s, e in split_by_hour(start, end, self.tz(st.factory)):
            secs = cal.attended_s(s, e)
            if secs <= 0:
                continue
            b = self.bucket(st.factory, h)
            for scope, key in (
                ("worker", worker),
                ("station", st.station),
                ("line", st.line),
                ("factory", ""),
            ):
                b.hourly[(scope, key)].attended_s += secs
            b.fine[(st.line, st.station, worker, "")].attended_s += secs

    def _add_state_time(self, st: StationLive, state: str, start: datetime, end: datetime, machine: bool) -> None:
        for h, s, e in split_by_hour(start, end, self.tz(st.factory)):
            secs = (e - s).total_seconds()
            b = self.bucket(st.factory, h)
            cell = b.fine[(st.line, st.station, "", "")]
            if machine:
                b.machine[(st.station, state)] += secs
                if state in MACHINE_STATES:
                    setattr(cell, f"{state}_s", getattr(cell, f"{state}_s") + secs)
            else:
                b.downtime[(st.station, state)] += secs
                cell.downtime_s += secs

    def _close_session(self, st: StationLive, ts: datetime) -> None:
        if st.worker is not None and st.login_ts is not None:
            end = max(ts, st.login_ts)
            self._add_attended(st, st.worker, st.login_ts, end)
            self.worker_at.pop((st.factory, st.worker), None)
        st.worker = None
        st.login_ts = None

    # --- apply ---------------------------------------------------------------------------
    def apply(self, ev: SensorEvent) -> None:
        """Fold one accepted event (with ``factory`` and ``station`` set) into the state."""
        f = ev.factory
        assert f is not None and ev.station is not None
        st = self.station_live(f, ev.station)
        ts = ev.ts
        if ev.source == "sensor":
            st.last_seq = max(st.last_seq, ev.seq)
        st.last_ts = ts if st.last_ts is None else max(st.last_ts, ts)
        prev = self.latest_ts.get(f)
        if prev is None or ts > prev:
            self.latest_ts[f] = ts
        self.events_applied += 1

        if isinstance(ev, Piece):
            self._piece(st, ev)
        elif isinstance(ev, Login):
            other = self.worker_at.get((f, ev.worker))
            if other is not None and other != st.station:
                self._close_session(self.stations[(f, other)], ts)
            if st.worker is not None and st.worker != ev.worker:
                self._close_session(st, ts)
            if st.worker != ev.worker:  # a repeated login keeps the open session
                st.worker = ev.worker
                st.login_ts = ts
                self.worker_at[(f, ev.worker)] = st.station
        elif isinstance(ev, Logout):
            if st.worker == ev.worker:
                self._close_session(st, ts)
        elif isinstance(ev, Machine):
            if st.machine_since is not None and ts > st.machine_since:
                self._add_state_time(st, st.machine_state, st.machine_since, ts, True)
            if st.machine_since is None or ts >= st.machine_since:
                st.machine_state = ev.state
                st.machine_since = ts
        elif isinstance(ev, Downtime):
            if ev.phase == "start":
                st.downtime.setdefault(ev.reason, ts)
            else:
                since = st.downtime.pop(ev.reason, None)
                if since is not None and ts > since:
                    self._add_state_time(st, ev.reason, since, ts, False)
        elif isinstance(ev, BundleIn):
            st.wip[ev.bundle] = ts
            st.bundle = ev.bundle
            self._note_style(st, ev.bundle)
        elif isinstance(ev, BundleOut):
            st.wip.pop(ev.bundle, None)
            if st.bundle == ev.bundle:
                st.bundle = next(reversed(st.wip), None) if st.wip else None
        elif isinstance(ev, Defect):
            b = self.bucket(f, self.hour_of(f, ts))
            qty = ev.qty
            keys = [("station", st.station), ("line", st.line), ("factory", "")]
            if st.worker is not None:
                keys.append(("worker", st.worker))
            for scope, key in keys:
                b.hourly[(scope, key)].defects += qty
            b.fine[(st.line, st.station, st.worker or "", ev.op)].defects += qty

    def counted_pieces(self, factory: str, station: str, bundle: str, op: str, qty: int, ts: datetime) -> None:
        """Hook for pieces counted from motor bursts (service_layer/counting.py): tallied like
        reported pieces, never stored; ``qty`` < 0 retracts a provisional count at reconciliation."""
        if factory in self.layouts and self.layouts[factory].style_of_bundle(bundle) is not None:
            ev = Piece(id="~counted", seq=0, ts=ts, bundle=bundle, op=op, qty=qty)
            self._piece(self.station_live(factory, station), ev)

    def _style_index(self, factory: str, style: Style) -> tuple[dict[str, Operation], frozenset[str]]:
        key = (factory, style.code)
        idx = self._styles.get(key)
        if idx is None or idx[2] is not style:
            idx = self._styles[key] = (style.op_map(), frozenset(style.final_operations()), style)
        return idx[0], idx[1]

    def _note_style(self, st: StationLive, bundle: str) -> Style | None:
        style = self.layouts[st.factory].style_of_bundle(bundle)
        if style is not None:
            self.line_style[(st.factory, st.line)] = style.code
        return style

    def _piece(self, st: StationLive, ev: Piece) -> None:
        f = st.factory
        style = self.layouts[f].style_of_bundle(ev.bundle)
        assert style is not None  # the pipeline validated it
        ops, finals = self._style_index(f, style)
        earned = ev.qty * ops[ev.op].sam_min
        final = ev.op in finals
        b = self.bucket(f, self.hour_of(f, ev.ts))
        keys = [("station", st.station), ("line", st.line), ("factory", "")]
        if st.worker is not None:
            keys.append(("worker", st.worker))
        for scope, key in keys:
            t = b.hourly[(scope, key)]
            t.pieces += ev.qty
            t.earned_min += earned
            if final:
                t.output += ev.qty
        b.ops[(st.station, ev.op)] += ev.qty
        cell = b.fine[(st.line, st.station, st.worker or "", ev.op)]
        cell.pieces += ev.qty
        cell.earned_min += earned
        if final:
            cell.output += ev.qty
        st.bundle = ev.bundle
        st.op = ev.op
        st.last_piece_ts = ev.ts
        self.line_style[(f, st.line)] = style.code

    # --- queries -------------------------------------------------------------------------
    def as_of(self, factory: str, as_of: datetime | None = None) -> datetime:
        if as_of is not None:
            return as_of
        if self.demo_clock is not None:
            return self.demo_clock.now().astimezone(self.tz(factory))
        latest = self.latest_ts.get(factory)
        if latest is None:
            return datetime.now(self.tz(factory))
        return latest

    def _open_attended(
        self,
        factory: str,
        scope: str,
        as_of: datetime,
        start: datetime,
        end: datetime,
        stations: Collection[str] | None = None,
    ) -> dict[tuple[str, datetime], float]:
        """Attended seconds of sessions still open at ``as_of``, per (key of ``scope``, hour), for
        the hours in [start, end): only those are cut, so an ``as_of`` years after a login stays
        cheap. ``stations`` limits the work to the stations a page shows. Once per view (a page
        asks for the same scope and stations several times)."""
        key = ("open_attended", factory, scope, as_of, start, end, None if stations is None else tuple(stations))
        return self.memo(key, lambda: self._open_attended_now(factory, scope, as_of, start, end, stations))

    def _open_attended_now(
        self,
        factory: str,
        scope: str,
        as_of: datetime,
        start: datetime,
        end: datetime,
        stations: Collection[str] | None,
    ) -> dict[tuple[str, datetime], float]:
        out: dict[tuple[str, datetime], float] = defaultdict(float)
        for st, cuts in self._session_cuts(factory, as_of, start, end, stations):
            k = (
                (st.worker or "")
                if scope == "worker"
                else st.station
                if scope == "station"
                else st.line
                if scope == "line"
                else ""
            )
            for h, secs in cuts:
                out[(k, h)] += secs
        return out

    def _session_cuts(
        self, factory: str, as_of: datetime, start: datetime, end: datetime, stations: Collection[str] | None
    ) -> list[tuple[StationLive, list[tuple[datetime, float]]]]:
        """Each open session at ``stations`` (all the factory's: None) cut into (hour, seconds).

        On a view every session of the factory is cut once and the pages pick their stations (the
        overview asks for the factory and then for each line; a line page for its line)."""
        keys = (
            [(factory, s) for s in stations] if stations is not None else [k for k in self.stations if k[0] == factory]
        )
        if self.view_memo is None or self.demo_clock is not None:
            cut = self._cut_sessions(factory, as_of, start, end, keys)
            return [(self.stations[k], cut[k]) for k in keys if k in cut]
        every = self.memo(
            ("session_cuts", factory, as_of, start, end),
            lambda: self._cut_sessions(factory, as_of, start, end, [k for k in self.stations if k[0] == factory]),
        )
        return [(self.stations[k], every[k]) for k in keys if k in every]

    def _cut_sessions(
        self, factory: str, as_of: datetime, start: datetime, end: datetime, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
        out: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
        tz = self.tz(factory)
        first, stop = hour_start(start, tz), min(as_of, end + timedelta(hours=1))
        # The breaks once per calendar for the whole window, walked alongside each session's hours
        # (the same sums as cal.attended_s per hour, without scanning the calendar again).
        breaks_of: dict[str, list[tuple[datetime, datetime]]] = {}
        cuts_cache = self._cuts
        if len(cuts_cache) > 4 * len(self.stations) + 1000:  # sessions that ended, days gone by
            cuts_cache.clear()
        for key in keys:
            yielding.point()
            st = self.stations.get(key)
            if st is None or st.worker is None or st.login_ts is None or as_of <= st.login_ts:
                continue
            cal = self._calendar(factory, st.line)
            begin = max(st.login_ts, first)
            if stop <= begin:
                continue
            breaks = breaks_of.get(cal.id)
            if breaks is None:
                breaks = breaks_of[cal.id] = cal.break_intervals(first, stop) if stop > first else []
            # The hours a session has completed do not change as ``as_of`` moves on: kept across
            # views (``_cuts``), so each view cuts only the current hour of each session, and the
            # cost of a page does not grow with the hours since the logins.
            ck = (key, st.worker, st.login_ts, first, cal.id)
            hit = cuts_cache.get(ck)
            upto, cuts = (hit[0], list(hit[1])) if hit is not None and hit[0] <= stop else (begin, [])
            new_upto, n_done = upto, len(cuts)
            i = 0
            for h, s, e in split_by_hour(upto, stop, tz):
                secs = (e - s).total_seconds()
                while i < len(breaks) and breaks[i][1] <= s:
                    i += 1
                j = i
                while j < len(breaks) and breaks[j][0] < e:
                    overlap = (min(breaks[j][1], e) - max(breaks[j][0], s)).total_seconds()
                    secs -= max(overlap, 0.0)
                    j += 1
                if secs > 0:
                    cuts.append((h, secs))
                if e < stop:  # a whole hour, the same for any later as_of
                    new_upto, n_done = e, len(cuts)
            if new_upto > upto:
                cuts_cache[ck] = (new_upto, tuple(cuts[:n_done]))
            out[key] = cuts
        return out

    def tallies(
        self,
        factory: str,
        scope: str,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
        stations: Collection[str] | None = None,
    ) -> dict[str, dict[datetime, Tally]]:
        """Per key, per hour in [start, end): closed tallies plus open sessions up to as_of.

        ``stations``: only open sessions at these stations are cut (a page of one line passes its
        stations; keys of other stations then lack their open session's minutes)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        now = self.as_of(factory, as_of)
        # The closed tallies once per view and scope (pages ask for the same day many times); a
        # key an open session adds to gets its own dict and a new tally, the others are shared:
        # callers read the result, never change it.
        closed = self.memo(
            ("closed_tallies", factory, scope, start, end), lambda: self._closed_tallies(factory, scope, start, end)
        )
        out: dict[str, dict[datetime, Tally]] = defaultdict(dict, closed)
        own: set[str] = set()  # keys whose hours were copied (the others are the view's, unchanged)
        for (key, h), secs in self._open_attended(factory, scope, now, start, end, stations).items():
            if start <= h < end:
                if key not in own:
                    own.add(key)
                    out[key] = dict(out.get(key, {}))
                hours = out[key]
                t = hours.get(h)
                hours[h] = (
                    Tally(attended_s=secs)
                    if t is None
                    else Tally(t.pieces, t.earned_min, t.attended_s + secs, t.output, t.defects)
                )
        return out

    def _closed_tallies(
        self, factory: str, scope: str, start: datetime, end: datetime
    ) -> dict[str, dict[datetime, Tally]]:
        """Per key, per hour in [start, end): the tallies of closed time (memory and rollups)."""
        out: dict[str, dict[datetime, Tally]] = defaultdict(dict)
        # A view's buckets are frozen (the writer copies a bucket before changing it): their tallies
        # are shared as they are; the writer's own are copied.
        shared = self.view_memo is not None
        for h, b in self.buckets_between(factory, start, end):
            yielding.point()
            for (sc, key), t in b.hourly.items():
                if sc == scope:
                    out[key][h] = t if shared else Tally(t.pieces, t.earned_min, t.attended_s, t.output, t.defects)
        evicted = self.evicted_before.get(factory)
        if self.history is not None and evicted is not None and start < evicted:
            # Summed by the database per key and hour: the hours rule reads the month so far, and
            # loading that month's fine rows was the one thing in a page that grew with history.
            tz = self.tz(factory)
            for key, hour, pieces, earned, attended, output, defects in self.history.rollup_tallies(
                factory, scope, start, min(end, evicted)
            ):
                h = hour.astimezone(tz)
                acc = out[key].get(h)
                if acc is None:
                    acc = out[key][h] = Tally()
                elif shared:  # never add to a bucket's own tally
                    acc = out[key][h] = Tally(acc.pieces, acc.earned_min, acc.attended_s, acc.output, acc.defects)
                acc.pieces += pieces
                acc.earned_min += earned
                acc.attended_s += attended
                acc.output += output
                acc.defects += defects
        return dict(out)

    @staticmethod
    def _add_rollups(out: dict[str, dict[datetime, Tally]], scope: str, rows: list[RollupRow], tz: ZoneInfo) -> None:
        """Fold rollup rows (hours no longer in memory) into per-key, per-hour tallies of ``scope``."""
        for r in rows:
            c = r.cell
            if not (c.pieces or c.earned_min or c.output or c.defects or c.attended_s):
                continue  # machine and downtime rows: not part of the tallies
            if scope == "worker":
                if not r.worker:
                    continue
                key = r.worker
            else:
                key = r.station if scope == "station" else r.line if scope == "line" else ""
            h = r.hour.astimezone(tz)
            t = out[key].get(h)
            if t is None:
                t = out[key][h] = Tally()
            t.pieces += c.pieces
            t.earned_min += c.earned_min
            t.attended_s += c.attended_s
            t.output += c.output
            t.defects += c.defects

    def efficiency(
        self,
        factory: str,
        scope: str,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
        hourly: bool = False,
    ) -> list[dict[str, Any]]:
        rows = []
        for key, by_hour in sorted(self.tallies(factory, scope, start, end, as_of).items()):
            total = Tally()
            for t in by_hour.values():
                total.pieces += t.pieces
                total.earned_min += t.earned_min
                total.attended_s += t.attended_s
                total.output += t.output
                total.defects += t.defects
            row: dict[str, Any] = {"scope": scope, "key": key, **total.as_dict()}
            if hourly:
                row["hours"] = [{"hour": h.isoformat(), **t.as_dict()} for h, t in sorted(by_hour.items())]
            rows.append(row)
        return rows

    def day_bounds(self, factory: str, as_of: datetime) -> tuple[datetime, datetime]:
        tz = self.tz(factory)
        local = as_of.astimezone(tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, (start + timedelta(days=1)).astimezone(tz)

    def machine_seconds(
        self, factory: str, station: str, start: datetime, end: datetime, as_of: datetime
    ) -> dict[str, float]:
        out = dict.fromkeys(MACHINE_STATES, 0.0)
        for _h, b in self.buckets_between(factory, start, end):
            for (s, state), secs in b.machine.items():
                if s == station:
                    out[state] = out.get(state, 0.0) + secs
        st = self.stations.get((factory, station))
        if st is not None and st.machine_since is not None:
            # The open state counts only over the window: a station silent for a month costs what
            # one silent for a minute does.
            out[st.machine_state] = out.get(st.machine_state, 0.0) + self._open_span_s(
                factory, st.machine_since, as_of, start, end
            )
        return out

    def machine_seconds_of(
        self, factory: str, stations: Collection[str], start: datetime, end: datetime, as_of: datetime
    ) -> dict[str, dict[str, float]]:
        """``machine_seconds`` for several stations in one pass over the window's hours (on a view,
        one pass for every station, shared by the pages of that view)."""
        if self.view_memo is None:
            out = self._machine_closed(factory, stations, start, end)
        else:
            every = self.memo(("machine", factory, start, end), lambda: self._machine_closed(factory, None, start, end))
            out = {s: dict(every[s]) if s in every else dict.fromkeys(MACHINE_STATES, 0.0) for s in stations}
        for s, d in out.items():
            st = self.stations.get((factory, s))
            if st is not None and st.machine_since is not None:
                d[st.machine_state] = d.get(st.machine_state, 0.0) + self._open_span_s(
                    factory, st.machine_since, as_of, start, end
                )
        return out

    def _machine_closed(
        self, factory: str, stations: Collection[str] | None, start: datetime, end: datetime
    ) -> dict[str, dict[str, float]]:
        out = {s: dict.fromkeys(MACHINE_STATES, 0.0) for s in stations} if stations is not None else {}
        for _h, b in self.buckets_between(factory, start, end):
            yielding.point()
            for (s, state), secs in b.machine.items():
                d = out.get(s)
                if d is None:
                    if stations is not None:
                        continue
                    d = out[s] = dict.fromkeys(MACHINE_STATES, 0.0)
                d[state] = d.get(state, 0.0) + secs
        return out

    def _open_span_s(self, factory: str, since: datetime, as_of: datetime, start: datetime, end: datetime) -> float:
        """Seconds of [since, as_of) that fall in hours whose start is in [start, end)."""
        return open_span_s(self.tz(factory), since, as_of, start, end)

    def downtime_seconds(
        self, factory: str, stations: set[str], start: datetime, end: datetime, as_of: datetime
    ) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for _h, b in self.buckets_between(factory, start, end):
            yielding.point()
            for (s, reason), secs in b.downtime.items():
                if s in stations:
                    out[reason] += secs
        for s in stations:
            st = self.stations.get((factory, s))
            if st is None:
                continue
            for reason, since in st.downtime.items():
                span = self._open_span_s(factory, since, as_of, start, end)
                if span > 0:
                    out[reason] += span
        return dict(out)

    def line_live(self, factory: str, line: str, as_of: datetime | None = None) -> dict[str, Any]:
        """Everything a supervisor's screen shows for one line, as plain data."""
        layout = self.layouts[factory]
        if line not in layout.lines:
            raise KeyError(line)
        now = self.as_of(factory, as_of)
        day_start, day_end = self.day_bounds(factory, now)
        this_hour = hour_start(now, self.tz(factory))
        station_ids = sorted(
            (s for s in layout.stations.values() if s.line_id == line), key=lambda s: (s.position, s.id)
        )
        shown = [s.id for s in station_ids]
        st_tallies = self.tallies(factory, "station", day_start, day_end, now, shown)
        line_tallies = self.tallies(factory, "line", day_start, day_end, now, shown).get(line, {})
        machine = self.machine_seconds_of(factory, shown, day_start, day_end, now)
        style_code = self.line_style.get((factory, line))
        style = layout.styles.get(style_code) if style_code else None
        target_eff = layout.lines[line].target_efficiency_pct

        stations = []
        for s in station_ids:
            yielding.point()
            st = self.stations.get((factory, s.id)) or StationLive(factory, s.id, line)
            day = Tally()
            for t in st_tallies.get(s.id, {}).values():
                day.pieces += t.pieces
                day.earned_min += t.earned_min
                day.attended_s += t.attended_s
                day.defects += t.defects
            hour_t = st_tallies.get(s.id, {}).get(this_hour, Tally())
            stations.append(
                {
                    "station": s.id,
                    "position": s.position,
                    "machine_type": s.machine_type,
                    "worker": st.worker,
                    "worker_name": layout.workers[st.worker].name if st.worker in layout.workers else None,
                    "machine_state": st.machine_state,
                    "machine_since": st.machine_since.isoformat() if st.machine_since else None,
                    "downtime": sorted(st.downtime),
                    "wip": len(st.wip),
                    "wip_bundles": list(st.wip),
                    "bundle": st.bundle,
                    "op": st.op,
                    "last_piece": st.last_piece_ts.isoformat() if st.last_piece_ts else None,
                    "pieces_today": day.pieces,
                    "pieces_this_hour": hour_t.pieces,
                    "earned_min_today": round(day.earned_min, 3),
                    "attended_min_today": round(day.attended_s / 60, 3),
                    "efficiency_pct_today": _round(efficiency_pct(day.earned_min, day.attended_s / 60)),
                    "machine_s_today": machine[s.id],
                    "last_seq": st.last_seq,
                }
            )

        hours = []
        total = Tally()
        for h, t in sorted(line_tallies.items()):
            total.pieces += t.pieces
            total.earned_min += t.earned_min
            total.attended_s += t.attended_s
            total.output += t.output
            total.defects += t.defects
            target = target_for_attended(t.attended_s / 60, target_eff, style.sam_min) if style else None
            hours.append({"hour": h.isoformat(), **t.as_dict(), "target": _round(target, 1)})
        operators = sum(1 for s in stations if s["worker"])
        return {
            "factory": factory,
            "line": line,
            "as_of": now.isoformat(),
            "style": style_code,
            "garment_sam_min": round(style.sam_min, 4) if style else None,
            "target_efficiency_pct": target_eff,
            "operators": operators,
            "target_per_hour": _round(60 * operators * target_eff / 100 / style.sam_min, 1) if style else None,
            "today": total.as_dict(),
            "hours": hours,
            "wip": sum(s["wip"] for s in stations),
            "downtime_s_today": self.downtime_seconds(factory, {s.id for s in station_ids}, day_start, day_end, now),
            "stations": stations,
        }

    # --- comparison --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """A canonical, comparable dump of every accumulator (for the replay test)."""
        return {
            "hourly": {
                f"{f}|{sc}|{k}|{h.isoformat()}": t.as_dict()
                for (f, sc, k, h), t in sorted(self.hourly.items(), key=lambda x: (x[0][:3], x[0][3]))
            },
            "machine_s": {
                f"{f}|{s}|{h.isoformat()}|{state}": round(v, 6)
                for (f, s, h, state), v in sorted(self.machine_s.items(), key=lambda x: str(x[0]))
            },
            "downtime_s": {
                f"{f}|{s}|{h.isoformat()}|{r}": round(v, 6)
                for (f, s, h, r), v in sorted(self.downtime_s.items(), key=lambda x: str(x[0]))
            },
            "stations": {
                f"{f}|{s}": {
                    "worker": st.worker,
                    "login": st.login_ts.isoformat() if st.login_ts else None,
                    "machine": st.machine_state,
                    "since": st.machine_since.isoformat() if st.machine_since else None,
                    "downtime": sorted(st.downtime),
                    "wip": sorted(st.wip),
                    "last_seq": st.last_seq,
                }
                for (f, s), st in sorted(self.stations.items())
            },
            "events_applied": self.events_applied,
        }
