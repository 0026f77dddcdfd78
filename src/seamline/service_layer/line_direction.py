"""Directing the line from its data: the tablets' next tasks, the smoothed bottleneck, the move.

The use-cases behind issue #21's items 4 and 5, joining the read models (live state, bundle
routing, waiting time, learning) with the planning rules (``planning.dispatch.next_task``,
``planning.bottleneck``, ``planning.balance.moves``) and the stored directives:

- **assignment**: who sews what on a line now — the latest accepted directive's assignment, else
  today's de-facto balance (shares of each operation's pieces per station); a station with no
  pieces yet gets the operations of its machine type nobody staffed covers;
- **ready bundles**: the WIP per operation from the events (bundle routing: predecessors done,
  the operation not), each with the station holding it; for the line's first operations, bundles
  of the orders running on the line that are not started yet (at the cutting table);
- **on-standard efficiency**: earned minutes ÷ (attended minutes − waiting-for-work minutes);
- **bottleneck**: capacities from on-standard efficiency, starved stations left out, smoothed per
  line between page computations (``BottleneckState`` kept here);
- **suggestion**: the best single move on the learned efficiencies, cached a few minutes per line;
  accepting it stores a directive (an assignment version) the tablets then follow;
- **trials**: an exploration trial a controller handed out (``line_trials``: a worker with slack
  tries one bundle of an operation she has not been seen on) is shown on her tablet apart from her
  own next task, with a bundle of that operation nobody's own next task takes, and only while no
  station that holds the operation is left without work by it (``choose_trial``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..adapters.directive_store import Directive, DirectiveStore
from ..adapters.trial_store import Trial, TrialStore
from ..domain import yielding
from ..domain.efficiency import efficiency_pct
from ..domain.live import LiveState
from ..domain.model import FactoryLayout, Style
from ..planning.balance.data import BalanceProblem
from ..planning.balance.moves import Move, best_move
from ..planning.bottleneck import STARVED_SHARE, BottleneckState, StationCapacity, smooth_bottleneck
from ..planning.dispatch.next_task import NextChoice, ReadyBundle, StationPlan, choose_next, ready_key, sam_to_end
from .waiting import WaitingProjection

_FAR = datetime.max.replace(tzinfo=UTC)
READY_MAX_AGE_S = 2.0
SUGGESTION_TTL_S = 120.0
MIN_ATTENDED_MIN = 15.0
UNSTARTED_PER_ORDER = 6


class RuntimeLike(Protocol):
    """What this module needs of ``bootstrap.Runtime`` (which it must not import: layers)."""

    engine: Any
    layouts: dict[str, FactoryLayout]
    live: LiveState
    pipeline: Any

    def projection(self, name: str) -> Any: ...


@dataclass(frozen=True)
class ReadyItem:
    bundle: ReadyBundle
    in_work_at: str | None  # a station sewing it right now (only that station may take it)


@dataclass(frozen=True)
class TrialTask:
    """An exploration trial on a tablet: one bundle of ``op_code`` to try beside the own work."""

    op_code: str
    bundle_id: str | None  # None: none to fetch now (the tablet shows the own work only)
    holder: str | None  # where the bundle is (None with a bundle: the cutting table)
    in_hand: bool = False  # she is sewing the trial's bundle now


@dataclass(frozen=True)
class StationDirection:
    station: str
    worker: str | None
    current_op: str | None
    current_bundle: str | None
    assigned: Mapping[str, float]
    next: NextChoice
    directed: bool  # the assignment comes from a supervisor's directive
    trial: TrialTask | None = None


@dataclass(frozen=True)
class StationFigures:
    station: str
    worker: str | None
    op: str | None
    earned_min: float
    attended_min: float
    waiting_min: float
    waiting_since: datetime | None

    @property
    def on_standard_pct(self) -> float | None:
        return on_standard_pct(self.earned_min, self.attended_min, self.waiting_min)


@dataclass(frozen=True)
class Suggestion:
    line: str
    style: str
    move: Move
    computed_at: datetime


def on_standard_pct(earned_min: float, attended_min: float, waiting_min: float) -> float | None:
    """Earned minutes ÷ (attended − waiting-for-work minutes) × 100: the operator's efficiency on
    the time she had work. None when she had no work time at all."""
    return efficiency_pct(earned_min, max(0.0, attended_min - waiting_min))


def choose_trial(
    station: str,
    op_code: str,
    ready: list[ReadyItem],
    taken: set[tuple[str, str]],
    holders_short: bool,
) -> TrialTask | None:
    """The bundle a station is to try ``op_code`` on, or None.

    A trial uses slack only: it never takes a bundle another station's own next task took
    (``taken``), and none at all while a station that holds the operation in the plan has nothing
    of its own to do next (``holders_short``: the trial would starve it; on the bottleneck's
    operation, the line). When no bundle is left the tablet falls back to the own work."""
    if holders_short:
        return None
    left = [
        r.bundle
        for r in ready
        if r.bundle.op_code == op_code
        and r.in_work_at in (None, station)
        and (r.bundle.bundle_id, r.bundle.op_code) not in taken
    ]
    if not left:
        return None
    b = min(left, key=lambda x: ready_key(x, station))
    return TrialTask(op_code, b.bundle_id, b.holder)


def _line_stations(layout: FactoryLayout, line: str) -> list[str]:
    return [s.id for s in sorted(layout.stations.values(), key=lambda s: (s.position, s.id)) if s.line_id == line]


class LineDirector:
    """Per runtime: caches and per-line state of the use-cases above."""

    def __init__(self, rt: RuntimeLike) -> None:
        self.rt = rt
        self.store = DirectiveStore(rt.engine)
        self.trial_store = TrialStore(rt.engine)
        self._lock = threading.Lock()
        self._ready: dict[str, tuple[int, float, dict[str, list[ReadyItem]]]] = {}
        self._bn: dict[tuple[str, str], BottleneckState] = {}
        self._suggest: dict[tuple[str, str], tuple[float, Suggestion | None]] = {}
        self._directives: dict[tuple[str, str], tuple[float, list[Directive]]] = {}
        self._trials: dict[tuple[str, str], tuple[float, datetime, list[Trial]]] = {}
        self._dirs: dict[tuple[str, str], tuple[datetime, int, float, dict[str, StationDirection]]] = {}

    # --- read models -------------------------------------------------------------------------
    def _waiting(self) -> WaitingProjection | None:
        p = self.rt.projection("waiting")
        return p if isinstance(p, WaitingProjection) else None

    def _waiting_of(self, live: LiveState) -> tuple[WaitingProjection | None, bool]:
        """The waiting projection as of ``live``'s view, and whether reading it needs the ingest
        lock: a page's view carries a copy taken with it (web/routes.py), read without the lock,
        so a page never holds ingest up while it sums waiting time."""
        memo = live.view_memo
        view = memo.get("waiting") if memo is not None else None
        if isinstance(view, WaitingProjection):
            return view, False
        return self._waiting(), True

    def ready_bundles(self, factory: str) -> dict[str, list[ReadyItem]]:
        """Line -> bundles ready for an operation (cached while no event came, at most 2 s old)."""
        applied = int(self.rt.live.events_applied)
        with self._lock:
            hit = self._ready.get(factory)
            if hit is not None and (hit[0] == applied or time.monotonic() - hit[1] < READY_MAX_AGE_S):
                return hit[2]
        out = self._compute_ready(factory)
        with self._lock:
            self._ready[factory] = (applied, time.monotonic(), out)
        return out

    def _compute_ready(self, factory: str) -> dict[str, list[ReadyItem]]:
        layout = self.rt.layouts[factory]
        mat = self.rt.projection("materials")
        out: dict[str, list[ReadyItem]] = defaultdict(list)
        if mat is None:
            return out
        routing = mat.routing
        seen_orders: dict[str, set[str]] = defaultdict(set)  # line -> orders on it
        with self.rt.pipeline.lock:
            tracks = [t for (f, _), t in routing.tracks.items() if f == factory and t.first_seen is not None]
            rows = []
            for t in tracks:
                if t.line is None or routing.status(factory, t) == "sewn":
                    if t.line is not None:
                        seen_orders[t.line].add(t.order_id)
                    continue
                seen_orders[t.line].add(t.order_id)
                holder = t.steps[-1].station if t.steps else None
                busy = next(iter(t.at), None)
                for code, ready in routing.open_ops(factory, t):
                    rows.append((t.line, t.bundle, code, t.qty - t.done(code), ready or t.first_seen, holder, busy))
            tracked = {b for (f, b) in routing.tracks if f == factory}
        for line, bid, code, qty, ready, holder, busy in rows:
            b = layout.bundles.get(bid)
            o = layout.orders.get(b.order_id) if b else None
            out[line].append(
                ReadyItem(
                    ReadyBundle(bid, code, qty, ready, holder, o.due if o else None, o.priority if o else 0), busy
                )
            )
        # not started yet: the next bundles of the orders running on each line, at the cutting table
        by_order: dict[str, list[str]] = defaultdict(list)
        for bid, b in layout.bundles.items():
            if bid not in tracked:
                by_order[b.order_id].append(bid)
        now = self.rt.live.as_of(factory)
        for line, orders in seen_orders.items():
            for oid in sorted(orders):
                o = layout.orders.get(oid)
                style = layout.styles.get(o.style_code) if o else None
                if o is None or style is None:
                    continue
                firsts = [op.code for op in style.operations if not op.predecessors]
                for bid in by_order.get(oid, [])[:UNSTARTED_PER_ORDER]:
                    qty = layout.bundles[bid].qty
                    for code in firsts:
                        out[line].append(ReadyItem(ReadyBundle(bid, code, qty, now, None, o.due, o.priority), None))
        return out

    def directives(self, factory: str, line: str, day_start: datetime) -> list[Directive]:
        key = (factory, line)
        hit = self._directives.get(key)
        if hit is not None and time.monotonic() - hit[0] < 5.0:
            return hit[1]
        ds = self.store.since(factory, line, day_start)
        self._directives[key] = (time.monotonic(), ds)
        return ds

    def trials(self, factory: str, line: str, day_start: datetime) -> list[Trial]:
        """The line's running trials (read at most every 5 s: every tablet asks each second)."""
        key = (factory, line)
        hit = self._trials.get(key)
        if hit is not None and hit[1] == day_start and time.monotonic() - hit[0] < 5.0:
            return hit[2]
        ts = self.trial_store.running(factory, line, day_start)
        self._trials[key] = (time.monotonic(), day_start, ts)
        return ts

    def forget_trials(self, factory: str, line: str) -> None:
        """Drop the cached trials and directions of a line (its trials were just set)."""
        with self._lock:
            self._trials.pop((factory, line), None)
            self._dirs.pop((factory, line), None)

    # --- assignment and next task ------------------------------------------------------------
    def line_style(self, layout: FactoryLayout, live: LiveState, line: str) -> Style | None:
        code = live.line_style.get((layout.factory.id, line))
        return layout.styles.get(code) if code else None

    def assignment(
        self, layout: FactoryLayout, live: LiveState, line: str, day_start: datetime, fallback: bool = True
    ) -> tuple[dict[str, dict[str, float]], set[str]]:
        """Station -> {op: share} on the line now, and the stations whose share a directive set.
        ``fallback``: stations with nothing yet get their machine type's uncovered operations."""
        f = layout.factory.id
        style = self.line_style(layout, live, line)
        stations = _line_stations(layout, line)
        if style is None:
            return {}, set()
        on_line = set(stations)
        style_ops = style.op_map()
        per_op: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (st, op, _h), n in live.op_pieces_between(f, day_start, _FAR).items():
            if st in on_line and op in style_ops:
                per_op[op][st] += n
        # a trial's pieces are not the balance: a worker trying an operation is not assigned it
        at_of = {sl.worker: sid for sid in stations if (sl := live.stations.get((f, sid))) and sl.worker}
        for tr in self.trials(f, line, day_start):
            sid_t = at_of.get(tr.badge)
            if sid_t is not None and tr.style == style.code:
                per_op.get(tr.op_code, {}).pop(sid_t, None)
        out: dict[str, dict[str, float]] = defaultdict(dict)
        for op, by_st in per_op.items():
            total = sum(by_st.values())
            if total <= 0:
                continue
            for st, n in by_st.items():
                out[st][op] = n / total
        directed: set[str] = set()
        ds = [d for d in self.directives(f, line, day_start) if d.style == style.code]
        if ds:
            at = {sl.worker: sid for sid in stations if (sl := live.stations.get((f, sid))) and sl.worker}
            for badge, shares in ds[-1].assignment:
                sid = at.get(badge)
                if sid is not None:
                    out[sid] = dict(shares)
            directed = {at[d.badge] for d in ds if d.badge in at}
        if not fallback:
            return dict(out), directed
        covered = {op for sh in out.values() for op in sh}
        ops = style.op_map()
        for sid in stations:
            if out.get(sid):
                continue
            mt = layout.stations[sid].machine_type
            able = [c for c in style.topological_order() if ops[c].machine_type == mt]
            free = [c for c in able if c not in covered] or able
            if free:
                out[sid] = {c: 1.0 / len(free) for c in free}
        return dict(out), directed

    def directions(
        self, layout: FactoryLayout, live: LiveState, line: str, day_start: datetime
    ) -> dict[str, StationDirection]:
        """Every station of the line: current task and the next one from the plan. Computed once per
        line while no event came (at most a second old): every tablet of the line asks each second."""
        key = (layout.factory.id, line)
        applied = int(live.events_applied)
        with self._lock:
            hit = self._dirs.get(key)
        if hit is not None and hit[0] == day_start and (hit[1] == applied or time.monotonic() - hit[2] < 1.0):
            return hit[3]
        out = self._directions(layout, live, line, day_start)
        with self._lock:
            self._dirs[key] = (day_start, applied, time.monotonic(), out)
        return out

    def _directions(
        self, layout: FactoryLayout, live: LiveState, line: str, day_start: datetime
    ) -> dict[str, StationDirection]:
        f = layout.factory.id
        style = self.line_style(layout, live, line)
        assign, directed = self.assignment(layout, live, line, day_start)
        ready = self.ready_bundles(f).get(line, [])
        out: dict[str, StationDirection] = {}
        if style is None:
            return out
        ops = style.op_map()
        upstream: dict[str, list[str]] = defaultdict(list)
        for sid, sh in assign.items():
            for c in sh:
                for succ in style.successors().get(c, []):
                    upstream[succ].append(sid)

        # One bundle is shown to one tablet: stations a directive moved choose first (they follow
        # it: no other operation is offered to them), then stations with nothing in hand (they need
        # work now), then the others, each in line order; a (bundle, operation) taken is not
        # offered again (the bundle's holder keeps its own next step on it).
        def empty_first(sid: str) -> tuple[bool, bool]:
            st = live.stations.get((f, sid))
            return sid not in directed, st is not None and st.bundle is not None

        taken: set[tuple[str, str]] = set()
        up = {c: tuple(sorted(set(v))) for c, v in upstream.items()}
        to_end = sam_to_end(style)
        for sid in sorted(_line_stations(layout, line), key=empty_first):
            st = live.stations.get((f, sid))
            mt = layout.stations[sid].machine_type
            able = frozenset(c for c, o in ops.items() if o.machine_type == mt)
            assigned = assign.get(sid, {})
            cur_op = st.op if st is not None and st.op in ops else None
            cur_bundle = st.bundle if st is not None else None
            if cur_op is None and cur_bundle is not None and assigned:
                cur_op = max(assigned, key=lambda c: (assigned[c], c))
            mine = [
                r.bundle
                for r in ready
                if r.in_work_at in (None, sid) and (r.bundle.bundle_id, r.bundle.op_code) not in taken
            ]
            if sid in directed:
                able = frozenset(assigned)
            nxt = choose_next(StationPlan(sid, cur_op, cur_bundle, assigned, able, up, to_end), mine)
            if st is not None and st.worker is not None and nxt.bundle_id is not None and nxt.op_code is not None:
                taken.add((nxt.bundle_id, nxt.op_code))
            out[sid] = StationDirection(
                sid, st.worker if st else None, cur_op, cur_bundle, assigned, nxt, sid in directed
            )
        # Trials after every station's own next task: a trial gets what is left (``choose_trial``).
        holders: dict[str, list[str]] = defaultdict(list)
        for sid, sh in assign.items():
            for c in sh:
                holders[c].append(sid)
        for tr in self.trials(f, line, day_start):
            d = next((x for x in out.values() if x.worker == tr.badge), None)
            if d is None or tr.style != style.code or tr.op_code not in ops or tr.op_code in d.assigned:
                continue  # she is not on the line, another style runs, or the plan took the pair
            if d.current_op == tr.op_code:
                task: TrialTask | None = TrialTask(tr.op_code, d.current_bundle, d.station, in_hand=True)
            else:
                short = any(out[h].next.kind in ("wait", "other_op") for h in holders.get(tr.op_code, []) if h in out)
                task = choose_trial(d.station, tr.op_code, ready, taken, short)
            if task is not None:
                if task.bundle_id is not None:
                    taken.add((task.bundle_id, tr.op_code))
                out[d.station] = dataclasses.replace(d, trial=task)
        return {sid: out[sid] for sid in _line_stations(layout, line)}

    # --- on-standard efficiency and the bottleneck --------------------------------------------
    def figures(self, layout: FactoryLayout, live: LiveState, line: str, now: datetime) -> dict[str, StationFigures]:
        """Each station's on-standard figures today (once per view: the overview and the line
        page of one tick share them)."""
        return live.memo(("figures", layout.factory.id, line, now), lambda: self._figures(layout, live, line, now))

    def _figures(self, layout: FactoryLayout, live: LiveState, line: str, now: datetime) -> dict[str, StationFigures]:
        f = layout.factory.id
        day_start, day_end = live.day_bounds(f, now)
        stations = _line_stations(layout, line)
        tallies = live.tallies(f, "station", day_start, day_end, now, stations)
        wp, needs_lock = self._waiting_of(live)
        waiting: dict[tuple[str, str], float] = {}
        since: dict[str, datetime] = {}
        if wp is not None:
            with self.rt.pipeline.lock if needs_lock else contextlib.nullcontext():
                waiting = wp.waiting_s(f, now.astimezone(live.tz(f)).date(), now, set(stations))
                since = {w.station: w.since for w in wp.waiting_now(f, set(stations))}
        wait_by_station: dict[str, float] = defaultdict(float)
        for (s, _w), secs in waiting.items():
            wait_by_station[s] += secs
        out = {}
        for sid in stations:
            yielding.point()
            st = live.stations.get((f, sid))
            ts = tallies.get(sid, {}).values()
            earned = sum(t.earned_min for t in ts)
            attended = sum(t.attended_s for t in ts) / 60.0
            out[sid] = StationFigures(
                sid,
                st.worker if st else None,
                st.op if st else None,
                earned,
                attended,
                min(attended, wait_by_station.get(sid, 0.0) / 60.0),
                since.get(sid),
            )
        return out

    def worker_figures(
        self, layout: FactoryLayout, live: LiveState, station: str, now: datetime
    ) -> tuple[float, float, float]:
        """(earned, attended, waiting) minutes today of the worker now at ``station``."""
        f = layout.factory.id
        st = live.stations.get((f, station))
        if st is None or st.worker is None:
            return 0.0, 0.0, 0.0
        day_start, day_end = live.day_bounds(f, now)
        ts = live.tallies(f, "worker", day_start, day_end, now, [station]).get(st.worker, {}).values()
        earned = sum(t.earned_min for t in ts)
        attended = sum(t.attended_s for t in ts) / 60.0
        wp, needs_lock = self._waiting_of(live)
        waited = 0.0
        if wp is not None:
            with self.rt.pipeline.lock if needs_lock else contextlib.nullcontext():
                w = wp.waiting_s(f, now.astimezone(live.tz(f)).date(), now)
            waited = sum(v for (_s, b), v in w.items() if b == st.worker) / 60.0
        return earned, attended, min(attended, waited)

    def capacities(
        self,
        layout: FactoryLayout,
        live: LiveState,
        line: str,
        figs: Mapping[str, StationFigures],
        assign: Mapping[str, Mapping[str, float]],
    ) -> list[StationCapacity]:
        style = self.line_style(layout, live, line)
        if style is None:
            return []
        ops = style.op_map()
        out = []
        for sid, fg in figs.items():
            sh = assign.get(sid, {})
            op = fg.op if fg.op in ops else (max(sh, key=lambda c: (sh[c], c)) if sh else None)
            if fg.worker is None or op is None or fg.attended_min < MIN_ATTENDED_MIN:
                continue
            eff = fg.on_standard_pct
            starved = fg.waiting_since is not None or fg.waiting_min >= STARVED_SHARE * fg.attended_min
            pph = 60.0 / ops[op].sam_min * (eff or 0.0) / 100.0
            out.append(StationCapacity(sid, op, pph, starved))
        return out

    def bottleneck(self, factory: str, line: str, caps: list[StationCapacity], now: datetime) -> BottleneckState:
        key = (factory, line)
        with self._lock:
            prev = self._bn.get(key, BottleneckState())
            if prev.since is not None and now < prev.since:
                prev = BottleneckState()  # the clock went back (a replay, a new demo day)
            new = smooth_bottleneck(prev, caps, now)
            self._bn[key] = new
        return new

    # --- the suggestion ----------------------------------------------------------------------
    def suggestion(self, layout: FactoryLayout, line: str, refresh: bool = False) -> Suggestion | None:
        key = (layout.factory.id, line)
        hit = self._suggest.get(key)
        if not refresh and hit is not None and time.monotonic() - hit[0] < SUGGESTION_TTL_S:
            return hit[1]
        s = self._compute_suggestion(layout, line)
        self._suggest[key] = (time.monotonic(), s)
        return s

    def learned(self, factory: str, line: str, style: str) -> dict[tuple[str, str], float]:
        proj = self.rt.projection("learning")
        if proj is None:
            return {}
        ests = proj.estimates_beside(self.rt.pipeline.lock, factory, line)
        return {(e.worker, e.op): float(e.efficiency) for e in ests if e.style == style and e.efficiency > 0}

    def _compute_suggestion(self, layout: FactoryLayout, line: str) -> Suggestion | None:
        f = layout.factory.id
        with self.rt.pipeline.lock:
            live = self.rt.live.frozen_view()
        now = live.as_of(f)
        day_start, _ = live.day_bounds(f, now)
        style = self.line_style(layout, live, line)
        if style is None:
            return None
        assign, _ = self.assignment(layout, live, line, day_start, fallback=False)
        figs = self.figures(layout, live, line, now)
        present = [(sid, fg.worker) for sid, fg in figs.items() if fg.worker and fg.worker in layout.workers]
        if len(present) < 2:
            return None
        eff = self.learned(f, line, style.code)
        ops = style.op_map()
        # Pairs sewn today with enough work time: today's on-standard efficiency, also learned from
        # the events, but over the time the station had work only. Learned cycle times of a starved
        # station still hold some of its waiting (final inspection at 29 % on the example line),
        # which would make the engine move people onto a station that only lacks bundles.
        for sid, badge in present:
            fg = figs[sid]
            on_std = fg.on_standard_pct
            if on_std and fg.attended_min - fg.waiting_min >= MIN_ATTENDED_MIN:
                for c in assign.get(sid, {}):
                    if c in ops:
                        eff[(badge, c)] = on_std / 100.0
        # An operation with a station waiting for work now does not bind the line now: the engine
        # balances the other operations; the waiting operators are free hands (movable when another
        # station keeps their operation) and no one is moved onto an operation that waits for work.
        # (waiting now: a station that waited in the morning and has work now binds the line again)
        waiting_now = {sid for sid, fg in figs.items() if fg.waiting_since is not None}
        starved_st = waiting_now
        starved_ops = frozenset(c for sid in waiting_now for c in assign.get(sid, {}))
        problem = BalanceProblem(style=style, workers=tuple(layout.workers[b] for _, b in present), efficiency=eff)
        elig = problem.eligible()
        orig = {badge: {c: sh for c, sh in assign.get(sid, {}).items() if c in ops} for sid, badge in present}
        stations = [
            (
                badge,
                {}
                if sid in starved_st
                else {c: sh for c, sh in orig[badge].items() if (badge, c) in elig and c not in starved_ops},
            )
            for sid, badge in present
        ]
        carriers: dict[str, int] = defaultdict(int)
        for sh in orig.values():
            for c in sh:
                carriers[c] += 1
        movers = frozenset(
            badge for sid, badge in present if sid not in starved_st or all(carriers[c] > 1 for c in orig[badge])
        )
        machine_of = {badge: layout.stations[sid].machine_type for sid, badge in present}
        to_ops = frozenset(ops) - starved_ops
        try:
            move = best_move(problem, stations, workers=movers, machine_of=machine_of, to_ops=to_ops)
        except ValueError:
            return None
        if move is None:
            return None
        moved = dict(move.stations)
        full = tuple(
            (b, dict(moved.get(b) or orig[b])) if b != move.badge else (b, dict(moved[b])) for _s, b in present
        )
        frm = move.from_op
        if frm is None and orig.get(move.badge):
            frm = max(orig[move.badge], key=lambda c: (orig[move.badge][c], c))
        return Suggestion(line, style.code, dataclasses.replace(move, stations=full, from_op=frm), now)

    def accept(self, layout: FactoryLayout, line: str, badge: str, to_op: str, by: str) -> Directive:
        """Store the current suggestion as a directive; ``LookupError`` if it is not the one shown."""
        s = self.suggestion(layout, line)
        if s is None or s.move.badge != badge or s.move.to_op != to_op:
            raise LookupError("suggestion changed")
        m = s.move
        d = self.store.add(
            Directive(
                0,
                layout.factory.id,
                line,
                s.style,
                m.badge,
                m.from_op,
                m.to_op,
                round(m.gain_pph, 2),
                round(m.before.pieces_per_hour, 2),
                round(m.after.pieces_per_hour, 2),
                tuple((b, dict(sh)) for b, sh in m.stations),
                by,
                self.rt.live.as_of(layout.factory.id),
            )
        )
        key = (layout.factory.id, line)
        with self._lock:
            self._directives.pop(key, None)
            self._suggest.pop(key, None)
            self._dirs.pop(key, None)
        return d


def director(rt: Any) -> LineDirector:
    """The runtime's director (made on first use)."""
    d = getattr(rt, "_line_director", None)
    if d is None:
        d = LineDirector(rt)
        rt._line_director = d
    return d
