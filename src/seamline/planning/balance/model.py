"""CP-SAT models of the line problem (``LineProblem``): the engine's model and the textbook one.

The engine's model is worker-indexed, which is compact: a[t,w] (task t done by worker w, only
for pairs she can do), y[w,s] (worker w at station s, a permutation), st[t] and pos[w] (station
numbers), a[t,w] ⇒ st[t] = pos[w], precedence st[i] ≤ st[j], and each worker's load ≤ C. Zones
restrict st[t]; machine types are one literal per (worker, type) with counts. For large-
neighbourhood search the same builder takes a set of *free stations*: tasks and workers at the
other stations keep their incumbent places, enter only as constants (loads, machine counts,
precedence bounds), and the sub-model is small.

``build_plain_model`` is the formulation of Chaves, Miralles & Lorena (2007) as it stands
(x[t,w,s], y[w,s]), without hints or bounds: the benchmark's yardstick.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.balance.data import LineProblem, LineSolution

STRONG = True


@dataclass
class LineModel:
    model: cp_model.CpModel
    stations: list[int]  # the free stations, in line order
    workers: list[int]  # the free workers
    tasks: list[int]  # the free tasks
    a: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    y: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    cycle: cp_model.IntVar | None = None
    fixed: dict[int, tuple[int, tuple[int, ...]]] = field(default_factory=dict)  # station -> (worker, tasks)


def build_line_model(
    p: LineProblem,
    *,
    upper: int | None = None,
    lower: int = 0,
    hint: LineSolution | None = None,
    free_stations: Collection[int] | None = None,
    incumbent: LineSolution | None = None,
    soft: bool = True,
    worker_stations: Mapping[int, Collection[int]] | None = None,
) -> LineModel:
    """The model (all of it, or the neighbourhood ``free_stations`` of ``incumbent``).

    Objective: the cycle time (over the free workers), then the soft pair costs when ``soft``.
    ``upper`` caps every free worker's load (a cycle-time search asks "is there a plan within
    ``upper``?"). ``worker_stations`` narrows where each worker may stand (the other LNS
    neighbourhood: all tasks free, workers moved only a little or only a few of them).
    """
    m = cp_model.CpModel()
    k, n = p.num_workers, p.num_tasks
    if free_stations is None or incumbent is None:
        stations, workers, tasks = list(range(k)), list(range(k)), list(range(n))
        fixed: dict[int, tuple[int, tuple[int, ...]]] = {}
        st_of: dict[int, int] = {}
    else:
        fs = set(free_stations)
        stations = sorted(fs)
        workers = [incumbent.stations[s][0] for s in stations]
        tasks = sorted(t for s in stations for t in incumbent.stations[s][1])
        fixed = {s: incumbent.stations[s] for s in range(k) if s not in fs}
        st_of = {t: s for s, (_, ts) in fixed.items() for t in ts}
    lm = LineModel(model=m, stations=stations, workers=workers, tasks=tasks, fixed=fixed)
    smin, smax = stations[0], stations[-1]
    sset = set(stations)
    cap = upper if upper is not None else sum(max(v for v in row if v is not None) for row in p.times)
    # Stations and workers: a permutation of the free workers onto the free stations.
    pos: dict[int, cp_model.IntVar] = {}
    for w in workers:
        fixed_s = p.worker_station[w] if p.worker_station is not None else None
        near = None if worker_stations is None else worker_stations.get(w)
        for s in stations:
            if (fixed_s is None or fixed_s == s) and (near is None or s in near):
                lm.y[(w, s)] = m.new_bool_var(f"y{w}_{s}")
        m.add_exactly_one(lm.y[(w, s)] for s in stations if (w, s) in lm.y)
        pos[w] = m.new_int_var_from_domain(cp_model.Domain.from_values(stations), f"pos{w}")
        m.add(pos[w] == sum(s * lm.y[(w, s)] for s in stations if (w, s) in lm.y))
    for s in stations:
        m.add_exactly_one(lm.y[(w, s)] for w in workers if (w, s) in lm.y)
    # Tasks: earliest/latest station from fixed predecessors and successors, and zones.
    st: dict[int, cp_model.IntVar] = {}
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for t in tasks:
        lo = max((st_of[i] for i in p.preds[t] if i in st_of), default=smin)
        hi = min((st_of[j] for j in p.succs[t] if j in st_of), default=smax)
        dom = [s for s in stations if lo <= s <= hi and p.station_ok(t, s)]
        if not dom:
            raise ValueError(f"{p.name}: task {t} has no station left in this neighbourhood")
        st[t] = m.new_int_var_from_domain(cp_model.Domain.from_values(dom), f"st{t}")
        if STRONG:
            for s in dom:
                x[(t, s)] = m.new_bool_var(f"x{t}_{s}")
            m.add_exactly_one(x[(t, s)] for s in dom)
            m.add(st[t] == sum(s * x[(t, s)] for s in dom))
        lits = []
        for w in workers:
            tw = p.times[t][w]
            if tw is None or (p.fixed_task is not None and p.fixed_task[t] not in (None, w)):
                continue
            if tw > cap:
                continue
            lit = m.new_bool_var(f"a{t}_{w}")
            lm.a[(t, w)] = lit
            m.add(st[t] == pos[w]).only_enforce_if(lit)
            if STRONG:
                for s in stations:
                    if (w, s) in lm.y:
                        if (t, s) in x:
                            m.add_bool_or([lit.Not(), lm.y[(w, s)].Not(), x[(t, s)]])
                        else:
                            m.add_implication(lit, lm.y[(w, s)].Not())
            lits.append(lit)
        if not lits:
            raise ValueError(f"{p.name}: nobody free can do task {t} within the cycle")
        m.add_exactly_one(lits)
    free_t = set(tasks)
    for i, j in p.precedence:
        if i in free_t and j in free_t:
            m.add(st[i] <= st[j])
    # Machine types: one per worker, and no more workers per type than machines.
    add_machine_types(m, p, fixed, lm.a, workers)
    # Loads and the cycle time.
    lm.cycle = m.new_int_var(max(0, lower), cap, "cycle")
    for w in workers:
        keys = [(t, w) for t in tasks if (t, w) in lm.a]
        m.add(sum((p.times[t][w] or 0) * lm.a[(t, w)] for t, _ in keys) <= lm.cycle)
    soft_terms = [(c, lm.a[key]) for key, c in p.pair_cost.items() if key in lm.a and c] if soft else []
    if soft_terms:
        weight = sum(abs(c) for c, _ in soft_terms) + 1
        m.minimize(weight * lm.cycle + sum(c * v for c, v in soft_terms))
    else:
        m.minimize(lm.cycle)
    if hint is not None:
        h_st = hint.station_of()
        h_w = hint.worker_of()
        for (t, w), lit in lm.a.items():
            m.add_hint(lit, h_w.get(t) == w)
        for (w, s), lit in lm.y.items():
            m.add_hint(lit, hint.stations[s][0] == w)
        for t in tasks:
            if t in h_st and h_st[t] in sset:
                m.add_hint(st[t], h_st[t])
        loads = hint.loads(p)
        m.add_hint(lm.cycle, max([loads[s] for s in stations] + [max(0, lower)]))
    return lm


def extract_line(p: LineProblem, lm: LineModel, solver: cp_model.CpSolver) -> LineSolution:
    """The full plan: free stations from the solver, the others from the incumbent."""
    at: dict[int, int] = {}
    for (w, s), lit in lm.y.items():
        if solver.boolean_value(lit):
            at[s] = w
    tasks_of: dict[int, list[int]] = {w: [] for w in lm.workers}
    for (t, w), lit in lm.a.items():
        if solver.boolean_value(lit):
            tasks_of[w].append(t)
    out: list[tuple[int, tuple[int, ...]]] = []
    for s in range(p.num_stations):
        if s in lm.fixed:
            out.append(lm.fixed[s])
        else:
            w = at[s]
            out.append((w, tuple(sorted(tasks_of[w]))))
    return LineSolution(tuple(out))


@dataclass
class PlainModel:
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], cp_model.IntVar]
    cycle: cp_model.IntVar


def build_plain_model(p: LineProblem) -> PlainModel:
    """Chaves et al. (2007) ALWABP-2 formulation: x[t,w,s], y[w,s], min C. No hint, no bounds."""
    m = cp_model.CpModel()
    k, n = p.num_workers, p.num_tasks
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    y = {(w, s): m.new_bool_var(f"y{w}_{s}") for w in range(k) for s in range(k)}
    ub = sum(max(v for v in row if v is not None) for row in p.times)
    c = m.new_int_var(0, ub, "C")
    for t in range(n):
        for w in range(k):
            if p.times[t][w] is None:
                continue
            for s in range(k):
                x[(t, w, s)] = m.new_bool_var(f"x{t}_{w}_{s}")
                m.add_implication(x[(t, w, s)], y[(w, s)])
        m.add(sum(v for (tt, _, _), v in x.items() if tt == t) == 1)
    for w in range(k):
        m.add(sum(y[(w, s)] for s in range(k)) == 1)
    for s in range(k):
        m.add(sum(y[(w, s)] for w in range(k)) <= 1)
        for w in range(k):
            m.add(sum((p.times[t][w] or 0) * x[(t, w, s)] for t in range(n) if (t, w, s) in x) <= c)
    for i, j in p.precedence:
        si = sum(s * v for (t, _, s), v in x.items() if t == i)
        sj = sum(s * v for (t, _, s), v in x.items() if t == j)
        m.add(si <= sj)
    m.minimize(c)
    return PlainModel(m, x, c)


def solve_plain_line(p: LineProblem, time_limit_s: float, *, workers: int = 2) -> LineSolution | None:
    """The textbook model alone (the benchmark's baseline)."""
    pm = build_plain_model(p)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(pm.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    at: dict[int, tuple[int, list[int]]] = {}
    for (t, w, s), v in pm.x.items():
        if solver.boolean_value(v):
            at.setdefault(s, (w, []))[1].append(t)
    # Workers with no task still stand somewhere: give them the empty stations in any order.
    used = {w for w, _ in at.values()}
    idle = [w for w in range(p.num_workers) if w not in used]
    out = []
    for s in range(p.num_workers):
        if s in at:
            out.append((at[s][0], tuple(sorted(at[s][1]))))
        else:
            out.append((idle.pop(), ()))
    return LineSolution(tuple(out))


def add_machine_types(
    m: cp_model.CpModel,
    p: LineProblem,
    fixed: Mapping[int, tuple[int, Collection[int]]],
    a: Mapping[tuple[int, int], cp_model.IntVar],
    workers: Iterable[int],
) -> None:
    """One machine type per worker (``a[t, w]``: task t done by worker w), and no more workers on a
    type than it has machines, the fixed stations' types counted (``fixed``: station → (worker,
    tasks)). Shared by the full model and the exact windows (``cpsat_window``)."""
    if p.task_type is None:
        return
    fixed_count: dict[str, int] = {}
    for _, (_, ts) in fixed.items():
        for ty in {p.task_type[t] for t in ts} - {None}:
            assert ty is not None
            fixed_count[ty] = fixed_count.get(ty, 0) + 1
    mt: dict[tuple[int, str], cp_model.IntVar] = {}
    for (t, w), lit in a.items():
        ty = p.task_type[t]
        if ty is None:
            continue
        if (w, ty) not in mt:
            mt[(w, ty)] = m.new_bool_var(f"m{w}_{ty}")
        m.add_implication(lit, mt[(w, ty)])
    for w in workers:
        lits_w = [v for (ww, _), v in mt.items() if ww == w]
        if len(lits_w) > 1:
            m.add_at_most_one(lits_w)
    for ty, limit in p.machines.items():
        lits_t = [v for (_, tt), v in mt.items() if tt == ty]
        if lits_t:
            m.add(sum(lits_t) <= limit - fixed_count.get(ty, 0))
