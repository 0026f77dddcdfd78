"""CP-SAT models of SALBP-1.

``build_feasibility`` restricts every task's station to [earliest, latest] from precedence and an
upper bound ``m``: tight domains make the model small. ``build_minimise`` adds the objective (the
last used station), which gives CP-SAT its LP bound and objective-guided search.
``build_plain`` is the textbook assignment model (any task on any of n stations) for the bench.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.salbp.data import SalbpInstance, SalbpSolution
from seamline.planning.salbp.heuristics import station_bounds


@dataclass
class SalbpModel:
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # (task0, station1)
    num_stations: int = 0


def _add_assignment(
    m: cp_model.CpModel, inst: SalbpInstance, ranges: list[range], num_stations: int
) -> tuple[SalbpModel, list[cp_model.LinearExprT]]:
    sm = SalbpModel(model=m, num_stations=num_stations)
    station_of: list[cp_model.LinearExprT] = []
    per_station: dict[int, list[tuple[int, cp_model.IntVar]]] = {s: [] for s in range(1, num_stations + 1)}
    for j in range(inst.n):
        lits = []
        for s in ranges[j]:
            lit = m.new_bool_var(f"x{j}_{s}")
            sm.x[(j, s)] = lit
            per_station[s].append((inst.times[j], lit))
            lits.append((s, lit))
        m.add_exactly_one(lit for _, lit in lits)
        station_of.append(cp_model.LinearExpr.weighted_sum([lit for _, lit in lits], [s for s, _ in lits]))
    for items in per_station.values():
        if items:
            m.add(sum(t * lit for t, lit in items) <= inst.cycle_time)
    for i, j in inst.precedence:
        m.add(station_of[i - 1] <= station_of[j - 1])
    return sm, station_of


def build_feasibility(inst: SalbpInstance, num_stations: int, hint: SalbpSolution | None = None) -> SalbpModel | None:
    """Model of "balance in ``num_stations`` stations", or None when the bounds already say no."""
    earliest, latest = station_bounds(inst, num_stations)
    ranges = []
    for j in range(inst.n):
        lo, hi = earliest[j], min(latest[j], num_stations)
        if lo > hi:
            return None
        ranges.append(range(lo, hi + 1))
    m = cp_model.CpModel()
    sm, _ = _add_assignment(m, inst, ranges, num_stations)
    if hint is not None and hint.num_stations <= num_stations:
        for s, tasks in enumerate(hint.stations, start=1):
            for t in tasks:
                if (t - 1, s) in sm.x:
                    m.add_hint(sm.x[(t - 1, s)], 1)
    return sm


def build_minimise(
    inst: SalbpInstance, upper: int, lower: int, hint: SalbpSolution | None = None
) -> tuple[SalbpModel, cp_model.IntVar] | None:
    """Minimise the last used station N ∈ [lower, upper], tasks within their windows for ``upper``.

    An objective gives CP-SAT its LP bound and objective-guided search, which finds tighter
    balances than pure "m stations?" feasibility questions on bin-packing-like instances.
    """
    sm = build_feasibility(inst, upper, hint=hint)
    if sm is None:
        return None
    m = sm.model
    last = m.new_int_var(lower, upper, "stations")
    for (_j, s), lit in sm.x.items():
        if s > lower:
            m.add(last >= s).only_enforce_if(lit)
    m.minimize(last)
    if hint is not None:
        m.add_hint(last, hint.num_stations)
    return sm, last


def build_plain(inst: SalbpInstance) -> tuple[SalbpModel, list[cp_model.IntVar]]:
    """Textbook model: x[task, station] over n stations, y[station] used, minimise Σ y."""
    m = cp_model.CpModel()
    n = inst.n
    sm, _ = _add_assignment(m, inst, [range(1, n + 1)] * n, n)
    used = [m.new_bool_var(f"y{s}") for s in range(1, n + 1)]
    for (_j, s), lit in sm.x.items():
        m.add_implication(lit, used[s - 1])
    m.minimize(sum(used))
    return sm, used


def extract(sm: SalbpModel, solver: cp_model.CpSolver) -> SalbpSolution:
    stations: dict[int, list[int]] = {}
    for (j, s), lit in sm.x.items():
        if solver.boolean_value(lit):
            stations.setdefault(s, []).append(j + 1)
    return SalbpSolution(tuple(tuple(sorted(stations[s])) for s in sorted(stations)))
