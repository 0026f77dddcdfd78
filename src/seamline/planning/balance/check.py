"""Independent feasibility check of a balance plan (shares no code with the model)."""

from __future__ import annotations

from collections import defaultdict

from seamline.planning.balance.data import BalancePlan, BalanceProblem


def check_plan(p: BalanceProblem, plan: BalancePlan, tol: float = 1e-6) -> list[str]:
    """Every problem with ``plan``: shares per operation sum to 1, machine types match and
    respect the machines available, workers are able, and the reported loads add up."""
    errors: list[str] = []
    ops = p.style.op_map()
    badges = {w.badge: w for w in p.workers}
    total: dict[str, float] = defaultdict(float)
    load: dict[str, float] = defaultdict(float)
    fixed_types: dict[str, set[str]] = defaultdict(set)
    for a in plan.assignments:
        if a.op_code not in ops:
            errors.append(f"unknown operation {a.op_code}")
            continue
        if a.badge not in badges:
            errors.append(f"worker {a.badge} is not present")
            continue
        if not 0 < a.share <= 1 + tol:
            errors.append(f"{a.badge} on {a.op_code}: share {a.share} outside (0, 1]")
        op = ops[a.op_code]
        eff = p.efficiency_of(badges[a.badge], op)
        if eff <= 0:
            errors.append(f"{a.badge} cannot do {a.op_code}")
            continue
        minutes = a.share * op.sam_min / eff
        if abs(minutes - a.minutes_per_piece) > 1e-6 * max(1.0, minutes):
            errors.append(f"{a.badge} on {a.op_code}: {a.minutes_per_piece} min reported, {minutes} true")
        total[a.op_code] += a.share
        load[a.badge] += minutes
        if op.machine_type not in p.flexible_types:
            fixed_types[a.badge].add(op.machine_type)
    for code in ops:
        if abs(total[code] - 1.0) > 1e-6:
            errors.append(f"operation {code}: shares sum to {total[code]}, not 1")
    per_type: dict[str, int] = defaultdict(int)
    for b, ts in fixed_types.items():
        if len(ts) > 1:
            errors.append(f"worker {b} needs machines {sorted(ts)}: one type per worker")
        for t in ts:
            per_type[t] += 1
            if plan.worker_machine.get(b) != t:
                errors.append(f"worker {b} reported at {plan.worker_machine.get(b)}, works on {t}")
    for t, n in per_type.items():
        if t in p.machines and n > p.machines[t]:
            errors.append(f"{n} workers on {t}, only {p.machines[t]} machines")
    for b in badges:
        if abs(load[b] - plan.loads_min.get(b, 0.0)) > 1e-6 * max(1.0, load[b]):
            errors.append(f"worker {b}: load {plan.loads_min.get(b)} reported, {load[b]} true")
    true_cycle = max(load.values(), default=0.0)
    if abs(true_cycle - plan.cycle_min) > 1e-6 * max(1.0, true_cycle):
        errors.append(f"cycle {plan.cycle_min} reported, {true_cycle} true")
    if plan.bottleneck in badges and abs(load[plan.bottleneck] - true_cycle) > 1e-6 * max(1.0, true_cycle):
        errors.append(f"bottleneck {plan.bottleneck} is not the most loaded worker")
    return errors
