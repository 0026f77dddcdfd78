"""The SimPy model of a sewing floor: lines of stations, bundles flowing through queues.

One process per station does everything its sensor would see, in time order: log in, pull the
oldest ready bundle for one of its operations, sew piece by piece (each piece's time from the
worker's hidden efficiency, a learning curve and lognormal noise), stop for breaks, breakdowns and
changeovers, log out. One process per line releases bundles under a WIP cap. Because every event is
emitted at the simulated moment it happens, the emitted list is already in time order, and running
the environment in chunks (live mode) gives exactly the same stream as one long run.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import simpy

from seamline.domain.cutting import cut_order
from seamline.domain.model import (
    Bundle,
    DomainError,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)

from .balance import SUBSTITUTES, check_balance, initial_balance
from .config import SimConfig, default_start
from .control import Dispatcher, OrderPriority, dispatch_pick
from .handover import HandedOn, missed_shift_start
from .motor import MotorProfile, op_motor_profile, piece_plan, rng_for
from .truth import Truth
from .wip import done_at, preload_shares, with_predecessors
from .wire import (
    Emitted,
    StationWire,
    WBundleIn,
    WBundleOut,
    WBurst,
    WDefect,
    WDowntime,
    WLogin,
    WLogout,
    WMachine,
    WPiece,
)
from .workforce import GRADE_EFF, Workforce

EPS = 1e-6
DEFECT_CODES = ("SKIP_STITCH", "BROKEN_STITCH", "PUCKERING", "OPEN_SEAM", "UNEVEN_STITCH", "STAIN")
# (reason, share of stoppages, median minutes to fix)
STOPPAGES = (("THREAD", 0.6, 2.0), ("MECH", 0.3, 18.0), ("QUALITY", 0.1, 8.0))
Proc = Generator[simpy.Event, Any, Any]


@dataclass(slots=True)
class Window:
    """A stretch of working time at one station: between login/break end and break start/logout."""

    a: float
    b: float
    first: bool
    last: bool
    worker: Worker | None
    day: date | None


@dataclass(slots=True)
class DayPlan:
    date: date
    breaks: list[tuple[float, float]]
    # station -> (worker, login_s, logout_s)
    stations: dict[str, tuple[Worker, float, float]]


@dataclass(slots=True)
class Run:
    """Consecutive orders of one style on a line: no changeover between them."""

    index: int
    style: Style
    ops: dict[str, Operation]
    orders: list[str]
    bundles: list[Bundle]
    balance: dict[str, list[str]]
    by_op: dict[str, list[StationSim]] = field(default_factory=dict)
    first_ops: list[str] = field(default_factory=list)
    finals: frozenset[str] = frozenset()
    succ: dict[str, list[str]] = field(default_factory=dict)


class BundleSim:
    __slots__ = ("bundle", "finals_left", "run", "seq", "sewn", "waiting")

    def __init__(self, bundle: Bundle, run: Run, seq: int) -> None:
        self.bundle = bundle
        self.run = run
        # Release order on the line: stations take the oldest bundle (lowest ticket) first.
        self.seq = seq
        self.waiting = {o.code: len(o.predecessors) for o in run.style.operations}
        self.finals_left = len(run.finals)
        # Pieces already sewn of an operation left half done (handed on: sim/handover.py).
        self.sewn: dict[str, int] = {}


class Engine:
    """Builds the floor from a layout and runs it; ``run_until`` returns the new events."""

    def __init__(self, layout: FactoryLayout, config: SimConfig) -> None:
        self.layout = layout
        self.config = config
        self.env = simpy.Environment()
        self.tz = layout.factory.tz
        self.start = (config.start or default_start(layout)).astimezone(self.tz)
        self._start_utc = self.start.astimezone(UTC)
        self.run_id = config.run_id or f"s{config.seed}t{int(self._start_utc.timestamp()):x}"
        self.sink: list[Emitted] = []
        # Set by run_live: the timestamp of the last event that went out (None before the first).
        self.published_until: datetime | None = None
        self.workforce = Workforce(
            config.seed,
            new_op_rate=config.new_op_rate,
            learning_r_median=config.learning_r_median,
            defect_rate_mean=config.defect_rate_mean,
        )
        self.done_count: dict[tuple[str, str, str], int] = defaultdict(int)
        # A controller's dispatch rule (sim/control.py); None = the oldest ready bundle first.
        self.dispatcher: Dispatcher | None = None
        # What a station with no bundle for its own operations does (the tablet's "take another
        # operation of your machine"): given (op, oldest bundle, seconds waited, bundles waiting)
        # of the other operations of its machine type with bundles ready, the index of the one to
        # take, or None to wait. None (the default): it waits.
        self.helper: Callable[[str, Sequence[tuple[str, str, float, int]]], int | None] | None = None
        # A controller's order priority (sim/control.py): which waiting bundle first; None = tickets.
        self.order_priority: OrderPriority | None = None
        self._motor_profiles: dict[tuple[str, str], MotorProfile] = {}
        self._piece_rngs: dict[tuple[str, str, str], random.Random] = {}
        self.truth = Truth(
            run_id=self.run_id,
            seed=config.seed,
            factory=layout.factory.id,
            start=self.start,
            record_pieces=config.record_pieces,
            piece_counts=self.done_count,
        )
        self.lines = self._build_lines()
        for line in self.lines:
            line.start()

    # -- time ----------------------------------------------------------------------------------
    def motor_profile(self, style: str, op: Operation) -> MotorProfile:
        key = (style, op.code)
        p = self._motor_profiles.get(key)
        if p is None:
            p = self._motor_profiles[key] = op_motor_profile(
                self.config.seed, style, op.code, op.sam_min, op.machine_type
            )
        return p

    def piece_rng(self, badge: str, style: str, op: str) -> random.Random:
        """The random stream of one worker's pieces of one operation (cycle noise, defects): her
        n-th piece of it draws the same numbers whichever controller put her there and whenever
        (common random numbers across policies, as for stoppages and absences)."""
        key = (badge, style, op)
        r = self._piece_rngs.get(key)
        if r is None:
            r = self._piece_rngs[key] = random.Random(f"{self.config.seed}/piece/{badge}/{style}/{op}")
        return r

    def ts(self, t_s: float) -> datetime:
        return (self._start_utc + timedelta(seconds=round(t_s, 3))).astimezone(self.tz)

    def sim_s(self, dt: datetime) -> float:
        return (dt - self._start_utc).total_seconds()

    def now_dt(self) -> datetime:
        return self.ts(self.env.now)

    # -- build ---------------------------------------------------------------------------------
    def _build_lines(self) -> list[LineSim]:
        lay = self.layout
        stations_by_line: dict[str, list[Station]] = defaultdict(list)
        for st in lay.stations.values():
            if st.factory_id == lay.factory.id and st.line_id in lay.lines:
                stations_by_line[st.line_id].append(st)
        line_ids = [lid for lid in sorted(lay.lines) if stations_by_line[lid]]
        if not line_ids:
            raise DomainError(f"factory {lay.factory.id}: no line has stations")
        orders_by_line = self._deal_orders(line_ids, stations_by_line)
        floating = sorted((w for w in lay.workers.values() if w.line_id not in lay.lines), key=lambda w: w.badge)
        lines = []
        for i, lid in enumerate(line_ids):
            sts = sorted(stations_by_line[lid], key=lambda s: (s.position, s.id))
            workers = sorted((w for w in lay.workers.values() if w.line_id == lid), key=lambda w: w.badge)
            workers += floating[i :: len(line_ids)]
            lines.append(LineSim(self, lay.lines[lid], sts, workers, orders_by_line[lid]))
        return lines

    def _deal_orders(self, line_ids: list[str], stations_by_line: dict[str, list[Station]]) -> dict[str, list[Order]]:
        """Earliest due first, each order to the line that would finish it soonest.

        A line's time for an order is quantity × its bottleneck station's minutes per garment under
        the initial balance, so jeans go to the line with the machines for jeans.
        """
        lay = self.layout
        bottleneck: dict[tuple[str, str], float] = {}
        for lid in line_ids:
            for code, style in lay.styles.items():
                bal = initial_balance(style, stations_by_line[lid])
                shares: dict[str, int] = defaultdict(int)
                for codes in bal.values():
                    for c in codes:
                        shares[c] += 1
                ops = style.op_map()
                bottleneck[(lid, code)] = max(sum(ops[c].sam_min / shares[c] for c in codes) for codes in bal.values())
        busy = {lid: 0.0 for lid in line_ids}
        out: dict[str, list[Order]] = {lid: [] for lid in line_ids}
        orders = [o for o in lay.orders.values() if o.style_code in lay.styles]
        for o in sorted(orders, key=lambda o: (o.due, -o.priority, o.id)):
            lid = min(line_ids, key=lambda x: (busy[x] + o.quantity * bottleneck[(x, o.style_code)], x))
            out[lid].append(o)
            busy[lid] += o.quantity * bottleneck[(lid, o.style_code)]
        return out

    # -- run -----------------------------------------------------------------------------------
    def run_until(self, t_s: float) -> list[Emitted]:
        if t_s > self.env.now:
            self.env.run(until=t_s)
        out, self.sink = self.sink, []
        for st in self._all_stations():
            st.wire._sink = self.sink
        return out

    def _all_stations(self) -> Iterator[StationSim]:
        for line in self.lines:
            yield from line.stations

    def truth_dict(self, upto: datetime | None = None) -> dict[str, Any]:
        """The ground truth so far; ``upto`` cuts it at a moment (live mode: the last event published,
        since the engine runs a little ahead of the publisher)."""
        now_s = self.env.now if upto is None else min(self.env.now, self.sim_s(upto))
        cfg = asdict(self.config)
        cfg["start"] = self.start.isoformat()
        cfg["balances"] = {k: {s: list(v) for s, v in b.items()} for k, b in self.config.balances.items()}
        skills = [s.as_dict() for _, s in sorted(self.workforce.skills.items())]
        return self.truth.to_dict(end=self.ts(now_s), now_s=now_s, skills=skills, config=cfg)


def helpers_needed(kept: list[float], cands: list[float], sam: float) -> int:
    """How many of ``cands`` (loads in minutes per garment, least first) should share an operation of
    ``sam`` minutes with the ``kept`` stations (loads already carrying ``sam / len(kept)`` each): the
    fewest that make the heaviest load among them lowest; at least one when nobody is kept."""
    m = len(kept)

    def worst(k: int) -> float:
        n = m + k
        if n == 0:
            return math.inf
        return max([x - sam / m + sam / n for x in kept] + [x + sam / n for x in cands[:k]])

    # The fewest helpers reaching the lowest heaviest load (not a greedy stop: one helper may not
    # lower it while two do).
    options = range(0 if m else min(1, len(cands)), len(cands) + 1)
    best = min(worst(k) for k in options)
    return next(k for k in options if worst(k) <= best + EPS)


class LineSim:
    def __init__(
        self, eng: Engine, line: Line, stations: list[Station], workers: list[Worker], orders: list[Order]
    ) -> None:
        self.eng = eng
        self.env = eng.env
        self.line = line
        self.cal: ShiftCalendar = eng.layout.calendar_for_line(line.id)
        self.stations = [StationSim(self, st) for st in stations]
        self.by_id = {s.id: s for s in self.stations}
        self.by_type: dict[str, list[StationSim]] = defaultdict(list)
        for s in self.stations:
            self.by_type[s.station.machine_type].append(s)
        self.runs = self._plan_runs(orders)
        self._assign_workers(workers)
        # Bundles waiting for an operation, a heap by release order: "the oldest bundle first" is
        # the ticket order, not the moment it became ready (bundles released together would
        # otherwise tie and a station would sew one operation for all of them before the next).
        # (run, op) -> heap of (ticket order, moment it became ready, bundle): stations take the
        # oldest ticket; the moment tells a controller's dispatch rule how long it has waited
        self.ready: dict[tuple[int, str], list[tuple[int, float, BundleSim]]] = defaultdict(list)
        self._seq = 0
        self.remaining: dict[tuple[int, str], int] = {}
        for run in self.runs:
            for op in run.ops:
                self.remaining[(run.index, op)] = len(run.bundles)
        self.wip = 0
        self.cap = max(2, round(eng.config.wip_bundles_per_station * len(self.stations)))
        self._wip_event: simpy.Event | None = None
        self._days: dict[int, DayPlan | None] = {}
        self.cover: dict[tuple[date | None, int, str], list[str]] = {}
        self.coverers: dict[tuple[int, str], set[StationSim]] = {}
        self._day_start_s = 0.0
        self._start_date = eng.start.astimezone(self.cal.tz).date()

    def _assign_workers(self, workers: list[Worker]) -> None:
        """Seat the workers where their skills fit best; whoever is left is a spare.

        Only stations with work in the line's runs get a regular (an operator whose machine the
        balance leaves empty is a spare who stands in for absent colleagues, as a supervisor would
        use them). The seating maximises the summed median efficiency of each worker's grade on the
        station's machine type (an assignment problem), so no station gets a beginner on its machine
        while a skilled operator sits where they are barely needed: a greedy pass in line order did
        that and made the last stations the line's bottleneck."""
        used = {sid for run in self.runs for sid, codes in run.balance.items() if codes}
        seats = [st for st in self.stations if st.id in used] if self.runs else list(self.stations)
        free = list(workers)
        if seats and free:
            from scipy.optimize import linear_sum_assignment

            def fit(w: Worker, st: StationSim) -> float:
                return GRADE_EFF.get(max(0, min(w.grade_for(st.station.machine_type), 5)), 0.5)

            cost = [[-fit(w, st) for w in free] for st in seats]
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                seats[r].regular = free[c]
                self.eng.truth.assignments[seats[r].id] = free[c].badge
            taken = {int(c) for c in cols}
            free = [w for i, w in enumerate(free) if i not in taken]
        self.spares = free
        self.eng.truth.spares[self.line.id] = [w.badge for w in free]

    def _plan_runs(self, orders: list[Order]) -> list[Run]:
        lay = self.eng.layout
        runs: list[Run] = []
        for o in orders:
            style = lay.styles[o.style_code]
            bundles = sorted((b for b in lay.bundles.values() if b.order_id == o.id), key=lambda b: b.id)
            if not bundles:
                bundles = cut_order(o, style)
            if runs and runs[-1].style.code == style.code:
                runs[-1].orders.append(o.id)
                runs[-1].bundles.extend(bundles)
                continue
            runs.append(Run(len(runs), style, style.op_map(), [o.id], list(bundles), self._balance(style)))
        for run in runs:
            for sid, codes in run.balance.items():
                for c in codes:
                    run.by_op.setdefault(c, []).append(self.by_id[sid])
            run.first_ops = [o.code for o in run.style.operations if not o.predecessors]
            run.finals = frozenset(run.style.final_operations())
            run.succ = run.style.successors()
            self.eng.truth.balances.append(
                {
                    "line": self.line.id,
                    "run": run.index,
                    "style": run.style.code,
                    "orders": run.orders,
                    "stations": run.balance,
                }
            )
        self.eng.truth.line_orders[self.line.id] = [o.id for o in orders]
        return runs

    def _balance(self, style: Style) -> dict[str, list[str]]:
        given = self.eng.config.balances.get(style.code)
        ids = {s.id for s in self.stations}
        if given is not None and any(sid in ids for sid in given):
            return check_balance(style, given, ids)
        return initial_balance(style, [s.station for s in self.stations])

    def start(self) -> None:
        self.env.process(self._release())
        for st in self.stations:
            self.env.process(st.process())

    # -- days ----------------------------------------------------------------------------------
    def day_plan(self, i: int) -> DayPlan | None:
        if i in self._days:
            return self._days[i]
        plan = self._make_day(i)
        self._days[i] = plan
        return plan

    def _make_day(self, i: int) -> DayPlan | None:
        eng, cal, cfg = self.eng, self.cal, self.eng.config
        day = self._start_date + timedelta(days=i)
        if day.weekday() not in cal.workdays:
            return None
        s_dt = datetime.combine(day, cal.shift_start, cal.tz)
        e_day = day if cal.shift_end > cal.shift_start else day + timedelta(days=1)
        e_dt = datetime.combine(e_day, cal.shift_end, cal.tz)
        s, e = eng.sim_s(s_dt), eng.sim_s(e_dt)
        if e <= 0:
            return None
        breaks = [(eng.sim_s(a), eng.sim_s(b)) for a, b in cal.break_intervals(s_dt, e_dt)]
        rng = random.Random(f"{cfg.seed}/day/{self.line.id}/{day.isoformat()}")

        def arrival(w: Worker) -> float | None:
            """Login second, or None when absent; draws in a fixed order per worker."""
            absent = rng.random() < cfg.absence_rate
            late = rng.random() < cfg.late_rate
            late_min = rng.uniform(1.0, cfg.late_max_min)
            if absent:
                return None
            if late and s >= 0:
                eng.truth.late.append(
                    {"date": day.isoformat(), "worker": w.badge, "minutes": round(late_min, 2), "_s": s}
                )
                return s + late_min * 60.0
            return s

        regular = {st.id: (st.regular, arrival(st.regular)) for st in self.stations if st.regular}
        arrivals = [(w, arrival(w)) for w in self.spares]
        spares = [(w, t) for w, t in arrivals if t is not None]
        plan: dict[str, tuple[Worker, float, float]] = {}
        for st in self.stations:
            if st.id not in regular:
                continue
            w, t = regular[st.id]
            if t is None:
                cover = spares.pop(0) if spares else None
                eng.truth.absences.append(
                    {
                        "date": day.isoformat(),
                        "worker": w.badge,
                        "line": self.line.id,
                        "station": st.id,
                        "covered_by": cover[0].badge if cover else None,
                        "_s": s,
                    }
                )
                if cover is None:
                    continue
                w, t = cover
            login = max(0.0, t)
            if login < e:
                plan[st.id] = (w, login, e)
        self._day_start_s = s
        self._plan_cover(day, set(plan))
        return DayPlan(day, breaks, plan)

    # -- bundles -------------------------------------------------------------------------------
    def _release(self) -> Proc:
        pre = self._preload()
        for run in self.runs:
            for bundle in run.bundles:
                if bundle.id in pre:
                    continue
                while self.wip >= self.cap:
                    self._wip_event = self.env.event()
                    yield self._wip_event
                self.wip += 1
                b = self._new_bundle(bundle, run)
                for op in run.first_ops:
                    self._ready(run, op, b)

    def _new_bundle(self, bundle: Bundle, run: Run) -> BundleSim:
        self._seq += 1
        return BundleSim(bundle, run, self._seq)

    def _ready(self, run: Run, op: str, b: BundleSim) -> None:
        heapq.heappush(self.ready[(run.index, op)], (b.seq, float(self.env.now), b))
        self._notify(run, op)

    def _preload(self) -> set[str]:
        """Put the work in progress on the line before the first shift (sim/wip.py): bundles the
        config says are under way (a resumed demo), else, with ``preload_wip_bundles_per_station``,
        the first bundles of the first run spread along the line. Returns the bundle ids placed."""
        cfg = self.eng.config
        placed: list[tuple[Run, Bundle, frozenset[str]]] = []
        for run in self.runs:
            for bundle in run.bundles:
                given = cfg.wip.get(bundle.id)
                if given is not None:
                    placed.append((run, bundle, with_predecessors(run.style, given)))
        if not placed and cfg.preload_wip_bundles_per_station > 0 and self.runs:
            # The oldest bundles furthest along; when the first run is short, the next run's first
            # bundles follow it up the line (the line was already changing over yesterday).
            n = max(1, round(cfg.preload_wip_bundles_per_station * len(self.stations)))
            queue = [(run, b) for run in self.runs for b in run.bundles][:n]
            placed = [(run, b, done_at(run.style, f)) for (run, b), f in zip(queue, preload_shares(n), strict=False)]
        for run, bundle, done in placed:
            if run.finals <= done:
                continue  # finished after all
            b = self._new_bundle(bundle, run)
            self.wip += 1
            for code in run.style.topological_order():
                if code in done:
                    self.remaining[(run.index, code)] -= 1
                    for s in run.succ[code]:
                        b.waiting[s] -= 1
                    if code in run.finals:
                        b.finals_left -= 1
            for code, n_wait in b.waiting.items():
                if n_wait == 0 and code not in done:
                    self._ready(run, code, b)
        if placed:
            # A station whose part of a run is all behind it already works on the next run.
            for st in self.stations:
                while st.run_idx + 1 < len(self.runs) and self.done_with_run(st):
                    st.run_idx += 1
        return {bundle.id for _, bundle, _ in placed}

    def _notify(self, run: Run, op: str) -> None:
        helpers = self.by_type.get(run.ops[op].machine_type, ()) if self.eng.helper is not None else ()
        for st in (*run.by_op.get(op, ()), *self.coverers.get((run.index, op), ()), *helpers):
            w = st.wake
            if w is not None and not w.triggered:
                w.succeed()

    def _help(self, st: StationSim, run: Run) -> tuple[BundleSim, str] | None:
        """A station without work of its own takes another operation of its machine type, as its
        tablet tells it (``Engine.helper`` chooses which)."""
        rule = self.eng.helper
        if rule is None:
            return None
        mine = set(self.ops_of(st, run))
        mt = st.station.machine_type
        now = self.env.now
        opts: list[tuple[str, str, float, int]] = []
        queues = []
        for code, op in run.ops.items():
            q = self.ready.get((run.index, code))
            if q and code not in mine and op.machine_type == mt:
                opts.append((code, q[0][2].bundle.id, now - q[0][1], len(q)))
                queues.append(q)
        if not opts:
            return None
        i = rule(st.id, opts)
        if i is None:
            return None
        b = heapq.heappop(queues[i])[2]
        self._take(run, opts[i][0])
        return b, opts[i][0]

    def ops_of(self, st: StationSim, run: Run) -> list[str]:
        """The station's operations in ``run`` today: its own plus any it covers for absent people."""
        own = run.balance.get(st.id, [])
        extra = self.cover.get((st.win.day, run.index, st.id))
        return own + extra if extra else own

    def _plan_cover(self, day: date, staffed: set[str]) -> None:
        """Operations that lost stations to absences today get helper stations of a fitting type.

        This is what a line supervisor does first thing in the morning; without it one absence on a
        single-station operation would stop the whole line. The helpers are the least-loaded fitting
        stations, as many as lower the heaviest load among those doing the operation: a single
        helper taking a whole operation (or the present half of a shared one carrying it alone)
        became the line's bottleneck and starved everyone else (issue #21).
        """
        for run in self.runs:
            # Minutes per garment at each station, an operation shared by n stations counting 1/n.
            load: dict[str, float] = defaultdict(float)
            for code, sts in run.by_op.items():
                for st in sts:
                    load[st.id] += run.ops[code].sam_min / len(sts)
            for code, sts in run.by_op.items():
                kept = [st for st in sts if st.id in staffed]
                if len(kept) == len(sts):
                    continue
                mt = run.ops[code].machine_type
                subs = SUBSTITUTES.get(mt, ())
                present = [st for st in self.stations if st.id in staffed and st not in kept]
                cands = [st for st in present if st.station.machine_type == mt]
                cands = cands or [st for st in present if st.station.machine_type in subs]
                if not kept:
                    cands = cands or present
                sam = run.ops[code].sam_min
                for st in kept:  # the present stations of the operation carry the absent ones' share
                    load[st.id] += sam / len(kept) - sam / len(sts)
                if not cands:
                    continue
                # Helpers, least-loaded first, while that lowers the heaviest load among the stations
                # doing the operation (one station taking it whole became the line's bottleneck).
                ranked = sorted(cands, key=lambda x: (load[x.id], x.station.position))
                k = helpers_needed([load[x.id] for x in kept], [load[x.id] for x in ranked], sam)
                n = len(kept) + k
                for st in kept:
                    load[st.id] += sam / n - sam / len(kept)
                for st in ranked[:k]:
                    load[st.id] += sam / n
                    self.cover.setdefault((day, run.index, st.id), []).append(code)
                    self.coverers.setdefault((run.index, code), set()).add(st)
                    self.eng.truth.covers.append(
                        {
                            "date": day.isoformat(),
                            "line": self.line.id,
                            "style": run.style.code,
                            "op": code,
                            "station": st.id,
                            "_s": self._day_start_s,
                        }
                    )

    def pick(self, st: StationSim) -> tuple[BundleSim, str] | None:
        """The oldest bundle waiting for one of the station's operations of its current run."""
        run = self.runs[st.run_idx]
        if self.eng.dispatcher is not None or self.eng.order_priority is not None:
            return dispatch_pick(self, st, run, self.eng.dispatcher) or self._help(st, run)
        best: list[tuple[int, float, BundleSim]] | None = None
        best_op = ""
        for op in self.ops_of(st, run):
            q = self.ready.get((run.index, op))
            if q and (best is None or q[0][0] < best[0][0]):
                best, best_op = q, op
        if best is None:
            return self._help(st, run)
        b = heapq.heappop(best)[2]
        self._take(run, best_op)
        return b, best_op

    def hand_on(self, b: BundleSim, ops: list[str]) -> None:
        """Put a bundle left half done at an absent operator's station back in the queues of the
        operations still to do on it (the one in progress first): whoever has them today takes it,
        its old ticket first in line."""
        for op in ops:
            self.remaining[(b.run.index, op)] += 1
            self._ready(b.run, op, b)
        self.eng.truth.handovers.append(
            {
                "bundle": b.bundle.id,
                "line": self.line.id,
                "ops": list(ops),
                "at": self.eng.now_dt().isoformat(),
                "_s": self.env.now,
            }
        )

    def _take(self, run: Run, op: str) -> None:
        key = (run.index, op)
        self.remaining[key] -= 1
        if self.remaining[key] == 0:
            self._notify(run, op)  # stations sharing the op may now change over

    def done_with_run(self, st: StationSim) -> bool:
        run = self.runs[st.run_idx]
        return all(self.remaining[(run.index, op)] == 0 for op in self.ops_of(st, run))

    def complete(self, b: BundleSim, op: str, st: StationSim) -> list[str]:
        """Record op done on bundle b; return successors the same station carries on with."""
        run = b.run
        now = self.env.now
        mine = self.ops_of(st, run)
        carried: list[str] = []
        for s in run.succ[op]:
            b.waiting[s] -= 1
            if b.waiting[s] == 0:
                if s in mine:
                    self._take(run, s)
                    carried.append(s)
                else:
                    self._ready(run, s, b)
        if op in run.finals:
            b.finals_left -= 1
            if b.finals_left == 0:
                self.wip -= 1
                self.eng.truth.bundles_done.append(
                    {
                        "line": self.line.id,
                        "bundle": b.bundle.id,
                        "order": b.bundle.order_id,
                        "style": run.style.code,
                        "qty": b.bundle.qty,
                        "end": self.eng.ts(now).isoformat(),
                        "_s": now,
                    }
                )
                if self._wip_event is not None and not self._wip_event.triggered:
                    self._wip_event.succeed()
        return carried


