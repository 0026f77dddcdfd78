"""The whole line asked at once, in the "unrelated machines" form: a plan within a target cycle?

draft
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key


@dataclass
class WholeLineModel:
    model: cp_model.CpModel
    a: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # task t by worker w
    pos: dict[int, cp_model.IntVar] = field(default_factory=dict)  # worker -> station
    cycle: cp_model.IntVar | None = None


def _reduced_precedence(p: LineProblem) -> list[tuple[int, int]]:
    """The precedence pairs not implied by others (transitive reduction)."""
    out = []
    for i, j in set(p.precedence):
        if not any(j in p.all_succs[m] for m in p.succs[i] if m != j):
            out.append((i, j))
    return sorted(out)


def build_whole_line(
    p: LineProblem,
    target: int,
    *,
    hint: LineSolution | None = None,
    lower: int = 0,
    mode: str = "clauses",
) -> WholeLineModel | None:
    k, n = p.num_workers, p.num_tasks
    m = cp_model.CpModel()
    wl = WholeLineModel(m)
    a = wl.a
    for t in range(n):
        lits = []
        for w in range(k):
            v = p.times[t][w]
            if v is None or v > target:
                continue
            if p.fixed_task is not None and p.fixed_task[t] not in (None, w):
                continue
            a[(t, w)] = m.new_bool_var(f"a{t}_{w}")
            lits.append(a[(t, w)])
        if not lits:
            return None
        m.add_exactly_one(lits)
    cyc = m.new_int_var(max(0, min(lower, target)), target, "cycle")
    wl.cycle = cyc
    for w in range(k):
        terms = [(p.times[t][w] or 0, a[(t, w)]) for t in range(n) if (t, w) in a]
        if terms:
            m.add(sum(c * v for c, v in terms) <= cyc)
    pos = wl.pos
    for w in range(k):
        seat = None if p.worker_station is None else p.worker_station[w]
        pos[w] = m.new_int_var(0 if seat is None else seat, k - 1 if seat is None else seat, f"pos{w}")
    m.add_all_different(list(pos.values()))
    prec = _reduced_precedence(p)
    if mode in ("clauses", "both"):
        before: dict[tuple[int, int], cp_model.IntVar] = {}
        for w1 in range(k):
            for w2 in range(w1 + 1, k):
                b = m.new_bool_var(f"b{w1}_{w2}")
                before[(w1, w2)] = b
                before[(w2, w1)] = b.Not()
                m.add(pos[w1] < pos[w2]).only_enforce_if(b)
                m.add(pos[w1] > pos[w2]).only_enforce_if(b.Not())
        for i, j in prec:
            for w1 in range(k):
                if (i, w1) not in a:
                    continue
                for w2 in range(k):
                    if w2 == w1 or (j, w2) not in a:
                        continue
                    m.add_bool_or([a[(i, w1)].Not(), a[(j, w2)].Not(), before[(w1, w2)]])
    if mode in ("stations", "both"):
        st = {}
        for t in range(n):
            st[t] = m.new_int_var(0, k - 1, f"st{t}")
            for w in range(k):
                if (t, w) in a:
                    m.add(st[t] == pos[w]).only_enforce_if(a[(t, w)])
        for i, j in prec:
            m.add(st[i] <= st[j])
    if p.allowed is not None:
        for t in range(n):
            zone = p.allowed[t]
            if zone is None:
                continue
            for w in range(k):
                if (t, w) in a:
                    m.add_linear_expression_in_domain(
                        pos[w], cp_model.Domain.from_values(sorted(zone))
                    ).only_enforce_if(a[(t, w)])
    m.minimize(cyc)
    if hint is not None:
        hw = hint.worker_of()
        for (t, w), lit in a.items():
            m.add_hint(lit, hw.get(t) == w)
        for s, (w, _) in enumerate(hint.stations):
            m.add_hint(pos[w], s)
    return wl


def extract(p: LineProblem, wl: WholeLineModel, solver: cp_model.CpSolver) -> LineSolution:
    k = p.num_workers
    at = sorted(range(k), key=lambda w: solver.value(wl.pos[w]))
    tasks_of: dict[int, list[int]] = {w: [] for w in range(k)}
    for (t, w), lit in wl.a.items():
        if solver.boolean_value(lit):
            tasks_of[w].append(t)
    return LineSolution(tuple((w, tuple(sorted(tasks_of[w]))) for w in at))


def solve_whole(
    p: LineProblem,
    target: int,
    limit_s: float,
    *,
    hint: LineSolution | None = None,
    workers: int = 1,
    seed: int = 0,
    mode: str = "clauses",
    lin: int = 2,
    first: bool = False,
    det: float | None = None,
    log: bool = False,
) -> tuple[str, LineSolution | None, float]:
    wl = build_whole_line(p, target, hint=hint, mode=mode)
    if wl is None:
        return "no", None, 0.0
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = limit_s
    if det is not None:
        prm.max_deterministic_time = det
    prm.num_workers = workers
    prm.random_seed = seed
    prm.linearization_level = lin
    prm.stop_after_first_solution = first
    prm.log_search_progress = log
    status = solver.solve(wl.model)
    dt = solver.deterministic_time
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ("optimal" if status == cp_model.OPTIMAL else "yes"), extract(p, wl, solver), dt
    if status == cp_model.INFEASIBLE:
        return "no", None, dt
    return "unknown", None, dt


def _unused(x: Sequence[int]) -> None:
    pass


def decide_order(
    p: LineProblem, order: Sequence[int], target: int, limit_s: float = 5.0, seed: int = 0
) -> tuple[str, LineSolution | None, float]:
    """The line with the workers in ``order`` (station s holds worker order[s]): a plan within target?"""
    k, n = p.num_workers, p.num_tasks
    m = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    st: dict[int, cp_model.IntVar] = {}
    for t in range(n):
        dom = [
            s
            for s in range(k)
            if (v := p.times[t][order[s]]) is not None
            and v <= target
            and p.station_ok(t, s)
            and (p.fixed_task is None or p.fixed_task[t] in (None, order[s]))
        ]
        if not dom:
            return "no", None, 0.0
        for s in dom:
            x[(t, s)] = m.new_bool_var("")
        m.add_exactly_one(x[(t, s)] for s in dom)
        st[t] = m.new_int_var_from_domain(cp_model.Domain.from_values(dom), "")
        m.add(st[t] == sum(s * x[(t, s)] for s in dom))
    for i, j in _reduced_precedence(p):
        m.add(st[i] <= st[j])
    for s in range(k):
        terms = [(p.times[t][order[s]] or 0, x[(t, s)]) for t in range(n) if (t, s) in x]
        if terms:
            m.add(sum(c * v for c, v in terms) <= target)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = limit_s
    prm.num_workers = 1
    prm.random_seed = seed
    prm.stop_after_first_solution = True
    status = solver.solve(m)
    dt = solver.deterministic_time
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        out = []
        for s in range(k):
            out.append((order[s], tuple(t for t in range(n) if (t, s) in x and solver.boolean_value(x[(t, s)]))))
        return "yes", LineSolution(tuple(out)), dt
    if status == cp_model.INFEASIBLE:
        return "no", None, dt
    return "unknown", None, dt


@dataclass
class WalkStats:
    steps: int = 0
    accepted: int = 0  # orders on the plateau (a plan at the cycle) moved to
    yes: int = 0  # orders that gave a plan one unit better
    det: float = 0.0  # CP-SAT deterministic time spent


def _perturb(order: list[int], rng: random.Random, hot: Sequence[int]) -> list[int]:
    k = len(order)
    o = order[:]
    i = rng.choice(hot) if hot and rng.random() < 0.5 else rng.randrange(k)
    j = rng.randrange(k - 1)
    j = j + 1 if j >= i else j
    r = rng.random()
    if r < 0.4:
        w = o.pop(i)
        o.insert(j, w)
    elif r < 0.7:
        o[i], o[j] = o[j], o[i]
    else:
        a, b = min(i, j), max(i, j)
        o[a : b + 1] = o[a : b + 1][::-1]
    return o


def order_walk(
    p: LineProblem,
    seed_plan: LineSolution,
    deadline: float,
    *,
    seed: int = 0,
    max_steps: int | None = None,
    stats: WalkStats | None = None,
) -> LineSolution:
    st = stats if stats is not None else WalkStats()
    rng = random.Random(seed)
    best = seed_plan
    order = [w for w, _ in best.stations]
    c = best.cycle_time(p)
    steps = 0
    while time.monotonic() < deadline and (max_steps is None or steps < max_steps):
        loads = best.loads(p)
        hot = [s for s, v in enumerate(loads) if v == max(loads)]
        cand = _perturb(order, rng, hot)
        steps += 1
        st.steps += 1
        left = deadline - time.monotonic()
        ans, sol, dt = decide_order(p, cand, c - 1, limit_s=max(0.01, left), seed=seed + steps)
        st.det += dt
        if ans == "yes" and sol is not None:
            best, order, c = sol, cand, c - 1
            st.yes += 1
            continue
        if ans == "unknown" or time.monotonic() >= deadline:
            continue
        ans, sol, dt = decide_order(p, cand, c, limit_s=max(0.01, deadline - time.monotonic()), seed=seed + steps)
        st.det += dt
        if ans == "yes" and sol is not None:
            order = cand
            st.accepted += 1
            if _key(p, sol) < _key(p, best):
                best = sol
    return best
