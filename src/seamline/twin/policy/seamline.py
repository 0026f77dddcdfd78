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
- Uncertainty (``fresh_balance``, ``EXPECTED_CHOICE``): every figure has its posterior spread. A
  balance from scratch, free to pick among all pairs, plans on their lower confidence bounds
  (else it picks the pairs whose estimates flatter them); the running policy's move costs
  already keep thinly known pairs off the floor's plan, and choosing it by expected garments over
  posterior draws was measured not to help, so it is off.
- Exploration (``trials``): optimism for exploring. The balance on every pair's optimistic bound
  shows the pairs that could make a shorter cycle; each it uses that the floor's plan does not is
  worth its chance of being that good × the garments it would gain over the style's remaining
  work, against its cost: nothing on a worker's slack (her own work goes first, ``dispatch``), a
  bundle's minutes for a loaded worker (a paid trial: its one bundle goes first, never from an
  operation at its low water). The balance cannot find such pairs by itself since it only plans
  what it believes. The bottleneck worker never tries.
- Pessimism for committing, robust then nominal (``ROBUST_THEN_NOMINAL``): the running policy's
  plans take the shortest cycle on every pair's lower bound first, then among the allocations
  within ``ROBUST_SLACK`` of it the shortest on the estimates (``balance_shares(robust=…)``). The
  plan on lower bounds alone (``PLAN_ON_LCB``, off) lost balance quality: on lower bounds pairs
  of a skill group tie and the LP picks among equally short plans blindly; the second stage
  breaks those ties by the estimates. Untried pairs then enter by trials, valued jointly
  (``JOINT_TRIALS``; docs/closed-loop.md, "Robust, then nominal").
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
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from seamline.domain.events import Downtime, Piece, SensorEvent
from seamline.domain.model import FactoryLayout, Operation, Style
from seamline.learning.state import Cell, LearningState
from seamline.planning.balance.data import BalancePlan, BalanceProblem

