"""Running CP-SAT: parameters, time limits and result extraction in one place."""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from seamline.planning.shop.model import ShopModel, extract
from seamline.planning.shop.solution import ShopSchedule


@dataclass(frozen=True)
class SolveResult:
    schedule: ShopSchedule | None
    optimal: bool
    bound: int  # proven lower bound on the model's makespan
    objective: int | None


def run_cpsat(sm: ShopModel, time_limit_s: float, *, workers: int = 2, seed: int = 0) -> SolveResult:
    """Solve ``sm`` for at most ``time_limit_s`` seconds with ``workers`` threads."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit_s)
    p.num_workers = workers
    p.random_seed = seed
    p.log_search_progress = False
    status = solver.solve(sm.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        sched = extract(sm, solver)
        # With a secondary term the objective bound divided by the weight still bounds the makespan.
        bound = int(solver.best_objective_bound) // sm.weight
        return SolveResult(sched, status == cp_model.OPTIMAL, bound, int(solver.objective_value))
    return SolveResult(None, status == cp_model.INFEASIBLE, 0, None)
