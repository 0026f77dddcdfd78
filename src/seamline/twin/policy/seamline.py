"""seamline's policy: balance on normal efficiencies learned from the events, keep it right.

- Efficiencies come from ``seamline.learning`` fed with the observed events only: a cell with
  cycles gives its forecast over the next pieces (the learning curve included), a cell without
  gives the learned prior for that worker, skill group and operation.
- The balance is the planning engine's on those efficiencies; a re-balance (someone missing or
  back, a new style, or every ``drift_every_min`` when the learned figures have moved) asks the
  engine for the fewest changed (worker, operation) pairs among the shortest cycles, and a drift
  re-balance is only handed out when it shortens the predicted cycle by ``min_gain``.
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
from datetime import datetime, timedelta

from seamline.domain.events import Piece, SensorEvent
from seamline.domain.model import FactoryLayout, Operation, Style
from seamline.learning.state import LearningState
from seamline.planning.balance.data import BalancePlan

from .balancing import LineBalance, cycle_of, problem_for
from .base import LineState, PolicyBase
from .protocol import Directive, Option

# Clean cycles from which the balance-gap bench counts a pair as "seen" (about half a bundle). The
# estimate itself has no such switch: every cycle counts, weighed against the prior (``efficiency``).
MIN_CYCLES = 5


class SeamlinePolicy(PolicyBase):
    name = "seamline"
    drift_every_min = 60.0
    min_gain = 0.03
    low_water_bundles = 2
    # The factory's standard WIP allowance (the simulator's default cap too): never more than this.
    wip_bundles_per_station = 1.5

    def __init__(self, layout: FactoryLayout, lines: Sequence[str], *, time_limit_s: float = 0.5) -> None:
        super().__init__(layout, lines, time_limit_s=time_limit_s)
        self.fid = layout.factory.id
        self.learning = LearningState({self.fid: layout})
        self._feeders: dict[str, dict[str, frozenset[str]]] = {}
        self._last_drift: dict[str, datetime] = {}
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
        # Refit the factory-wide priors (skill group × grade, operation, worker knack) at every
        # decision: in the first hours of a new style they are all that speaks for the pairs
        # nobody has sewn yet, and the projection's default waits for 2000 new cycles.
        self.learning.refresh_priors(force=True)
        return super().decide(now)

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
        if ls.balance is None or ls.style != style:
            return "start"
        if frozenset(present.items()) != ls.present:
            return "people"
        last = self._last_drift.get(line)
        if last is None or now - last >= timedelta(minutes=self.drift_every_min):
            self._last_drift[line] = now
            return "drift"
        return None

    def accept(self, ls: LineState, new: LineBalance, reason: str) -> bool:
        if reason != "drift" or ls.balance is None:
            return True
        # The plan on the floor, scored on today's estimates, against the new one.
        problem, _ = problem_for(
            self.layout,
            ls.style,
            dict(ls.present),
            lambda b, op: self.efficiency(b, ls.style, op),
        )
        now_cycle = cycle_of(ls.balance.plan, problem)
        return new.plan.cycle_min < now_cycle * (1.0 - self.min_gain)

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
        """Feed a starving bottleneck first; then the most urgent order (``order_priority``: the
        head bundle of each option is already its operation's most urgent); then the longest wait."""
        line = self.layout.stations[station].line_id
        ls = self.state.get(line)
        feeds = self._feeders.get(ls.style, {}) if ls is not None else {}
        bundles = self.layout.bundles

        def key(i: int) -> tuple[int, float, float]:
            op, bundle, waited_s, _n = options[i]
            starving = any(waiting.get(b, 0) < self.low_water_bundles for b in feeds.get(op, ()))
            b = bundles.get(bundle)
            urgency = self.order_priority(b.order_id) if b is not None else math.inf
            return (0 if starving else 1, urgency, -waited_s)

        return min(range(len(options)), key=key)


def _feeders(style: Style, plan: BalancePlan) -> dict[str, frozenset[str]]:
    """op → the bottleneck operations it directly feeds (the bottleneck worker's operations)."""
    bott = {a.op_code for a in plan.assignments if a.badge == plan.bottleneck}
    out: dict[str, set[str]] = {}
    for code in bott:
        for p in style.op(code).predecessors:
            out.setdefault(p, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}
