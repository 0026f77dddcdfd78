"""seamline's policy: balance on normal efficiencies learned from the events, keep it right.

- Efficiencies come from ``seamline.learning`` fed with the observed events only: a cell with
  cycles gives its forecast over the next pieces (the learning curve included), a cell without
  gives the learned prior for that worker, skill group and operation.
- The balance is the planning engine's on those efficiencies. A re-balance is weighed in pieces
  (``rebalance``): at every decision point the engine offers plans that keep the cycle within
  a few tolerances of the shortest with fewer moves; each plan's garments over a working day of
  its life, less what its moves cost (a moved worker's set-up and the learning curve of an
  operation new to her, priced by the learned curves), is set against keeping the floor as it
  is, and the best is handed out (on a change of people keeping is not an option).
- Exploration (``trials``): a worker with slack (in the plan, or waiting for work on the floor
  for part of the last interval), not the bottleneck,
  tries a bundle of an operation she has not been seen on when the optimistic bound of her prior
  there reaches the efficiency of the operation's busy holders — a pair that may enter the
  optimum, which the balance cannot find out by itself since it only plans what it believes. The
  trial rides beside the plan and her own work goes first (``dispatch``), so it uses slack only.
- Dispatch feeds the bottleneck: a free station first takes work for an operation that feeds a
  bottleneck operation running short of bundles; then the bundle of the order with the fewest
  garments left to pack (order-level shortest remaining work, the plant's ``order_priority``: a
  small order overtakes a big one's pile at every station, an order's tail is finished rather
  than interleaved with the next); among equals the bundle that waited longest.
- Release: the line gets only as many bundles as keep every station busy — Little's law with the
  plan's cycle (critical WIP, Hopp & Spearman) and one bundle of slack per station, never more
  than the factory's standard allowance. (Measured, issue #21: on these lines that cap is close to
  the standard one; what makes small orders quick is the order-aware dispatch above, since with it a
  small order's bundles wait for the bundle in hand at each station, not for the pile.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from seamline.domain.events import Downtime, Piece, SensorEvent
from seamline.domain.model import FactoryLayout, Operation, Style
from seamline.learning.state import Cell, LearningState
from seamline.planning.balance.data import BalancePlan

from .balancing import LineBalance, balance_for, cycle_of, problem_for
from .base import LineState, PolicyBase
from .protocol import Directive, Option

# Clean cycles from which the balance-gap bench counts a pair as "seen" (about half a bundle). The
# estimate itself has no such switch: every cycle counts, weighed against the prior (``efficiency``).
MIN_CYCLES = 5
# Re-balance economics (docs/closed-loop.md, "Re-balancing by what a move costs").
# The cycles a re-balance may keep above the shortest to move fewer pairs: each gives a plan, and
# the plans are weighed against each other and against keeping the floor as it is.
TOLERANCES = (0.0, 0.005, 0.01, 0.02, 0.04)
# Minutes a worker loses to a move besides the learning curve: fetching the first bundle of the
# operation from its rack, setting the machine for it (guide or folder, stitch length, thread) and
# reading its instruction card. A floor figure, a setting, not fitted to the twin (whose simulator
# has no such cost for a change of operation within a style).
MOVE_SETUP_MIN = 5.0
# Exploration: trials at once on a line; the share of the cycle a worker must have free in the
# plan, or of the last interval she waited for work (or be waiting now), to try; the optimistic
# bound of a prior (mean + Z sd of log efficiency, the 84th percentile); the fraction of the
# holders' efficiency that bound must reach.
EXPLORE_MAX = 3
EXPLORE_SLACK = 0.10
EXPLORE_Z = 1.0
EXPLORE_REACH = 0.95
# A holder within this fraction of the cycle is busy: relieving her may shorten the cycle.
TIGHT = 0.02


class SeamlinePolicy(PolicyBase):
    name = "seamline"
    low_water_bundles = 2
    # The factory's standard WIP allowance (the simulator's default cap too): never more than this.
    wip_bundles_per_station = 1.5
    # Hand out exploration trials (``trials``). The demo explores too: its tablets show each trial
    # apart from the own work ("试做", ``service_layer.line_direction.choose_trial``).
    explore = True

    def __init__(self, layout: FactoryLayout, lines: Sequence[str], *, time_limit_s: float = 0.5) -> None:
        super().__init__(layout, lines, time_limit_s=time_limit_s)
        self.fid = layout.factory.id
        self.learning = LearningState({self.fid: layout})
        self._feeders: dict[str, dict[str, frozenset[str]]] = {}
        self._learn_memo: dict[tuple[str, str, int], float] = {}
        # Waiting for work, from the stations' NO_WORK reports: seconds since the last decision
        # point per station, and when an open wait began.
        self._idle_s: dict[str, float] = {}
        self._idle_since: dict[str, datetime] = {}
        self._since: datetime | None = None
        self.idle_share: dict[str, float] = {}  # station -> share of the last interval spent waiting
        self._memo: dict[tuple[str, str, str], float] = {}
        # Order book progress from the events: pieces counted at each final operation of a bundle
        # (capped at its size: a bouncing sensor counts no garment twice) and garments packed per order.
        self._finals = {code: frozenset(st.final_operations()) for code, st in layout.styles.items()}
        self._at_final: dict[tuple[str, str], int] = {}
        self._packed_bundle: dict[str, int] = {}
        self.packed: dict[str, int] = {}

    def observe(self, events: Sequence[SensorEvent]) -> None:
        super().observe(events)
        for ev in events:
            self.learning.apply(ev)
            if isinstance(ev, Piece):
                self._count_packed(ev)
            elif isinstance(ev, Downtime) and ev.reason == "NO_WORK" and ev.station is not None:
                if ev.phase == "start":
                    self._idle_since[ev.station] = ev.ts
                elif (t0 := self._idle_since.pop(ev.station, None)) is not None:
                    self._idle_s[ev.station] = self._idle_s.get(ev.station, 0.0) + (ev.ts - t0).total_seconds()

    def _count_packed(self, ev: Piece) -> None:
        b = self.layout.bundles.get(ev.bundle)
        o = self.layout.orders.get(b.order_id) if b is not None else None
        finals = self._finals.get(o.style_code, frozenset()) if o is not None else frozenset()
        if b is None or ev.op not in finals:
            return
        key = (b.id, ev.op)
        self._at_final[key] = min(b.qty, self._at_final.get(key, 0) + ev.qty)
        done = min(self._at_final.get((b.id, f), 0) for f in finals)
        before = self._packed_bundle.get(b.id, 0)
        if done > before:
            self._packed_bundle[b.id] = done
            self.packed[b.order_id] = self.packed.get(b.order_id, 0) + done - before

    def order_priority(self, order_id: str) -> float:
        """Garments of the order still to pack: the order closest to shipping goes first.

        Shortest remaining work first, at the level of the order (not the bundle): a small order's
        bundles overtake the pile of a big one at every station instead of queueing behind it, and a
        big order's last bundles are finished rather than left behind by the next order's. Every
        station still takes work whenever some waits, so the line's output is what the balance makes it.
        """
        o = self.layout.orders.get(order_id)
        if o is None:
            return math.inf
        return float(o.quantity - self.packed.get(order_id, 0))

    def decide(self, now: datetime) -> list[Directive]:
        self._memo.clear()  # new events since the last decision: estimates may have moved
        self._learn_memo.clear()
        self._note_idle(now)
        # Refit the factory-wide priors (skill group × grade, operation, worker knack) at every
        # decision: in the first hours of a new style they are all that speaks for the pairs
        # nobody has sewn yet, and the projection's default waits for 2000 new cycles.
        self.learning.refresh_priors(force=True)
        return super().decide(now)

    def _note_idle(self, now: datetime) -> None:
        """Each station's share of the interval since the last decision point spent waiting for work."""
        span = (now - self._since).total_seconds() if self._since is not None else 0.0
        for sid, t0 in self._idle_since.items():  # waits still open count up to now
            self._idle_s[sid] = self._idle_s.get(sid, 0.0) + max(
                0.0, (now - max(t0, self._since or t0)).total_seconds()
            )
            self._idle_since[sid] = now
        self.idle_share = {sid: min(1.0, s / span) for sid, s in self._idle_s.items()} if span > 0 else {}
        self._idle_s, self._since = {}, now

    def efficiency(self, badge: str, style: str, op: Operation) -> float:
        """What the balance counts on for ``badge`` on ``op`` (docs/learning.md, "What a balance
        counts on").

        - A pair with at least one clean cycle: ``LearningState.planning_efficiency`` over her
          next bundle — the cell's cycles and the prior blended by their precisions (no switch
          at a cycle count), at her place on the learning curve, as SAM ÷ expected time (a balance
          adds times, so an uncertain cell is not credited with the speed of its mean).
        - A pair nobody has sewn: the prior's mean at steady state, on purpose above what her first
          bundle will show (``planning_efficiency`` would give that: her group's start gap and
          the expected time). Valuing an untried pair at what it can become is what gets the
          promising ones tried — optimism in the face of uncertainty; her first bundle's cycles
          then speak for her. Measured (``bench/balance_gap.py --seeds 4``): with the cautious
          figure for untried pairs the optimum over the pairs seen lost 3 % to the full optimum
          on day 1, with this one 0.8 % (12 cases).
        """
        key = (badge, style, op.code)
        e = self._memo.get(key)
        if e is None:
            cell = self.learning.cells.get((self.fid, badge, style, op.code))
            if cell is None or cell.n_cycles == 0:
                e = self.learning.prior_estimate(self.fid, badge, style, op.code)
            else:
                horizon = self.layout.styles[style].bundle_size
                e = self.learning.planning_efficiency(self.fid, badge, style, op.code, horizon)
            self._memo[key] = e
        return e

    def wants(self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str) -> str | None:
        """A new style or a change of people re-balances; otherwise every decision point asks
        whether the learned figures make a better plan worth its moves ("drift", ``rebalance``).
        Asking costs a few LPs of milliseconds, so it is asked whenever the floor reports: early
        in a style, when estimates move most, every 30 minutes of the twin's grid."""
        if ls.balance is None or ls.style != style:
            return "start"
        if frozenset(present.items()) != ls.present:
            return "people"
        return "drift"

    def rebalance(
        self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str, reason: str
    ) -> LineBalance | None:
        """The plan worth the most garments over ``horizon_min`` net of its moves' cost.

        For a new style the shortest cycle (every pair is new anyway). Otherwise one plan per
        tolerance of ``TOLERANCES`` (the fewest new pairs within it of the shortest cycle), each
        worth ``horizon ÷ cycle − cost of its new pairs`` garments; on a drift keeping the floor's
        plan (its cycle on today's estimates, no cost) is a candidate too, and wins ties."""
        eff = self._eff(style)
        if reason == "start" or ls.balance is None or ls.style != style:
            return balance_for(self.layout, style, present, eff, time_limit_s=self.time_limit_s)
        previous = ls.balance.plan
        horizon = self.horizon_min(line)
        best: LineBalance | None = None
        best_value = -math.inf
        if reason == "drift":
            problem, _ = problem_for(self.layout, style, present, eff)
            now_cycle = cycle_of(previous, problem)
            best_value = horizon / now_cycle if now_cycle > 0 else -math.inf
        seen: set[frozenset[tuple[str, str]]] = set()
        for tol in TOLERANCES:
            cand = balance_for(self.layout, style, present, eff, previous=previous, tolerance=tol)
            pairs = frozenset(cand.plan.pairs())
            if pairs in seen or cand.plan.cycle_min <= 0:
                continue
            seen.add(pairs)
            value = horizon / cand.plan.cycle_min - self.move_cost_pcs(style, cand, previous, horizon)
            if value > best_value + 1e-9:
                best, best_value = cand, value
        return best

    def horizon_min(self, line: str) -> float:
        """Working minutes a plan is judged over: one shift. A plan stays on the floor overnight and
        the next morning's re-balance for the people present starts from it, so what it gains is
        worth about a day of output whatever the hour it is handed out."""
        return self.layout.calendar_for_line(line).shift_minutes()

    def move_cost_pcs(self, style: str, new: LineBalance, previous: BalancePlan, horizon_min: float) -> float:
        """Garments the new pairs of ``new`` (not in ``previous``) cost the line.

        A new pair costs its worker ``MOVE_SETUP_MIN`` plus the minutes her learning curve adds
        over the pieces the plan gives her in the horizon (the learned curve of that pair — for one
        never seen, the factory's learned shapes and her prior — against the efficiency the plan
        was made with). Her lost minutes cost the line garments in proportion to how busy the plan
        keeps her: load ÷ cycle (a worker at the cycle loses the line a garment per cycle lost)."""
        plan = new.plan
        old = previous.pairs()
        ops = self.layout.styles[style].op_map()
        cost = 0.0
        for a in plan.assignments:
            if (a.badge, a.op_code) in old or a.share <= 0:
                continue
            op = ops[a.op_code]
            pieces = max(1, math.ceil(a.share * horizon_min / plan.cycle_min))
            e_plan = self.efficiency(a.badge, style, op)
            e_learn = self._learning_efficiency(a.badge, style, op, pieces)
            lost = MOVE_SETUP_MIN + pieces * op.sam_min * max(0.0, 1.0 / e_learn - 1.0 / e_plan)
            busy = min(1.0, plan.loads_min.get(a.badge, plan.cycle_min) / plan.cycle_min)
            cost += lost * busy / plan.cycle_min
        return cost

    def _learning_efficiency(self, badge: str, style: str, op: Operation, pieces: int) -> float:
        """Efficiency over the pair's next ``pieces`` pieces from its learned curve (a pair never
        seen: an empty cell, i.e. her prior and the learned shapes of the factory's curves)."""
        key = (badge, op.code, pieces)
        e = self._learn_memo.get(key)
        if e is None:
            cell = self.learning.cells.get((self.fid, badge, style, op.code))
            if cell is None:
                w = self.layout.workers.get(badge)
                line = w.line_id if w else None
                cell = Cell(self.fid, badge, style, op.code, op.sam_min * 60.0, op.machine_type, line)
            e = self._learn_memo[key] = max(0.05, self.learning.forecast(cell, pieces))
        return e

    @property
    def learns(self) -> bool:
        """Whether the efficiencies are this policy's learned ones (a subclass that brings its own,
        as the oracle its truth, has nothing to learn by a trial)."""
        return type(self).efficiency is SeamlinePolicy.efficiency

    def trials(self, line: str, ls: LineState, now: datetime) -> dict[str, tuple[str, ...]]:
        """Station → the operation its worker is to try (see the module docstring).

        A trial goes on until its pair has ``MIN_CYCLES`` cycles (about a bundle's first pieces
        tell the learning what it needs; the rest of the bundle is sewn anyway) or the plan takes
        the pair; new ones are chosen by how far the optimistic bound of the worker's prior
        reaches over the operation's busy holders, at most one per worker and per operation and
        ``EXPLORE_MAX`` per line."""
        lb = ls.balance
        if not self.explore or not self.learns or lb is None:
            return {}
        plan, style = lb.plan, ls.style
        ops = self.layout.styles[style].op_map()
        in_plan = plan.pairs()
        c = plan.cycle_min
        if c <= 0:
            return {}
        loads = plan.loads_min
        present = self.floor.present(line)

        def untried(badge: str, code: str) -> bool:
            cell = self.learning.cells.get((self.fid, badge, style, code))
            return cell is None or cell.n_cycles < MIN_CYCLES

        out: dict[str, tuple[str, ...]] = {}
        for sid, codes in ls.trials.items():  # trials under way go on
            badge = present.get(sid)
            kept = tuple(
                code
                for code in codes
                if code in ops and badge is not None and (badge, code) not in in_plan and untried(badge, code)
            )
            if kept and lb.station_of.get(badge or "") == sid:
                out[sid] = kept
        busy_ops = {code for codes in out.values() for code in codes}
        holders: dict[str, list[tuple[str, float]]] = {}
        for a in plan.assignments:
            holders.setdefault(a.op_code, []).append((a.badge, a.share))
        tight_ops = {code for code, hs in holders.items() if any(loads.get(b, 0.0) >= (1.0 - TIGHT) * c for b, _ in hs)}
        explorers = [
            b
            for b, sid in lb.station_of.items()
            if b != plan.bottleneck
            and sid not in out
            and present.get(sid) == b
            and (
                loads.get(b, 0.0) <= (1.0 - EXPLORE_SLACK) * c
                or self.idle_share.get(sid, 0.0) >= EXPLORE_SLACK
                or sid in self.floor.no_work
            )
        ]
        cands: list[tuple[float, str, str]] = []
        for code in sorted(tight_ops - busy_ops):
            op = ops[code]
            held = sum(s * self.efficiency(b, style, op) for b, s in holders[code]) / max(
                1e-9, sum(s for _, s in holders[code])
            )
            for b in explorers:
                if lb.problem.efficiency.get((b, code), 0.0) <= 0 or (b, code) in in_plan or not untried(b, code):
                    continue
                reach = self._optimistic(b, style, op) / held
                if reach >= EXPLORE_REACH:
                    cands.append((reach, b, code))
        for _reach, b, code in sorted(cands, key=lambda t: (-t[0], t[1], t[2])):
            if len(out) >= EXPLORE_MAX:
                break
            sid = lb.station_of[b]
            if sid in out or code in busy_ops:
                continue
            out[sid] = (code,)
            busy_ops.add(code)
        return out

    def _optimistic(self, badge: str, style: str, op: Operation) -> float:
        """The optimistic bound of the worker's prior on the operation: exp(mean + Z sd) of log
        efficiency (the learning module's prior for a pair never seen)."""
        w = self.layout.workers.get(badge)
        grade = w.grade_for(op.machine_type, op.code) if w else 0
        group = (self.fid, w.skill_group, grade) if w else (self.fid, "unknown", 0)
        m, sd = self.learning.priors.prior(
            None, (self.fid, style, op.code), group, (self.fid, badge), float(grade) if w else None
        )
        return math.exp(m + EXPLORE_Z * sd)

    def wip_cap(self, line: str, lb: LineBalance) -> int | None:
        """Critical WIP (bottleneck rate × raw process time) in bundles, plus one per station.

        A bundle's raw time through the line is the garment's work along the longest precedence
        path at the plan's speeds; at the bottleneck's rate the line holds path ÷ cycle bundles
        in process, whatever the bundle size."""
        style = self.layout.styles[lb.plan.style_code]
        plan = lb.plan
        if plan.cycle_min <= 0:
            return None
        per_op: dict[str, float] = {}
        for a in plan.assignments:  # minutes per garment of each op at the plan's speed
            eff_time = a.minutes_per_piece / a.share if a.share > 0 else 0.0
            per_op[a.op_code] = max(per_op.get(a.op_code, 0.0), eff_time)
        longest: dict[str, float] = {}
        for code in style.topological_order():
            op = style.op(code)
            longest[code] = per_op.get(code, op.sam_min) + max((longest[p] for p in op.predecessors), default=0.0)
        path_min = max(longest.values(), default=0.0)
        stations = len(lb.stations)
        self._feeders[plan.style_code] = _feeders(style, plan)
        standard = round(self.wip_bundles_per_station * len(lb.station_of))
        return max(2, min(standard, math.ceil(path_min / plan.cycle_min) + stations))

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        """The station's own work before a trial (a trial uses slack only); then feed a starving
        bottleneck; then the most urgent order (``order_priority``: the head bundle of each option
        is already its operation's most urgent); then the longest wait."""
        line = self.layout.stations[station].line_id
        ls = self.state.get(line)
        feeds = self._feeders.get(ls.style, {}) if ls is not None else {}
        trying = ls.trials.get(station, ()) if ls is not None else ()
        bundles = self.layout.bundles

        def key(i: int) -> tuple[int, int, float, float]:
            op, bundle, waited_s, _n = options[i]
            starving = any(waiting.get(b, 0) < self.low_water_bundles for b in feeds.get(op, ()))
            b = bundles.get(bundle)
            urgency = self.order_priority(b.order_id) if b is not None else math.inf
            return (1 if op in trying else 0, 0 if starving else 1, urgency, -waited_s)

        return min(range(len(options)), key=key)


def _feeders(style: Style, plan: BalancePlan) -> dict[str, frozenset[str]]:
    """op → the bottleneck operations it directly feeds (the bottleneck worker's operations)."""
    bott = {a.op_code for a in plan.assignments if a.badge == plan.bottleneck}
    out: dict[str, set[str]] = {}
    for code in bott:
        for p in style.op(code).predecessors:
            out.setdefault(p, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}