class StationSim:
    def __init__(self, line: LineSim, station: Station) -> None:
        self.line = line
        self.eng = line.eng
        self.env = line.env
        self.station = station
        self.id = station.id
        self.cfg = line.eng.config
        # The station's sensor glitches (double counts); pieces and stoppages have their own streams.
        self.rng = random.Random(f"{self.cfg.seed}/station/{station.id}")
        self.wire = StationWire(
            line.eng.layout.factory.id,
            station.id,
            line.eng.run_id,
            self.cfg.seq_base,
            line.eng.sink,
            line.eng.ts,
        )
        self.regular: Worker | None = None
        self.worker: Worker | None = None
        self.run_idx = 0
        self.wake: simpy.Event | None = None
        self.state = "off"
        self.idle_since: float | None = None
        self.no_work_open = False
        self.need_login = False
        self.in_hand = False  # sewing a bundle (``_do``): it may have to be handed on overnight
        # Windows depend on the worker assignment, made after all stations exist: see process().
        self._windows: Iterator[Window] = iter(())
        self.win = Window(0.0, 0.0, False, False, None, None)
        # Stoppages have their own random stream and run on the station's staffed working time
        # (not its sewing time), so their moments do not depend on what the station was given to
        # do: two controllers on the same seed see the same breakdowns (common random numbers).
        self.fail_rng = random.Random(f"{self.cfg.seed}/breakdown/{station.id}")
        self.fail_left = self._draw_fail()  # staffed seconds to the next stoppage, between windows
        self.fail_at = math.inf  # its moment in the current window's time (set on entering one)
        self._mu = -0.5 * self.cfg.cycle_sigma**2
        self.motor_rng = rng_for(self.cfg.seed, "motor-station", station.id)

    # -- time windows --------------------------------------------------------------------------
    def _gen_windows(self) -> Iterator[Window]:
        i, empty = 0, 0
        # Spares only stand in for absent regulars, so a station without one never opens.
        while self.regular is not None and empty < 400:
            plan = self.line.day_plan(i)
            i += 1
            info = plan.stations.get(self.id) if plan else None
            if plan is None or info is None:
                empty += 1
                continue
            empty = 0
            worker, a, b = info
            parts: list[tuple[float, float]] = []
            cur = a
            for bs, be in plan.breaks:
                if be <= cur or bs >= b:
                    continue
                if bs > cur:
                    parts.append((cur, bs))
                cur = max(cur, be)
            if cur < b:
                parts.append((cur, b))
            for k, (x, y) in enumerate(parts):
                yield Window(x, y, k == 0, k == len(parts) - 1, worker, plan.date)
        while True:  # nobody ever works here
            yield Window(math.inf, math.inf, False, False, None, None)

    def _next_window(self) -> Window:
        w = next(self._windows)
        self.need_login = w.first
        self.fail_at = w.a + self.fail_left
        return w

    def _emit(self, cls: type, **fields: object) -> str:
        return self.wire.emit(cls, self.env.now, **fields)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._emit(WMachine, state=state)

    def _ensure_working(self) -> Proc:
        """Return at a moment the station is staffed and not on break, crossing boundaries."""
        while True:
            now = self.env.now
            w = self.win
            if w.a == math.inf:
                yield self.env.event()  # never fires: an unstaffed station sleeps for good
            if now >= w.b - EPS:
                self._cross(w)
                self.win = self._next_window()
                at = missed_shift_start(self.line.cal, self.eng.sim_s, w, self.win) if self.in_hand else None
                if at is not None:  # absent tomorrow with a bundle in hand: the leader hands it on
                    yield self.env.timeout(max(0.0, at - self.env.now))
                    raise HandedOn
                continue
            if now < w.a - EPS:
                yield self.env.timeout(w.a - now)
                continue
            if self.need_login and w.worker is not None:
                self.worker = w.worker
                self._emit(WLogin, worker=w.worker.badge)
                self.need_login = False
            return

    def _cross(self, w: Window) -> None:
        self.fail_left = max(0.0, self.fail_at - w.b)
        self._close_no_work()
        self.idle_since = None
        if w.last:
            if self.worker is not None:
                self._emit(WLogout, worker=self.worker.badge)
            self.worker = None
            self._set_state("off")
        else:
            self._set_state("idle")

    def _close_no_work(self) -> None:
        if self.no_work_open:
            self._emit(WDowntime, reason="NO_WORK", phase="end")
            self.no_work_open = False

    # -- main loop -----------------------------------------------------------------------------
    def process(self) -> Proc:
        line = self.line
        self._windows = self._gen_windows()
        self.win = self._next_window()
        while True:
            yield from self._ensure_working()
            if line.runs and line.done_with_run(self) and self.run_idx + 1 < len(line.runs):
                yield from self._changeover(self.run_idx + 1)
                continue
            task = line.pick(self) if line.runs else None
            if task is None:
                yield from self._idle()
                continue
            yield from self._do(*task)

    def _idle(self) -> Proc:
        self._set_state("idle")
        now = self.env.now
        if self.idle_since is None:
            self.idle_since = now
        no_work_s = self.cfg.no_work_after_min * 60.0
        until = min(self.win.b, self.fail_at)
        if not self.no_work_open:
            until = min(until, self.idle_since + no_work_s)
        self.wake = self.env.event()
        yield self.wake | self.env.timeout(max(0.0, until - now))
        self.wake = None
        now = self.env.now
        if now >= self.fail_at - EPS and now < self.win.b - EPS:
            # The machine stops while its operator waits: she waits for the mechanic now.
            self._close_no_work()
            yield from self._breakdown()
            self.idle_since = None
            return
        if not self.no_work_open and now >= self.idle_since + no_work_s - EPS and now < self.win.b - EPS:
            # The operator presses "no work" on the sensor after waiting a while.
            self._emit(WDowntime, reason="NO_WORK", phase="start")
            self.no_work_open = True

    def _changeover(self, nxt: int) -> Proc:
        self.run_idx = nxt
        if not self.line.ops_of(self, self.line.runs[nxt]):
            return
        self._close_no_work()
        self.idle_since = None
        self._set_state("idle")
        start = self.env.now
        self._emit(WDowntime, reason="CHANGEOVER", phase="start")
        yield from self._work(self.cfg.changeover_min * 60.0, sewing=False)
        self._emit(WDowntime, reason="CHANGEOVER", phase="end")
        self.eng.truth.changeovers.append(
            {
                "station": self.id,
                "line": self.line.line.id,
                "style": self.line.runs[nxt].style.code,
                "start": self.eng.ts(start).isoformat(),
                "end": self.eng.now_dt().isoformat(),
                "_s": self.env.now,
            }
        )

    def _work(self, dur_s: float, *, sewing: bool = True) -> Proc:
        """Spend ``dur_s`` of working time here: pauses over breaks and nights, may break down."""
        rem = dur_s
        while rem > EPS:
            yield from self._ensure_working()
            if self.env.now >= self.fail_at - EPS:
                yield from self._breakdown()
                continue
            if sewing:
                self._set_state("running")
            step = min(rem, self.win.b - self.env.now, self.fail_at - self.env.now)
            yield self.env.timeout(step)
            rem -= step

    def _draw_fail(self) -> float:
        return self.fail_rng.expovariate(1.0 / (self.cfg.mtbf_staffed_h * 3600.0))

    def _breakdown(self) -> Proc:
        """A stoppage at ``fail_at``: reason and repair time from the station's breakdown stream,
        drawn in a fixed order, and the next stoppage counted from the end of the repair."""
        u = self.fail_rng.random()
        acc = 0.0
        reason, median_min = STOPPAGES[-1][0], STOPPAGES[-1][2]
        for r, share, med in STOPPAGES:
            acc += share
            if u < acc:
                reason, median_min = r, med
                break
        repair_s = median_min * 60.0 * self.fail_rng.lognormvariate(0.0, 0.5)
        gap_s = self._draw_fail()
        start = self.env.now
        # The mechanic is done by the next break or the shift end at the latest.
        end = min(start + repair_s, self.win.b)
        self.fail_at = end + gap_s
        if start >= self.win.b - EPS:
            return  # fell exactly on a break or the shift end: nothing to stop
        self._set_state("idle")
        self._emit(WDowntime, reason=reason, phase="start")
        yield self.env.timeout(end - start)
        self._emit(WDowntime, reason=reason, phase="end")
        self.eng.truth.breakdowns.append(
            {
                "station": self.id,
                "worker": self.worker.badge if self.worker else None,
                "reason": reason,
                "start": self.eng.ts(start).isoformat(),
                "end": self.eng.now_dt().isoformat(),
                "_s": self.env.now,
            }
        )

    def _do(self, b: BundleSim, op: str) -> Proc:
        self._close_no_work()
        self.idle_since = None
        bid = b.bundle.id
        self._emit(WBundleIn, bundle=bid)
        todo = [op]
        self.in_hand = True
        try:
            while todo:
                code = todo.pop(0)
                yield from self._sew(b, code)
                todo.extend(self.line.complete(b, code, self))
        except HandedOn:  # the operator is away today: another station finishes the bundle
            left = list(todo)
            if b.sewn.get(code, 0) >= b.bundle.qty:  # only the last piece's repair was left
                left += self.line.complete(b, code, self)
            else:
                left.insert(0, code)
            self.line.hand_on(b, left)
            return
        finally:
            self.in_hand = False
        self._emit(WBundleOut, bundle=bid)

    def _sew_motor(self, style: str, op: Operation, cycle_s: float) -> Generator[Any, Any, str]:
        """A piece on a motor-sensor station: its bursts (sim/motor.py) over the cycle; returns the
        id of the last burst (the truth's handle on the piece)."""
        prof = self.eng.motor_profile(style, op)
        ev_id = ""
        left = cycle_s
        for gap, run, trim in piece_plan(prof, cycle_s, self.motor_rng):
            yield from self._work(gap, sewing=False)
            yield from self._ensure_working()
            ev_id = self._emit(WBurst, run_s=round(run, 3), trim=trim)
            yield from self._work(run)
            left -= gap + run
        # The handling after the last seam (laying the piece aside, taking the next) is part of the
        # cycle too: without it a motor-sensor station sewed about 1.5 times faster than the others.
        yield from self._work(max(0.0, left), sewing=False)
        return ev_id

    def _sew(self, b: BundleSim, code: str) -> Proc:
        eng, cfg, rng = self.eng, self.cfg, self.rng
        style = b.run.style
        op = b.run.ops[code]
        bid = b.bundle.id
        motor = self.station.line_id in cfg.motor_lines
        already = b.sewn.get(code, 0)  # sewn by someone before it was handed on
        for _ in range(b.bundle.qty - already):
            yield from self._ensure_working()
            worker = self.worker
            assert worker is not None
            skill = eng.workforce.skill(worker, style.code, op)
            eff = skill.efficiency(eng.done_count[(worker.badge, style.code, code)])
            prng = eng.piece_rng(worker.badge, style.code, code)
            cycle_s = op.sam_min * 60.0 / eff * prng.lognormvariate(self._mu, cfg.cycle_sigma)
            t0 = self.env.now
            if motor:
                ev_id = yield from self._sew_motor(style.code, op, cycle_s)
            else:
                yield from self._work(cycle_s)
            worker = self.worker or worker
            if not motor:
                ev_id = self._emit(WPiece, bundle=bid, op=code)
            eng.done_count[(worker.badge, style.code, code)] += 1
            b.sewn[code] = b.sewn.get(code, 0) + 1
            defect = prng.random() < skill.defect_rate
            if eng.truth.record_pieces:
                eng.truth.pieces.append(
                    [
                        ev_id,
                        worker.badge,
                        self.id,
                        style.code,
                        code,
                        bid,
                        round(t0, 3),
                        round(self.env.now, 3),
                        round(cycle_s, 3),
                        defect,
                    ]
                )
            if (
                not motor
                and rng.random() < cfg.double_count_rate
                and self.env.now + cfg.double_count_delay_s < min(self.win.b, self.fail_at)
            ):
                # A bouncing sensor: the same piece counted again a moment later, with a new id.
                yield self.env.timeout(cfg.double_count_delay_s)
                dup = self._emit(WPiece, bundle=bid, op=code)
                eng.truth.duplicates.append({"event_id": dup, "of": ev_id, "station": self.id, "_s": self.env.now})
            if defect:
                self._emit(WDefect, bundle=bid, op=code, defect=DEFECT_CODES[prng.randrange(len(DEFECT_CODES))])
                yield from self._work(cycle_s * cfg.rework_factor)
        if motor:  # the operator taps "bundle done" on the tablet: the bundle's quantity
            self._emit(WPiece, bundle=bid, op=code, qty=b.bundle.qty - already)
