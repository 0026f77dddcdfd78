"""A station balance for the people present, from the planning engine, for any efficiency source.

Every policy balances with the same engine (``planning.balance.shares.balance_shares``: the
exact share balance of a free-flow line, deterministic, which the simulated line is) on the same
eligibility; they differ only in the efficiencies they feed it. That keeps the comparison about
the data: equal workers (baseline), learned from events (seamline), the truth (oracle).

The planning engine assigns operations to workers; on the floor each worker stays at her
station (her machine), so a worker may take an operation only if her station's machine can sew
it: its own type or a substitute (``domain.machines.SUBSTITUTES``, the same table the simulator's
supervisor uses), manual work anywhere, and anywhere when nothing on the line fits (a helper
does it at her place); and, as in the planning engine, only with the skill (grade ≥ 1 and at
most one below the operation's grade) when someone present has it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from ortools.linear_solver import pywraplp

from seamline.domain.machines import SUBSTITUTES
from seamline.domain.model import FactoryLayout, Operation, Worker
from seamline.planning.balance.data import BalancePlan, BalanceProblem
from seamline.planning.balance.shares import MIN_SHARE, balance_shares
from seamline.planning.balance.solver import evaluate_allocation

FLEXIBLE = frozenset({"MAN"})
# Efficiency of (worker badge, operation) as a fraction of standard.
EffFn = Callable[[str, Operation], float]


@dataclass(frozen=True)
class LineBalance:
    plan: BalancePlan
    problem: BalanceProblem
    stations: dict[str, tuple[str, ...]]  # station -> ops, what the floor is told
    station_of: dict[str, str]  # badge -> station


def eligible(layout: FactoryLayout, style_code: str, present: Mapping[str, str]) -> dict[tuple[str, str], bool]:
    """(station, op) → can that station's machine sew the operation (see module docstring)."""
    style = layout.styles[style_code]
    types = {sid: layout.stations[sid].machine_type for sid in present}
    have = set(types.values())
    out: dict[tuple[str, str], bool] = {}
    for op in style.operations:
        mt = op.machine_type
        subs = [t for t in SUBSTITUTES.get(mt, ()) if t in have]
        for sid, st_type in types.items():
            fits = mt in FLEXIBLE or st_type == mt or st_type in subs
            out[(sid, op.code)] = fits or (mt not in have and not subs)
    return out


def problem_for(
    layout: FactoryLayout, style_code: str, present: Mapping[str, str], eff: EffFn
) -> tuple[BalanceProblem, dict[str, str]]:
    """The planning problem for the people logged in at ``present`` (station → badge)."""
    style = layout.styles[style_code]
    station_of = {b: sid for sid, b in present.items()}
    workers = tuple(layout.workers.get(b) or Worker(badge=b, name=b) for b in station_of)
    ok = eligible(layout, style_code, present)
    effs: dict[tuple[str, str], float] = {}
    for op in style.operations:
        able = [w for w in workers if ok[(station_of[w.badge], op.code)]]
        # The planning engine's skill rule (BalanceProblem.grade_efficiency): nobody more than one
        # grade below the operation's grade, and nobody without the skill — unless no one present
        # has it, when the station's machine decides alone.
        skilled = [w for w in able if BalanceProblem.grade_efficiency(w, op) > 0] or able
        names = {w.badge for w in skilled}
        for w in workers:
            effs[(w.badge, op.code)] = max(0.05, eff(w.badge, op)) if w.badge in names else 0.0
    return BalanceProblem(style=style, workers=workers, efficiency=effs), station_of


def balance_for(
    layout: FactoryLayout,
    style_code: str,
    present: Mapping[str, str],
    eff: EffFn,
    *,
    previous: BalancePlan | None = None,
    time_limit_s: float = 0.5,
    seed: int = 0,
    tolerance: float = 0.02,
    carry: bool = True,
    robust: EffFn | None = None,
    robust_slack: float = 0.01,
) -> LineBalance:
    """Balance the style on the people present; with ``previous``, the fewest changes among the
    cycles within ``tolerance`` of the shortest (``planning.balance.shares``; ``carry``: shares the
    floor's carry-on keeps, as every policy hands out; off: the plain share LP; ``robust``: the
    shortest cycle on these figures first, then the shortest on ``eff`` within ``robust_slack`` of
    it, ``balance_shares``'s robust-then-nominal)."""
    problem, station_of = problem_for(layout, style_code, present, eff)
    figures = None
    if robust is not None:
        ops = problem.style.op_map()
        figures = {k: max(0.05, robust(k[0], ops[k[1]])) for k, e in problem.efficiency.items() if e > 0}
    plan = balance_shares(
        problem, previous, tolerance=tolerance, carry=carry, robust=figures, robust_slack=robust_slack
    )
    return LineBalance(plan, problem, stations_of(plan, station_of, layout, style_code), station_of)