from .balancing import EffFn, LineBalance, balance_expected, balance_for, cycle_of, problem_for, rescored
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
# plan, or of the last interval she waited for work (or be waiting now), for a trial on her slack
# (free); the optimistic bound a trial is chosen on (mean + Z sd of log efficiency, the 84th
# percentile) and the chance a pair is at least that good (1 − Φ(Z)): a trial's expected gain is
# what the line gains if the pair proves as good as that bound, times that chance.
EXPLORE_MAX = 3
EXPLORE_SLACK = 0.10
EXPLORE_Z = 1.0
EXPLORE_P = 0.5 * math.erfc(EXPLORE_Z / math.sqrt(2.0))
# Trials valued jointly (``JOINT_TRIALS``): the optimistic plan's untried pairs are also valued as
# a set — ``EXPLORE_P`` × what the line gains with all of them at their optimistic bound against
# none — shared out among them by the minutes each carries in that plan × how far its bound is above
# its committed figure; a pair is worth the more
# of its share and its value alone. Pairs that only help together (a worker freed for one
# operation by another's trial on hers) are then worth what they make together.
JOINT_TRIALS = True
# Optimism for exploring, pessimism for committing: the running policy's plan (what the floor is
# told and what a re-balance is weighed on) counts every pair at the lower end of its 95 %
# interval (``LCB_Z`` below); the trials come from the plan on the optimistic bounds. Off: the
# running policy counts seen pairs at their estimate and never-sewn ones at their prior's mean.
PLAN_ON_LCB = False
# Robust, then nominal (``ROBUST_THEN_NOMINAL``): the running policy's plans take the shortest
# cycle on robust figures first (every pair ``ROBUST_Z`` posterior sds of log efficiency below its
# figure; with ``ROBUST_UNTRIED_AT_BOUND`` off a pair never sewn counts at its prior's mean
# instead), then among the allocations within ``ROBUST_SLACK`` of that robust cycle the shortest on
# the estimates: the winner's curse is held off and the lower bounds' ties are broken by the
# estimates. Candidates are still compared on the estimates (one basis: ``rebalance``'s rate).
# Measured (``bench/balance_gap.py``, docs/closed-loop.md): never-sewn pairs at their mean made
# the plan chase them (a pair lost ~1 sd the moment its first cycle came in) and lost day 1.
ROBUST_THEN_NOMINAL = True
ROBUST_Z = 1.0
ROBUST_SLACK = 0.01
ROBUST_UNTRIED_AT_BOUND = True
# Planning against uncertainty (docs/learning.md, docs/closed-loop.md). The lower confidence bound
# a from-scratch balance plans on (``fresh_balance(lcb=True)``): the lower end of the 95 % interval
# the skill matrix shows for every pair (``SkillEstimate.lo``), a convention, not fitted.
LCB_Z = 1.96
# The running policy's choice by expected garments over posterior draws (``EXPECTED_CHOICE``): the
# menu widened by plans on lower-confidence figures (``RISK_Z`` sds below each pair's figure, at
# ``ROBUST_TOLERANCES``) and the expected-cycle LP (``balancing.balance_expected``), each plan
# scored on ``POSTERIOR_DRAWS`` draws. Measured and left off: it lost 1-1.5 points of day-plan
# quality on seeds 1-2 (the posterior of never-sewn pairs is too narrow to be trusted that far).
EXPECTED_CHOICE = False
POSTERIOR_DRAWS = 64
RISK_Z = (0.5, 1.0, 2.0)
ROBUST_TOLERANCES = (0.0, 0.02)


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
        self._draw_memo: dict[tuple[str, str, str], np.ndarray] = {}
        self._decisions_made = 0
        # Set by ``fresh_balance``: untried pairs at their expected start (not the optimistic steady
        # state), and every pair ``_lcb_z`` posterior sds below its figure.
        self._cautious = False
        self._lcb_z = 0.0
        self._bound_memo: dict[tuple[str, str, str, float], float] = {}
        # Paid trials (``trials``): (station, operation) of trials on a loaded worker, whose one
        # bundle goes before her own work; and those whose bundle she has taken (``dispatch``).
        self._paid: set[tuple[str, str]] = set()
        self._paid_taken: set[tuple[str, str]] = set()
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
        self._draw_memo.clear()
        self._bound_memo.clear()
        self._decisions_made += 1
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
            if PLAN_ON_LCB and not self._cautious:
                e = self.bound(badge, style, op, -LCB_Z)
            elif (cell is None or cell.n_cycles == 0) and not self._cautious:
                e = self.learning.prior_estimate(self.fid, badge, style, op.code)
            else:
                horizon = self.layout.styles[style].bundle_size
                e = self.learning.planning_efficiency(self.fid, badge, style, op.code, horizon)
                if self._lcb_z > 0:
                    e *= math.exp(-self._lcb_z * self.learning.planning_sd(self.fid, badge, style, op.code, horizon))
            self._memo[key] = e
        return e

    def _robust(self, style: str) -> EffFn | None:
        """The figures a running plan's first stage is shortest on (``ROBUST_THEN_NOMINAL``): every
        pair ``ROBUST_Z`` posterior sds below its figure (``bound``); with
        ``ROBUST_UNTRIED_AT_BOUND`` off a pair never sewn at its figure instead, the prior's mean.
        None when off, for a policy that does not learn, and for ``fresh_balance``."""
        if not ROBUST_THEN_NOMINAL or not self.learns or self._cautious or PLAN_ON_LCB:
            return None

        def f(badge: str, op: Operation) -> float:
            cell = self.learning.cells.get((self.fid, badge, style, op.code))
            if (cell is None or cell.n_cycles == 0) and not ROBUST_UNTRIED_AT_BOUND:
                return self.efficiency(badge, style, op)
            return self.bound(badge, style, op, -ROBUST_Z)

        return f

    def bound(self, badge: str, style: str, op: Operation, z: float) -> float:
        """The pair's efficiency ``z`` posterior sds of log efficiency from its figure: below it
        (z < 0) what the plan commits to, above it (z > 0) what a trial may find.

        - A pair with cycles: ``planning_efficiency`` over her next bundle (the curve posterior)
          × exp(z ``planning_sd``).
        - A pair never sewn: the prior at steady state, exp(mean + z sd) of log efficiency (her
          first bundle's slowness is priced apart, in a move's cost: ``move_cost_pcs``)."""
        key = (badge, style, op.code, z)
        e = self._bound_memo.get(key)
        if e is None:
            cell = self.learning.cells.get((self.fid, badge, style, op.code))
            if cell is None or cell.n_cycles == 0:
                m, sd = self._prior_log(badge, style, op)
                e = math.exp(m + z * sd)
            else:
                horizon = self.layout.styles[style].bundle_size
                args = (self.fid, badge, style, op.code, horizon)
                e = self.learning.planning_efficiency(*args) * math.exp(z * self.learning.planning_sd(*args))
            e = self._bound_memo[key] = max(0.05, e)
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

        Candidates: for a new style the shortest cycle (every pair is new anyway); otherwise one
        plan per tolerance of ``TOLERANCES`` (the fewest new pairs within it of the shortest
        cycle), and on a drift keeping the floor's plan (no cost; it wins ties). Each is worth
        ``horizon ÷ cycle − cost of its new pairs`` garments, the cycle on today's estimates.

        With ``EXPECTED_CHOICE`` (off, measured: docs/closed-loop.md, "Planning against
        uncertainty") the menu also holds the engine's plans on lower-confidence figures
        (``RISK_Z``) and the expected-cycle LP, and ``1 ÷ cycle`` is replaced by its expectation
        over draws of the learned posterior (``_expected_rate``)."""
        eff = self._eff(style)
        problem, _ = problem_for(self.layout, style, present, eff)
        draws = self._draws(style, problem) if self.learns and EXPECTED_CHOICE else None
        fresh = reason == "start" or ls.balance is None or ls.style != style
        previous = None if fresh or ls.balance is None else ls.balance.plan
        horizon = self.horizon_min(line) if previous is not None else 1.0

        def rate(plan: BalancePlan) -> float:
            if draws is not None:
                return _expected_rate(plan, problem, draws)
            cycle = cycle_of(plan, problem)  # the floor's plan was made on older figures
            return 1.0 / cycle if 0 < cycle < math.inf else 0.0

        best: LineBalance | None = None
        best_value = -math.inf
        if reason == "drift" and previous is not None:
            best_value = horizon * rate(previous)
        figures: list[tuple[EffFn, tuple[float, ...]]] = [(eff, TOLERANCES if previous is not None else (0.0,))]
        if draws is not None:
            figures += [(_lower(draws, z, eff), ROBUST_TOLERANCES if previous is not None else (0.0,)) for z in RISK_Z]
        cands: list[LineBalance] = []
        for f, tolerances in figures:
            for tol in tolerances:
                cand = balance_for(
                    self.layout,
                    style,
                    present,
                    f,
                    previous=previous,
                    tolerance=tol,
                    time_limit_s=self.time_limit_s,
                    robust=self._robust(style) if f is eff else None,
                    robust_slack=ROBUST_SLACK,
                )
                cands.append(cand if f is eff else rescored(cand, problem))
        if draws is not None:
            cands.append(balance_expected(self.layout, style, present, eff, draws))
        seen: set[frozenset[tuple[str, str]]] = set()
        for cand in cands:
            pairs = frozenset(cand.plan.pairs())
            if pairs in seen or cand.plan.cycle_min <= 0:
                continue
            seen.add(pairs)
            cost = self.move_cost_pcs(style, cand, previous, horizon) if previous is not None else 0.0
            value = horizon * rate(cand.plan) - cost
            if value > best_value + 1e-9:
                best, best_value = cand, value
        return best

    def fresh_balance(self, line: str, now: datetime, *, lcb: bool = False) -> LineBalance | None:
        """The balance this policy would hand out for the people present if nothing were on the
        floor: its learned efficiencies alone, no move costs (``bench/closed_loop.py`` scores it
        apart from the day plan, which also carries the re-balance's trade-off against moves).

        Every pair counts at what the learning expects of it now, a pair never sewn at its group's
        first bundle (``LearningState.planning_efficiency``), not at the optimistic steady state
        the running policy gives it to get it tried: from scratch nothing else stops a balance
        from handing the line to people who have not sewn their operations yet.

        With ``lcb`` every pair counts at the lower end of its 95 % interval (``LCB_Z`` posterior
        sds of log efficiency below its figure): pessimism against the winner's curse, since a
        balance free to choose among hundreds of pairs picks those whose estimates flatter them."""
        ls = self.state[line]
        present = self.floor.present(line)
        style = ls.style
        if not present or not style:
            return None
        saved = self._memo, self._draw_memo
        self._memo, self._draw_memo, self._cautious, self._lcb_z = {}, {}, True, LCB_Z if lcb else 0.0
        try:
            return self.rebalance(line, LineState(), now, present, style, "start")
        except ValueError:
            return None
        finally:
            (self._memo, self._draw_memo), self._cautious, self._lcb_z = saved, False, 0.0

    def _draws(self, style: str, problem: BalanceProblem) -> dict[tuple[str, str], np.ndarray]:
        """``POSTERIOR_DRAWS`` draws of every eligible pair's efficiency (fraction of standard),
        from the same beliefs ``efficiency`` summarises: a pair with cycles from its curve
        posterior over her next bundle, a pair never sewn from its steady-state prior. Each pair's
        draws are seeded by the decision point and the pair, so the same question gets the same
        answer whoever asks it and in whatever order."""
        out: dict[tuple[str, str], np.ndarray] = {}
        horizon = self.layout.styles[style].bundle_size
        ops = self.layout.styles[style].op_map()
        for (badge, code), e in problem.efficiency.items():
            if e <= 0:
                continue
            key = (badge, style, code)
            d = self._draw_memo.get(key)
            if d is None:
                rng = np.random.default_rng([self._decisions_made, zlib.crc32(f"{badge}/{style}/{code}".encode())])
                cell = self.learning.cells.get((self.fid, badge, style, code))
                if (cell is None or cell.n_cycles == 0) and not self._cautious:
                    d = self.learning.prior_draws(self.fid, badge, style, code, rng, POSTERIOR_DRAWS)
                else:
                    d = self.learning.planning_draws(self.fid, badge, style, code, horizon, rng, POSTERIOR_DRAWS)
                d = self._draw_memo[key] = np.maximum(0.05, d)
            out[(badge, ops[code].code)] = d
        return out

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
        """Station → the operation its worker is to try (see the module docstring): optimism for
        exploring, pessimism for committing.

        The plan on the floor counts every pair at its lower bound (``efficiency``); the plan on
        the optimistic bounds (``bound(…, EXPLORE_Z)``) shows which pairs could make a shorter
        cycle. Each pair it uses and the floor's plan does not is a candidate, worth
        ``EXPLORE_P`` × the garments the line would gain over the style's remaining work
        (``explore_horizon_min``) if the pair proved as good as its optimistic bound (the
        shortest cycle on the committed figures with that one pair at its bound), or with
        ``JOINT_TRIALS`` its part of the set's gain (all the candidates at their bounds against
        none, shared by their minutes × hope there) if that is more. A trial costs
        one bundle of the operation at her expected first-bundle rate, in garments the line
        loses by her being off her own work (her load ÷ the cycle, less the share she waited for
        work): nothing for a worker with slack, whose own work goes first (``dispatch``), and
        for a loaded one her bundle's minutes ÷ the cycle; she then takes the trial's bundle
        before her own work, once (``_paid``). The trials are those whose expected gain exceeds
        their cost, the best net first, at most one per worker and per operation and
        ``EXPLORE_MAX`` per line; never the bottleneck worker. A trial goes on until its pair
        has ``MIN_CYCLES`` cycles or the plan takes it."""
        lb = ls.balance
        if not self.explore or not self.learns or lb is None:
            self._paid.clear()
            return {}
        plan, style = lb.plan, ls.style
        ops = self.layout.styles[style].op_map()
        in_plan = plan.pairs()
        c = plan.cycle_min
        present = self.floor.present(line)
        if c <= 0 or not present:
            return {}

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
            # a re-balance may have made her the bottleneck since: then her trial ends
            if kept and badge != plan.bottleneck and lb.station_of.get(badge or "") == sid:
                out[sid] = kept
        busy_ops = {code for codes in out.values() for code in codes}
        explorers = {
            b: sid
            for b, sid in lb.station_of.items()
            if b != plan.bottleneck and sid not in out and present.get(sid) == b
        }
        try:
            cands = self._trial_values(line, ls, present, explorers, in_plan, busy_ops) if explorers else []
        except ValueError:  # the engine found no balance (as ``decide``): no new trial, the plan stands
            cands = []
        paid = {p for p in self._paid if out.get(p[0]) and p[1] in out[p[0]]}
        for net, b, code, is_paid in cands:
            if len(out) >= EXPLORE_MAX:
                break
            sid = explorers[b]
            if net <= 0 or sid in out or code in busy_ops:
                continue
            out[sid] = (code,)
            busy_ops.add(code)
            if is_paid:
                paid.add((sid, code))
        self._paid = paid
        self._paid_taken &= paid
        return out

    def _trial_values(
        self,
        line: str,
        ls: LineState,
        present: Mapping[str, str],
        explorers: Mapping[str, str],
        in_plan: set[tuple[str, str]] | frozenset[tuple[str, str]],
        busy_ops: set[str],
    ) -> list[tuple[float, str, str, bool]]:
        """(net garments, badge, operation, paid) of every candidate trial, the best first."""
        lb = ls.balance
        assert lb is not None
        plan, style = lb.plan, ls.style
        ops = self.layout.styles[style].op_map()
        commit = self._eff(style)
        c0 = balance_for(self.layout, style, present, commit).plan.cycle_min
        if c0 <= 0:
            return []

        def ucb(badge: str, op: Operation) -> float:
            return self.bound(badge, style, op, EXPLORE_Z)

        hopeful = balance_for(self.layout, style, present, ucb).plan
        horizon = self.explore_horizon_min(line, style, c0)
        bundle = self.layout.styles[style].bundle_size
        cands: list[tuple[str, str, float, float]] = []  # badge, op, optimistic bound, minutes in ``hopeful``
        for a in sorted(hopeful.assignments, key=lambda a: (a.badge, a.op_code)):
            b, code = a.badge, a.op_code
            if a.share <= 0 or b not in explorers or (b, code) in in_plan or code in busy_ops:
                continue
            if lb.problem.efficiency.get((b, code), 0.0) <= 0:
                continue
            up = self.bound(b, style, ops[code], EXPLORE_Z)
            # its weight in the set's gain: the minutes it carries there × how far its hope is
            # above what the plan counts on (a pair with no hope above its figure earns nothing)
            hope = max(0.0, 1.0 - commit(b, ops[code]) / up)
            cands.append((b, code, up, a.share * ops[code].sam_min / up * hope))
        shared: dict[tuple[str, str], float] = {}
        if JOINT_TRIALS and len(cands) > 1:
            ups = {(b, code): up for b, code, up, _m in cands}

            def all_up(badge: str, o: Operation) -> float:
                return ups.get((badge, o.code)) or commit(badge, o)

            c_all = balance_for(self.layout, style, present, all_up).plan.cycle_min
            total_min = sum(m for *_x, m in cands)
            if 0 < c_all < c0 and total_min > 0:
                g_all = EXPLORE_P * horizon * (1.0 / c_all - 1.0 / c0)
                shared = {(b, code): g_all * m / total_min for b, code, _u, m in cands}
        out: list[tuple[float, str, str, bool]] = []
        for b, code, up, _m in cands:
            op = ops[code]

            def one_up(badge: str, o: Operation, b: str = b, code: str = code, up: float = up) -> float:
                return up if (badge, o.code) == (b, code) else commit(badge, o)

            cp = balance_for(self.layout, style, present, one_up).plan.cycle_min
            alone = EXPLORE_P * horizon * (1.0 / cp - 1.0 / c0) if 0 < cp < c0 else 0.0
            gain = max(alone, shared.get((b, code), 0.0))
            if gain <= 0:
                continue
            sid = explorers[b]
            waited = 1.0 if sid in self.floor.no_work else self.idle_share.get(sid, 0.0)
            load = plan.loads_min.get(b, 0.0) / plan.cycle_min
            slack = load <= 1.0 - EXPLORE_SLACK or waited >= EXPLORE_SLACK
            if slack:
                cost = 0.0
            else:
                minutes = bundle * op.sam_min / self._learning_efficiency(b, style, op, bundle)
                cost = minutes * max(0.0, min(1.0, load) - waited) / plan.cycle_min
            out.append((gain - cost, b, code, not slack))
        out.sort(key=lambda t: (-t[0], t[1], t[2]))
        return out

    def explore_horizon_min(self, line: str, style: str, cycle_min: float) -> float:
        """Working minutes what a trial teaches is worth over: the style's garments still to pack
        at the committed cycle, at least one shift (``horizon_min``). A pair found good serves the
        rest of the style's run, not one day. (Orders are not tied to a line in the layout: on a
        factory running one style on several lines this counts every line's remaining work.)"""
        left = sum(
            max(0, o.quantity - self.packed.get(o.id, 0)) for o in self.layout.orders.values() if o.style_code == style
        )
        return max(self.horizon_min(line), left * cycle_min)

    def _prior_log(self, badge: str, style: str, op: Operation) -> tuple[float, float]:
        """The worker's prior on the operation in log efficiency (mean, sd): what the learning
        module holds of a pair never seen."""
        w = self.layout.workers.get(badge)
        grade = w.grade_for(op.machine_type, op.code) if w else 0
        group = (self.fid, w.skill_group, grade) if w else (self.fid, "unknown", 0)
        return self.learning.priors.prior(
            None, (self.fid, style, op.code), group, (self.fid, badge), float(grade) if w else None
        )

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
        """A paid trial's one bundle first (``trials``: a loaded worker's trial worth its cost),
        unless its operation is down to its low water (its holders need it: the bottleneck's
        operation is never starved); then the station's own work before a slack trial (a slack
        trial uses slack only); then feed a starving bottleneck; then the most urgent order
        (``order_priority``: the head bundle of each option is already its operation's most
        urgent); then the longest wait."""
        line = self.layout.stations[station].line_id
        ls = self.state.get(line)
        feeds = self._feeders.get(ls.style, {}) if ls is not None else {}
        trying = ls.trials.get(station, ()) if ls is not None else ()
        bundles = self.layout.bundles

        def first(op: str) -> bool:
            return (
                (station, op) in self._paid
                and (station, op) not in self._paid_taken
                and waiting.get(op, 0) >= self.low_water_bundles
            )

        def key(i: int) -> tuple[int, int, float, float]:
            op, bundle, waited_s, _n = options[i]
            starving = any(waiting.get(b, 0) < self.low_water_bundles for b in feeds.get(op, ()))
            b = bundles.get(bundle)
            urgency = self.order_priority(b.order_id) if b is not None else math.inf
            rank = 0 if first(op) else 2 if op in trying else 1
            return (rank, 0 if starving else 1, urgency, -waited_s)

        i = min(range(len(options)), key=key)
        if first(options[i][0]):
            self._paid_taken.add((station, options[i][0]))
        return i


def _feeders(style: Style, plan: BalancePlan) -> dict[str, frozenset[str]]:
    """op → the bottleneck operations it directly feeds (the bottleneck worker's operations)."""
    bott = {a.op_code for a in plan.assignments if a.badge == plan.bottleneck}
    out: dict[str, set[str]] = {}
    for code in bott:
        for p in style.op(code).predecessors:
            out.setdefault(p, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}


def _lower(draws: Mapping[tuple[str, str], np.ndarray], z: float, eff: EffFn) -> EffFn:
    """Each pair's figure ``z`` posterior standard deviations of log efficiency below its
    estimate (``eff``): thin pairs are marked down most, well-known ones hardly at all."""
    sd = {k: float(np.std(np.log(d))) for k, d in draws.items()}

    def f(badge: str, op: Operation) -> float:
        return eff(badge, op) * math.exp(-z * sd.get((badge, op.code), 0.0))

    return f


def _expected_rate(plan: BalancePlan, problem: BalanceProblem, draws: Mapping[tuple[str, str], np.ndarray]) -> float:
    """Garments per minute of ``plan``'s allocation averaged over the posterior draws: E[1 ÷ cycle],
    each draw's cycle the slowest worker's minutes (as ``cycle_of``: shares of workers not in
    ``problem`` go to the others of their operation). The slowest of several uncertain workers is
    slower on average than the slowest of their estimates, which a single figure cannot show."""
    present = {w.badge for w in problem.workers}
    tot: dict[str, float] = {}
    for a in plan.assignments:
        if a.badge in present:
            tot[a.op_code] = tot.get(a.op_code, 0.0) + a.share
    ops = problem.style.op_map()
    loads: dict[str, np.ndarray] = {}
    for a in plan.assignments:
        if a.badge not in present or a.share <= 0:
            continue
        d = draws.get((a.badge, a.op_code))
        e = (
            d
            if d is not None
            else np.full(POSTERIOR_DRAWS, max(0.05, problem.efficiency.get((a.badge, a.op_code), 0.05)))
        )
        minutes = (a.share / tot[a.op_code]) * ops[a.op_code].sam_min / e
        loads[a.badge] = loads[a.badge] + minutes if a.badge in loads else minutes
    if not loads or len(tot) < len(ops):
        return 0.0
    cycle = np.max(np.vstack(list(loads.values())), axis=0)
    return float(np.mean(1.0 / cycle))
