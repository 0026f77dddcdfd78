"""SALBP-1 solving: greedy upper bound, then CP-SAT feasibility questions walking down to the bound."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from seamline.planning.salbp.data import SalbpInstance, SalbpSolution
from seamline.planning.salbp.heuristics import best_greedy, lower_bound
from seamline.planning.salbp.model import build_feasibility, build_plain, extract


def solve_salbp(inst: SalbpInstance, time_limit_s: float, *, workers: int = 2, seed: int = 0,
                log: Callable[[str], None] | None = None) -> SalbpSolution:
    """Fewest stations found within ``time_limit_s``; always a feasible balance."""
    deadline = time.monotonic() + time_limit_s
    lb = lower_bound(inst)
    best = best_greedy(inst, min(0.3, 0.05 * time_limit_s), seed)
    if log:
        log(f"greedy {best.num_stations} stations, lower bound {lb}")
    m = best.num_stations - 1
    while m >= lb:
        left = deadline - time.monotonic()
        if left < 0.05:
            break
        sm = build_feasibility(inst, m, hint=best)
        if sm is None:
            break
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        status = solver.solve(sm.model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = extract(sm, solver)
            if log:
                log(f"cp-sat: {best.num_stations} stations")
            m = best.num_stations - 1
        else:
            if log:
                log(f"cp-sat: {m} stations {'infeasible' if status == cp_model.INFEASIBLE else 'unknown'}")
            break
    return best


def solve_plain(inst: SalbpInstance, time_limit_s: float, *, workers: int = 2) -> SalbpSolution | None:
    """The textbook model alone, for the benchmark."""
    sm, _ = build_plain(inst)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(sm.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return extract(sm, solver)
    return None
