"""Balance by shares for a free-flow line: the exact linear programme, deterministic and fast.

Where bundles are carried to whichever station has the operation (a progressive bundle system
with a free flow, as the simulator models it), the line order does not constrain the balance:
what remains is to split every operation's pieces over the workers able to do it so that the
busiest worker's minutes per garment are as few as possible. That is a linear programme
(unrelated parallel machines with splittable jobs):

    min C   s.t.  Σ_w x[o,w] = 1 for every operation o,
                  Σ_o x[o,w] · SAM_o / eff[w,o] ≤ C for every worker w,   x ≥ 0,

solved exactly by GLOP (OR-Tools) in milliseconds and, unlike a time-limited search, with the
same answer on a busy machine as on an idle one — which the closed-loop twin needs to compare
policies. A re-balance then keeps the cycle within ``tolerance`` of that optimum and adds few
(worker, operation) pairs to the previous plan: the exact fewest-pairs problem is a MIP that SCIP
needed over a minute for on a jeans line, so a re-weighted L1 series of LPs approximates it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.linear_solver import pywraplp

from .carry import carry_violations, last_predecessor
from .data import BalancePlan, BalanceProblem
from .solver import _plan

REWEIGHT_ROUNDS = 4
MIN_SHARE = 1e-4  # numerical dust below this is dropped (the rest of the op renormalised)
# Two cycles closer than this (relative) are a tie between keeping and dropping a sliver.
TIE_REL = 1e-9


def balance_shares(
    p: BalanceProblem,
    previous: BalancePlan | None = None,
    *,
    tolerance: float = 0.02,
    carry: bool = True,
    robust: Mapping[tuple[str, str], float] | None = None,
    robust_slack: float = 0.01,
) -> BalancePlan:
    """The shortest cycle by shares; with ``previous``, then the fewest new pairs (by work moved).

    ``carry`` (the default): shares the floor realises. A station that finishes an operation
    carries the bundle on to a successor on its own list (``planning.balance.carry``), so every
    station's share of a successor is made at least its share of the successor's usual last
    predecessor, or the successor is taken off its list. Each sliver the LP leaves is fixed the
    better of the two ways by the LP's shortest cycle (a tie keeps a pair of ``previous`` and
    drops a new one), the re-balance's fewest-new-pairs rounds run again, and so on until none
    is left: every round fixes pairs for good, so it ends. ``carry=False``: the plain share LP
    (the shortest cycle of a station LIST, ``twin.floor_check.list_cycle``).

    ``robust`` (badge, op) → efficiency: robust, then nominal. Every "shortest cycle" above is
    then taken in two stages: first the shortest cycle on the ``robust`` figures (e.g. lower
    confidence bounds), then, among the allocations within ``robust_slack`` of it, the shortest
    cycle on ``p``'s figures. Lower bounds alone make many pairs of one skill group tie and leave
    the LP an arbitrary pick among equally short plans; the second stage breaks those ties by the
    estimates. The robust bound holds through a re-balance's fewest-new-pairs rounds; the plan's
    loads and cycle are on ``p``'s figures. Pairs missing from ``robust`` count at ``p``'s."""
    elig = p.eligible()
    codes = [o.code for o in p.style.operations]
    missing = [c for c in codes if not any((w.badge, c) in elig for w in p.workers)]
    if missing:
        raise ValueError(f"没有人能做这些工序 / nobody present can do operations {missing}")
    x, c_var, solver = _model(p, elig, codes)
    r_var = _robust_rows(p, elig, x, solver, robust) if robust is not None else None
    # the re-balance's bound on the cycle, open while the shortest cycle is sought
    bound = solver.Constraint(-solver.infinity(), solver.infinity())
    bound.SetCoefficient(c_var, 1.0)
    old = previous.pairs() if previous is not None else set()
    new = [k for k in x if k not in old]

    def shortest() -> float:
        bound.SetUb(solver.infinity())
        if r_var is not None:  # stage 1: the shortest cycle on the robust figures
            r_var.SetUb(solver.infinity())
            obj = solver.Objective()
            obj.Clear()
            obj.SetCoefficient(r_var, 1.0)
            obj.SetMinimization()
            if solver.Solve() != pywraplp.Solver.OPTIMAL:
                return float("inf")
            r_var.SetUb(float(r_var.solution_value()) * (1.0 + robust_slack) + 1e-9)
        obj = solver.Objective()
        obj.Clear()
        obj.SetCoefficient(c_var, 1.0)
        obj.SetMinimization()
        return float(c_var.solution_value()) if solver.Solve() == pywraplp.Solver.OPTIMAL else float("inf")

    def solve() -> None:
        best = shortest()
        if best == float("inf"):
            raise ValueError("share balance: the linear programme has no optimum")
        if previous is None:
            return
        bound.SetUb(best * (1.0 + tolerance))
        weight = dict.fromkeys(new, 1.0)
        # Fewest new pairs: iteratively re-weighted L1 (Candès, Wakin & Boyd 2008) — each round
        # makes a new pair with a small share dearer, so the slivers collapse onto few pairs.
        for _ in range(REWEIGHT_ROUNDS):
            obj = solver.Objective()
            obj.Clear()
            for k in new:
                obj.SetCoefficient(x[k], weight[k])
            obj.SetCoefficient(c_var, 1e-3)
            obj.SetMinimization()
            if solver.Solve() != pywraplp.Solver.OPTIMAL:
                raise ValueError("share balance: the re-balance programme has no optimum")
            weight = {k: 1.0 / (x[k].solution_value() + 0.01) for k in new}

    solve()
    last = last_predecessor(p.style) if carry else {}
    fixed: set[tuple[str, str]] = set()
    while last:
        values = {k: float(v.solution_value()) for k, v in x.items()}
        todo = [v for v in carry_violations(values, last, floor=MIN_SHARE) if v[:2] not in fixed]
        if not todo:
            break
        for b, succ, pred in todo:
            fixed.add((b, succ))
            keep = solver.Constraint(0.0, solver.infinity())
            keep.SetCoefficient(x[(b, succ)], 1.0)
            keep.SetCoefficient(x[(b, pred)], -1.0)
            c_keep = shortest()
            keep.SetLb(-solver.infinity())
            x[(b, succ)].SetUb(0.0)
            c_drop = shortest()
            tie = abs(c_keep - c_drop) <= TIE_REL * max(c_keep, c_drop)
            if (b, succ) in old if tie else c_keep < c_drop:
                x[(b, succ)].SetUb(1.0)
                keep.SetLb(0.0)
        solve()
    per_op: dict[str, dict[str, float]] = {c: {} for c in codes}
    for (b, c), v in x.items():
        per_op[c][b] = v.solution_value()
    shares: dict[str, dict[str, float]] = {}
    for c in codes:
        vals = per_op[c]
        kept = {b: s for b, s in vals.items() if s >= MIN_SHARE} or {max(vals, key=lambda b: vals[b]): 1.0}
        tot = sum(kept.values())
        for b, s in kept.items():
            shares.setdefault(b, {})[c] = s / tot
    stations = [(w.badge, shares.get(w.badge, {})) for w in p.workers]
    return _plan(p, stations, previous)


def _robust_rows(
    p: BalanceProblem,
    elig: dict[tuple[str, str], float],
    x: dict[tuple[str, str], pywraplp.Variable],
    solver: pywraplp.Solver,
    robust: Mapping[tuple[str, str], float],
) -> pywraplp.Variable:
    """Each worker's minutes on the ``robust`` figures ≤ R; returns R (free until bounded)."""
    ops = p.style.op_map()
    r_var = solver.NumVar(0.0, solver.infinity(), "R")
    by_worker: dict[str, list[tuple[pywraplp.Variable, float]]] = {}
    for (b, c), v in x.items():
        e = robust.get((b, c), elig[(b, c)])
        by_worker.setdefault(b, []).append((v, ops[c].sam_min / max(e, 1e-6)))
    for terms in by_worker.values():
        row = solver.Constraint(-solver.infinity(), 0.0)
        for v, minutes in terms:
            row.SetCoefficient(v, minutes)
        row.SetCoefficient(r_var, -1.0)
    return r_var


