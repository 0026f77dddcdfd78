"""SALBP-1 solving: greedy upper bound, then CP-SAT feasibility questions walking down to the bound."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from seamline.planning.salbp.data import SalbpInstance, SalbpSolution
from seamline.planning.salbp.heuristics import best_greedy, lower_bound
from seamline.planning.salbp.model import build_minimise, build_plain, extract


def solve_salbp(
    inst: SalbpInstance,
    time_limit_s: float,
    *,
    workers: int = 2,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> SalbpSolution:
    """Fewest stations found within ``time_limit_s``; always a feasible balance.

    Greedy rules give an upper bound; CP-SAT then minimises the number of stations with every task
    restricted to its [earliest, latest] window for that bound, hinted with the greedy balance.
    """
    deadline = time.monotonic() + time_limit_s
    lb = lower_bound(inst)
    best = best_greedy(inst, min(0.3, 0.05 * time_limit_s), seed)
    if log:
        log(f"greedy {best.num_stations} stations, lower bound {lb}")
    if best.num_stations <= lb:
        return best
    built = build_minimise(inst, best.num_stations, lb, hint=best)
    left = deadline - time.monotonic()
    if built is None or left < 0.05:
        return best
    sm, _ = built
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = left
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(sm.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = extract(sm, solver)
        if found.num_stations < best.num_stations:
            best = found
        if log:
            log(f"cp-sat: {found.num_stations} stations, optimal={status == cp_model.OPTIMAL}")
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
