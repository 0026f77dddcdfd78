"""Balancing a line: greedy start → CP-SAT (hinted) → plan; re-balancing with few changes."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from seamline.planning.balance.data import Assignment, BalancePlan, BalanceProblem
from seamline.planning.balance.greedy import Shares, greedy_balance
from seamline.planning.balance.lp import improve_types
from seamline.planning.balance.model import SHARE_UNITS, BalanceModel, build_balance_model


def _plan(
    p: BalanceProblem,
    elig: dict[tuple[str, str], float],
    _types: object,
    shares: Shares,
    previous: set[tuple[str, str]] | None = None,
) -> BalancePlan:
    opmap = p.style.op_map()
    assignments = []
    loads = {w.badge: 0.0 for w in p.workers}
    machine: dict[str, str | None] = {w.badge: None for w in p.workers}
    for (b, c), s in sorted(shares.items()):
        if s <= 0:
            continue
        minutes = s * opmap[c].sam_min / elig[(b, c)]
        assignments.append(Assignment(b, c, s, minutes))
        loads[b] += minutes
        if opmap[c].machine_type not in p.flexible_types:
            machine[b] = opmap[c].machine_type
    cycle = max(loads.values(), default=0.0)
    bottleneck = max(loads, key=lambda b: (loads[b], b)) if loads else ""
    n = max(1, len(p.workers))
    pph = 60.0 / cycle if cycle > 0 else 0.0
    pairs = {(a.badge, a.op_code) for a in assignments}
    changes = len(pairs ^ previous) if previous is not None else 0
    return BalancePlan(
        style_code=p.style.code,
        assignments=tuple(assignments),
        worker_machine=machine,
        loads_min=loads,
        cycle_min=cycle,
        bottleneck=bottleneck,
        balance_efficiency=sum(loads.values()) / (n * cycle) if cycle else 0.0,
        line_efficiency=p.style.sam_min / (n * cycle) if cycle else 0.0,
        pieces_per_hour=pph,
        meets_target=None if p.target_pieces_per_hour is None else pph >= p.target_pieces_per_hour - 1e-9,
        changes=changes,
    )


def _run(bm: BalanceModel, time_limit_s: float, workers: int, seed: int) -> cp_model.CpSolver | None:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(bm.model)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _read(bm: BalanceModel, solver: cp_model.CpSolver) -> tuple[dict[str, str | None], Shares]:
    types: dict[str, str | None] = {}
    for (b, t), v in bm.machine.items():
        if solver.boolean_value(v):
            types[b] = t
    shares = {k: solver.value(a) / SHARE_UNITS for k, a in bm.share.items() if solver.value(a) > 0}
    return types, shares


def balance_line(
    p: BalanceProblem,
    time_limit_s: float = 5.0,
    *,
    workers: int = 2,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> BalancePlan:
    """Minimise the bottleneck's minutes per garment; report balance, loads and output."""
    t_end = time.monotonic() + time_limit_s
    elig = p.eligible()
    start = greedy_balance(p, elig)
    if log and start is not None:
        log(f"greedy cycle {_plan(p, elig, *start).cycle_min:.4f} min")
    if start is not None:
        found = improve_types(p, elig, start[0], time.monotonic() + 0.6 * time_limit_s, seed)
        if found is not None:
            lp_plan = _plan(p, elig, found[0], found[2])
            if lp_plan.cycle_min < _plan(p, elig, *start).cycle_min:
                start = (found[0], found[2])
            if log:
                log(f"LP local search cycle {found[1]:.4f} min")
    bm = build_balance_model(p, elig, hint=start)
    solver = _run(bm, t_end - time.monotonic(), workers, seed)
    if solver is None:
        if start is None:
            raise ValueError("no feasible balance found (check skills and machines)")
        return _plan(p, elig, *start)
    plan = _plan(p, elig, *_read(bm, solver))
    if log:
        log(f"CP-SAT cycle {plan.cycle_min:.4f} min")
    if start is not None:
        # The LP plan has exact shares; CP-SAT's are rounded to 0.1 % but tidier. Keep CP-SAT's
        # unless it is measurably slower.
        start_plan = _plan(p, elig, *start)
        if start_plan.cycle_min < plan.cycle_min * (1 - 1e-3):
            plan = start_plan
    return plan


def rebalance(
    p: BalanceProblem,
    previous: BalancePlan,
    time_limit_s: float = 5.0,
    *,
    tolerance: float = 0.02,
    workers: int = 2,
    seed: int = 0,
) -> BalancePlan:
    """A new balance after someone is absent or slower, changing as few (worker, op) pairs as we can.

    Lexicographic: first the best cycle C* for the new situation, then the fewest changed pairs
    among plans within ``tolerance`` of C* (a supervisor will trade 2 % of output for not moving
    ten people).
    """
    t_end = time.monotonic() + time_limit_s
    elig = p.eligible()
    present = {w.badge for w in p.workers}
    prev_pairs = {k for k in previous.pairs() if k[0] in present and k in elig}
    prev_shares = {(a.badge, a.op_code): a.share for a in previous.assignments if (a.badge, a.op_code) in elig}
    prev_types = {b: t for b, t in previous.worker_machine.items() if b in present}
    first = balance_line(p, 0.55 * time_limit_s, workers=workers, seed=seed)
    elig_cost = build_balance_model(p, elig).cost  # the model's integer minute costs
    c_star = max(
        sum(elig_cost[(a.badge, a.op_code)] * round(a.share * SHARE_UNITS) for a in first.assignments if a.badge == b)
        for b in present
    )
    bound = int(c_star * (1 + tolerance)) + 1
    bm = build_balance_model(
        p, elig, previous=prev_pairs, max_cycle=bound, minimise_changes=True, hint=(prev_types, prev_shares)
    )
    solver = _run(bm, t_end - time.monotonic(), workers, seed)
    if solver is None:
        return _plan(
            p,
            elig,
            {b: first.worker_machine.get(b) for b in present},
            {(a.badge, a.op_code): a.share for a in first.assignments},
            previous.pairs(),
        )
    return _plan(p, elig, *_read(bm, solver), previous.pairs())
