"""What the floor realises from a plan: the station lists, measured without a model.

The floor is not handed a plan's shares. ``install_balance`` gives each station a LIST of
operations; a free station pulls a ready bundle of any operation on its list (the dispatch rule
choosing among them) and carries a bundle on to its own next operation (``LineSim.complete``).
Nothing on the floor holds a station to the share the plan computed. Two model figures follow,
and this module measures which one the floor agrees with:

- ``fixed-share`` (``twin.experiment.balance_quality``): the truth's optimum ÷ the cycle of the
  plan's shares on the truth (``cycle_of``), the shares held where the plan put them;
- ``list`` (``list_cycle``): the truth's optimum ÷ the shortest cycle the plan's station lists
  allow on the truth, the shares re-optimised by the same share LP
  (``planning.balance.shares``) with every pair outside the lists forbidden. A pull floor with
  ample work can at best realise that (it is the static planning bound of a flexible-server
  line: no split of the listed work sews more whole garments an hour), and realises less when
  its dispatch splits the stations' time worse.

``floor_rate`` runs the simulator itself: one day of the case from the shift start, the
workers where their learning curves stand (the pieces done in the closed loop so far), the plan's
lists installed and never changed, ample WIP, every random stream the plan cannot change the
same for every plan run on it (common random numbers: absences, latecomers and stoppages per
day and station, each worker's n-th piece of an operation). It counts the pieces of every
operation sewn in a window after a warm-up and reports the fewest, per hour: the whole garments
the floor's work adds up to. (Packed garments alone would count the drain of the preloaded
work behind the bottleneck, which depends on where the plan puts it.) This module reads the
simulator, so it lives with the truth (``twin.experiment``); nothing that decides imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from ortools.linear_solver import pywraplp

from seamline.domain.cutting import cut_order
from seamline.domain.model import FactoryLayout, Style
from seamline.planning.balance.carry import last_predecessor
from seamline.planning.balance.data import BalancePlan, BalanceProblem
from seamline.planning.balance.shares import balance_shares
from seamline.sim import SimConfig
from seamline.sim.control import install_balance, line_of
from seamline.sim.engine import Engine

from .policy.balancing import LineBalance

# Ample work: twice the simulator's default WIP in the line, preloaded along it, so the rate
# measured is the plan's split of capacity, not how the release feeds it.
FLOOR_WIP_BUNDLES_PER_STATION = 3.0
# Latecomers arrive within 20 minutes (the simulator's ``late_max_min``); two hours let every
# station work through the preloaded piles and settle into the plan.
WARMUP_H = 2.0
# The window runs from the warm-up to the shift end (10:00–17:00 in the example factory, six
# working hours): on a polo line the preloaded work alone is hours of output, so a shorter window
# measured mostly where the preload sat (tried: 1-hour windows of one plan ranged 30–76 pieces).
# A station feeding a bottleneck operation that has fewer bundles than this waiting goes first,
# the seamline and oracle policies' dispatch rule (``SeamlinePolicy.low_water_bundles``).
LOW_WATER_BUNDLES = 2


def list_problem(problem: BalanceProblem, lb: LineBalance) -> BalanceProblem:
    """``problem`` with every (worker, operation) pair outside ``lb``'s station lists forbidden:
    the same worker at the same station, only the shares of her listed operations free."""
    listed = {(badge, op) for badge, sid in lb.station_of.items() for op in lb.stations.get(sid, ())}
    eff = {
        (w.badge, op.code): (problem.efficiency_of(w, op) if (w.badge, op.code) in listed else 0.0)
        for w in problem.workers
        for op in problem.style.operations
    }
    return replace(problem, efficiency=eff, prior_weight={})


def list_cycle(lb: LineBalance, problem: BalanceProblem) -> float:
    """The shortest cycle (minutes per garment) ``lb``'s station lists allow on ``problem``'s
    efficiencies, the shares re-optimised by the share LP (``inf`` when an operation of the style
    is on nobody's list among the workers of ``problem``)."""
    try:
        return balance_shares(list_problem(problem, lb), carry=False).cycle_min
    except ValueError:
        return float("inf")


def feeders(style: Style, plan: BalancePlan) -> dict[str, frozenset[str]]:
    """op → the bottleneck operations it feeds directly (the plan's bottleneck worker's)."""
    bott = {a.op_code for a in plan.assignments if a.badge == plan.bottleneck}
    out: dict[str, set[str]] = {}
    for code in bott:
        for p in style.op(code).predecessors:
            out.setdefault(p, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True)
class FloorRate:
    """What one plan's lists gave on the floor in the window."""

    garments_per_h: float  # the fewest pieces of any operation per hour: whole garments of work
    packed_per_h: float  # pieces of the final operation(s) per hour (the drain counts too)
    pieces_by_op: dict[str, int]


def floor_rate(
    layout: FactoryLayout,
    line_id: str,
    style_code: str,
    seed: int,
    day: date,
    done: Mapping[tuple[str, str, str], int],
    lb: LineBalance,
    *,
    feed: bool = True,
    warmup_h: float = WARMUP_H,
    window_h: float | None = None,
    wip_bundles_per_station: float = FLOOR_WIP_BUNDLES_PER_STATION,
) -> FloorRate:
    """Run ``day`` of ``line_id`` (``seed``'s floor) from its shift start with ``lb``'s
    station lists held fixed, the workers' learning curves at ``done`` (pieces per (badge, style,
    op), as the closed loop left them), and count what the floor sews.

    ``feed``: a free station with a choice takes an operation feeding a starving bottleneck
    operation of ``lb``'s plan first, then the bundle that waited longest (the policies' rule
    without the order priority and the trials); otherwise the floor's own rule (the oldest
    ticket). Raises ``ValueError`` when the people on the floor that day are not the plan's."""
    cal = layout.calendar_for_line(line_id)
    start = datetime.combine(day, cal.shift_start, cal.tz)
    end = (
        datetime.combine(day, cal.shift_end, cal.tz)
        if window_h is None
        else start + timedelta(hours=warmup_h + window_h)
    )
    cfg = SimConfig(
        seed=seed,
        start=start,
        hours=(end - start).total_seconds() / 3600.0 + 1.0,
        record_pieces=False,
        preload_wip_bundles_per_station=wip_bundles_per_station,
        wip_bundles_per_station=wip_bundles_per_station,
    )
    layout = ample_book(layout, style_code, line_id, wip_bundles_per_station, (end - start).total_seconds() / 3600.0)
    eng = Engine(layout, cfg)
    eng.done_count.update(done)  # the learning curves where the closed loop left them
    line = line_of(eng, line_id)
    plan = line.day_plan(0)  # the day's attendance (absences drawn per line and date: the loop's)
    staffed = set(plan.stations) if plan is not None else set()
    wanted = set(lb.station_of.values())
    if not wanted <= staffed:
        raise ValueError(
            f"计划的工位当天无人 / the plan's stations {sorted(wanted - staffed)} are not staffed on {day}"
        )
    install_balance(eng, line_id, style_code, lb.stations)
    style = layout.styles[style_code]
    if feed:
        feeds = feeders(style, lb.plan)

        def dispatch(station: str, options: Sequence[tuple[str, str, float, int]], waiting: Mapping[str, int]) -> int:
            def key(i: int) -> tuple[int, float]:
                op, _b, waited_s, _n = options[i]
                starving = any(waiting.get(b, 0) < LOW_WATER_BUNDLES for b in feeds.get(op, ()))
                return (0 if starving else 1, -waited_s)

            return min(range(len(options)), key=key)

        eng.dispatcher = dispatch
    t0 = eng.sim_s(start + timedelta(hours=warmup_h))
    t1 = eng.sim_s(end)
    eng.run_until(t0)
    before = _pieces_by_op(eng, style_code)
    eng.run_until(t1)
    after = _pieces_by_op(eng, style_code)
    hours = (t1 - t0) / 3600.0 - cal.break_seconds(eng.ts(t0), eng.ts(t1)) / 3600.0
    per_op = {c: after.get(c, 0) - before.get(c, 0) for c in (o.code for o in style.operations)}
    finals = style.final_operations()
    return FloorRate(
        garments_per_h=min(per_op.values()) / hours if hours > 0 else 0.0,
        packed_per_h=min(per_op[c] for c in finals) / hours if hours > 0 else 0.0,
        pieces_by_op=per_op,
    )


def ample_book(
    layout: FactoryLayout, style_code: str, line_id: str, wip_bundles_per_station: float, hours: float
) -> FactoryLayout:
    """``layout`` with its order book repeated (new ids, later due dates) until it holds the WIP
    preload plus every station sewing the style at standard for ``hours``: a replay that runs out
    of bundles measures the book, not the plan. Unchanged when the book already suffices."""
    style = layout.styles[style_code]
    stations = sum(1 for s in layout.stations.values() if s.line_id == line_id)
    need = stations * wip_bundles_per_station + stations * hours * 60.0 / style.sam_min / style.bundle_size
    own = sorted((o for o in layout.orders.values() if o.style_code == style_code), key=lambda o: (o.due, o.id))
    have = sum(1 for b in layout.bundles.values() if b.order_id in {o.id for o in own})
    if have >= need or not own:
        return layout
    orders = dict(layout.orders)
    bundles = dict(layout.bundles)
    k = 0
    while have < need:
        k += 1
        for o in own:
            copy = replace(o, id=f"{o.id}-F{k}", due=o.due + timedelta(days=30 * k))
            orders[copy.id] = copy
            for b in cut_order(copy, style):
                bundles[b.id] = b
                have += 1
    return replace(layout, orders=orders, bundles=bundles)


def _pieces_by_op(eng: Engine, style: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_badge, st, op), n in eng.done_count.items():
        if st == style:
            out[op] = out.get(op, 0) + n
    return out


def carry_cycle(lb: LineBalance, problem: BalanceProblem) -> float:
    """The shortest cycle ``lb``'s station lists allow when the floor's carry-on is respected: a
    station that finishes an operation carries the bundle on to a successor on its own list
    whenever that was the successor's last missing predecessor (``LineSim.complete``), so its share
    of the successor is at least its share of that predecessor (the usual last one,
    ``last_predecessor``). A sliver of a successor on a station's list becomes, on the floor, the
    station's whole share of the predecessor. ``inf`` when the lists cannot sew the style."""
    lp = list_problem(problem, lb)
    elig = lp.eligible()
    ops = lp.style.op_map()
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        raise RuntimeError("GLOP is not available in this OR-Tools build")
    x = {k: solver.NumVar(0.0, 1.0, f"x[{k[0]},{k[1]}]") for k in sorted(elig)}
    c = solver.NumVar(0.0, solver.infinity(), "C")
    for code in ops:
        terms = [v for (_b, oc), v in x.items() if oc == code]
        if not terms:
            return float("inf")
        solver.Add(sum(terms) == 1.0)
    by_worker: dict[str, list[tuple[pywraplp.Variable, float]]] = {}
    for (b, oc), v in x.items():
        by_worker.setdefault(b, []).append((v, ops[oc].sam_min / elig[(b, oc)]))
    for terms in by_worker.values():
        solver.Add(sum(v * m for v, m in terms) <= c)
    last = last_predecessor(lp.style)
    for (b, oc), v in x.items():
        p = last.get(oc)
        if p is not None and (b, p) in x:
            solver.Add(v >= x[(b, p)])
    solver.Minimize(c)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return float("inf")
    return float(c.solution_value())
