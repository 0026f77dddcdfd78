"""Running CP-SAT: parameters, time limits and result extraction in one place."""

from __future__ import annotations

from collections.abc import Callable
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


class _Relay(cp_model.CpSolverSolutionCallback):
    """Hands each improving schedule to ``on_solution`` while the search runs."""

    def __init__(self, sm: ShopModel, on_solution: Callable[[ShopSchedule], None]) -> None:
        super().__init__()
        self.sm = sm
        self.on_solution = on_solution

    def on_solution_callback(self) -> None:
        self.on_solution(extract(self.sm, self))


def run_cpsat(
    sm: ShopModel,
    time_limit_s: float,
    *,
    workers: int = 2,
    seed: int = 0,
    on_solution: Callable[[ShopSchedule], None] | None = None,
) -> SolveResult:
    """Solve ``sm`` for at most ``time_limit_s`` seconds with ``workers`` threads; ``on_solution``
    gets every improving schedule as it is found (the portfolio's trade)."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit_s)
    p.num_workers = workers
    p.random_seed = seed
    p.log_search_progress = False
    status = solver.solve(sm.model, _Relay(sm, on_solution) if on_solution is not None else None)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        sched = extract(sm, solver)
        # With a secondary term the objective bound divided by the weight still bounds the makespan.
        bound = int(solver.best_objective_bound) // sm.weight
        return SolveResult(sched, status == cp_model.OPTIMAL, bound, int(solver.objective_value))
    return SolveResult(None, status == cp_model.INFEASIBLE, 0, None)