def _model(
    p: BalanceProblem, elig: dict[tuple[str, str], float], codes: list[str]
) -> tuple[dict[tuple[str, str], pywraplp.Variable], pywraplp.Variable, pywraplp.Solver]:
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        raise RuntimeError("GLOP is not available in this OR-Tools build")
    ops = p.style.op_map()
    x: dict[tuple[str, str], pywraplp.Variable] = {}
    for b, c in sorted(elig):
        x[(b, c)] = solver.NumVar(0.0, 1.0, f"x[{b},{c}]")
    c_var = solver.NumVar(0.0, solver.infinity(), "C")
    by_op: dict[str, list[pywraplp.Variable]] = {c: [] for c in codes}
    by_worker: dict[str, list[tuple[pywraplp.Variable, float]]] = {}
    for (b, c), v in x.items():
        by_op[c].append(v)
        by_worker.setdefault(b, []).append((v, ops[c].sam_min / elig[(b, c)]))
    for c in codes:
        row = solver.Constraint(1.0, 1.0)
        for v in by_op[c]:
            row.SetCoefficient(v, 1.0)
    for terms in by_worker.values():
        row = solver.Constraint(-solver.infinity(), 0.0)
        for v, minutes in terms:
            row.SetCoefficient(v, minutes)
        row.SetCoefficient(c_var, -1.0)
    return x, c_var, solver
