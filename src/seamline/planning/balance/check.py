"""Independent feasibility check of a balance plan (shares no code with the model)."""

from __future__ import annotations

from collections import defaultdict

from seamline.planning.balance.data import BalancePlan, BalanceProblem, LineProblem, LineSolution


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
    if plan.stations:
        # Bundles move forward: every worker on an operation stands no later than every worker on
        # the operations that follow it (floating machine types are exempt), and zones hold.
        pos = {b: i for i, b in enumerate(plan.stations)}
        if sorted(pos) != sorted(badges):
            errors.append("stations do not list every worker exactly once")
        at: dict[str, list[int]] = defaultdict(list)
        for a in plan.assignments:
            if a.badge in pos:
                at[a.op_code].append(pos[a.badge])
        floating = set(plan.floating_types)
        for o in ops.values():
            for q in o.predecessors:
                if o.machine_type in floating or ops[q].machine_type in floating:
                    continue
                if at[q] and at[o.code] and max(at[q]) > min(at[o.code]):
                    errors.append(f"{q} at station {max(at[q])} comes after {o.code} at station {min(at[o.code])}")
        for code, allowed in p.zones.items():
            for s in at.get(code, []):
                if s not in allowed:
                    errors.append(f"{code} at station {s}, outside its zone {sorted(allowed)}")
    true_cycle = max(load.values(), default=0.0)
    if abs(true_cycle - plan.cycle_min) > 1e-6 * max(1.0, true_cycle):
        errors.append(f"cycle {plan.cycle_min} reported, {true_cycle} true")
    if plan.bottleneck in badges and abs(load[plan.bottleneck] - true_cycle) > 1e-6 * max(1.0, true_cycle):
        errors.append(f"bottleneck {plan.bottleneck} is not the most loaded worker")
    return errors


def check_line(p: LineProblem, sol: LineSolution, cycle_time: int | None = None) -> list[str]:
    """Every problem with a station plan (ALWABP and the sewing line's extras), independently of
    the model: each worker at exactly one station, each task once, by a worker who can do it,
    predecessors at the same or an earlier station, zones, fixed seats, machine types and counts,
    and the reported cycle time (when given) equal to the heaviest station."""
    errors: list[str] = []
    k, n = p.num_workers, p.num_tasks
    if len(sol.stations) != k:
        errors.append(f"{len(sol.stations)} stations, expected {k} (one per worker)")
    seen_w = [w for w, _ in sol.stations]
    if sorted(seen_w) != list(range(k)):
        errors.append(f"workers at stations {sorted(seen_w)} are not each of 0..{k - 1} exactly once")
    station: dict[int, int] = {}
    worker: dict[int, int] = {}
    for s, (w, ts) in enumerate(sol.stations):
        for t in ts:
            if not 0 <= t < n:
                errors.append(f"unknown task {t}")
                continue
            if t in station:
                errors.append(f"task {t} assigned twice")
            station[t], worker[t] = s, w
            if not 0 <= w < k:
                continue
            if p.times[t][w] is None:
                errors.append(f"worker {w} cannot do task {t}")
            if not p.station_ok(t, s):
                errors.append(f"task {t} at station {s}, outside its zone")
            if p.fixed_task is not None and p.fixed_task[t] is not None and p.fixed_task[t] != w:
                errors.append(f"task {t} fixed to worker {p.fixed_task[t]}, done by {w}")
        if p.worker_station is not None and 0 <= w < k and p.worker_station[w] not in (None, s):
            errors.append(f"worker {w} fixed at station {p.worker_station[w]}, stands at {s}")
    missing = [t for t in range(n) if t not in station]
    if missing:
        errors.append(f"tasks not assigned: {missing[:10]}")
    for i, j in p.precedence:
        if i in station and j in station and station[i] > station[j]:
            errors.append(f"task {i} (station {station[i]}) must not come after task {j} (station {station[j]})")
    if p.task_type is not None:
        per_type: dict[str, int] = defaultdict(int)
        for w, ts in sol.stations:
            types = {p.task_type[t] for t in ts if 0 <= t < n and p.task_type[t] is not None}
            if len(types) > 1:
                errors.append(f"worker {w} needs machines {sorted(t for t in types if t)}: one type per worker")
            for ty in types:
                if ty is not None:
                    per_type[ty] += 1
        for ty, cnt in per_type.items():
            if ty in p.machines and cnt > p.machines[ty]:
                errors.append(f"{cnt} workers on {ty}, only {p.machines[ty]} machines")
    if cycle_time is not None and not errors:
        loads = [sum(p.times[t][w] or 0 for t in ts) for w, ts in sol.stations]
        if max(loads, default=0) != cycle_time:
            errors.append(f"cycle time {cycle_time} reported, {max(loads, default=0)} true")
    return errors