def rescored(lb: LineBalance, problem: BalanceProblem) -> LineBalance:
    """``lb``'s allocation with its loads and cycle counted on ``problem``'s efficiencies: a plan
    chosen on other figures (a lower-confidence balance) is handed out in the policy's own units."""
    shares: dict[str, dict[str, float]] = {}
    for a in lb.plan.assignments:
        shares.setdefault(a.badge, {})[a.op_code] = shares.get(a.badge, {}).get(a.op_code, 0.0) + a.share
    order = list(lb.plan.stations) or list(shares)
    stations = [(b, shares.get(b, {})) for b in order] + [(b, sh) for b, sh in shares.items() if b not in order]
    plan = evaluate_allocation(problem, stations)
    return replace(lb, plan=replace(plan, changes=lb.plan.changes, stations=lb.plan.stations), problem=problem)


def stations_of(
    plan: BalancePlan, station_of: Mapping[str, str], layout: FactoryLayout, style_code: str
) -> dict[str, tuple[str, ...]]:
    order = {c: i for i, c in enumerate(layout.styles[style_code].topological_order())}
    out: dict[str, set[str]] = {}
    for a in plan.assignments:
        out.setdefault(station_of[a.badge], set()).add(a.op_code)
    return {sid: tuple(sorted(ops, key=order.__getitem__)) for sid, ops in sorted(out.items())}


def cycle_of(plan: BalancePlan, problem: BalanceProblem) -> float:
    """Minutes per garment of ``plan``'s allocation under ``problem``'s efficiencies (workers
    missing from the problem are dropped: their shares go unsewn, which shows as a longer cycle
    only through the others — callers re-balance on a change of people anyway)."""
    present = {w.badge for w in problem.workers}
    shares: dict[str, dict[str, float]] = {}
    for a in plan.assignments:
        if a.badge in present:
            shares.setdefault(a.badge, {})[a.op_code] = shares.get(a.badge, {}).get(a.op_code, 0.0) + a.share
    # renormalise each operation's shares over the workers still here
    tot: dict[str, float] = {}
    for sh in shares.values():
        for c, v in sh.items():
            tot[c] = tot.get(c, 0.0) + v
    stations = [(b, {c: v / tot[c] for c, v in sh.items()}) for b, sh in shares.items()]
    try:
        return evaluate_allocation(problem, stations).cycle_min
    except ValueError:
        return float("inf")


def balance_expected(
    layout: FactoryLayout,
    style_code: str,
    present: Mapping[str, str],
    eff: EffFn,
    draws: Mapping[tuple[str, str], np.ndarray],
) -> LineBalance:
    """The shares that minimise the *expected* cycle over posterior draws of the efficiencies
    (sample-average approximation, Shapiro, Dentcheva & Ruszczyński 2009): one cycle variable per
    draw, each at least every worker's minutes under that draw, their mean minimised.

        min (1/M) Σ_m C_m   s.t.  Σ_w x[o,w] = 1,   Σ_o x[o,w] · SAM_o / e_m[w,o] ≤ C_m,   x ≥ 0.

    The share balance's LP is the case of one draw at the estimates. Against the estimates alone
    this keeps slack on the workers whose figures are thin: the line's pace is the slowest of
    several uncertain workers, slower on average than the slowest of their estimates. Pairs
    without draws count at ``eff``. The plan is returned in ``eff``'s units."""
    problem, station_of = problem_for(layout, style_code, present, eff)
    elig = problem.eligible()
    codes = [o.code for o in problem.style.operations]
    ops = problem.style.op_map()
    m = max((len(d) for d in draws.values()), default=1)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        raise RuntimeError("GLOP is not available in this OR-Tools build")
    x = {k: solver.NumVar(0.0, 1.0, f"x[{k[0]},{k[1]}]") for k in sorted(elig)}
    cs = [solver.NumVar(0.0, solver.infinity(), f"C{i}") for i in range(m)]
    for c in codes:
        row = solver.Constraint(1.0, 1.0)
        for (_b, oc), v in x.items():
            if oc == c:
                row.SetCoefficient(v, 1.0)
    by_worker: dict[str, list[tuple[str, str]]] = {}
    for k in x:
        by_worker.setdefault(k[0], []).append(k)
    for keys in by_worker.values():
        for i in range(m):
            row = solver.Constraint(-solver.infinity(), 0.0)
            for k in keys:
                d = draws.get(k)
                e = max(0.05, float(d[i])) if d is not None else elig[k]
                row.SetCoefficient(x[k], ops[k[1]].sam_min / e)
            row.SetCoefficient(cs[i], -1.0)
    obj = solver.Objective()
    for cv in cs:
        obj.SetCoefficient(cv, 1.0 / m)
    obj.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise ValueError("expected-cycle balance: the linear programme has no optimum")
    shares: dict[str, dict[str, float]] = {}
    for c in codes:
        vals = {b: v.solution_value() for (b, oc), v in x.items() if oc == c}
        kept = {b: s for b, s in vals.items() if s >= MIN_SHARE} or {max(vals, key=lambda b: vals[b]): 1.0}
        tot = sum(kept.values())
        for b, s in kept.items():
            shares.setdefault(b, {})[c] = s / tot
    plan = evaluate_allocation(problem, [(w.badge, shares.get(w.badge, {})) for w in problem.workers])
    return LineBalance(plan, problem, stations_of(plan, station_of, layout, style_code), station_of)
