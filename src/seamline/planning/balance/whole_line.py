"""The whole line asked at once: a plan within a target cycle, and the walk over orders of workers.

On the long wee-mag lines (75 tasks, 11 workers) the portfolio's plans sit a unit or two above the
optimum and are locally optimal for every neighbourhood of tasks (tabu moves, CP-SAT windows,
window repacking): what differs in a better plan is the *order of workers* along the line. This
module asks the whole line, in two ways:

* ``build_whole_line`` / ``solve_whole``: the "unrelated machines" model — a[t,w] (task t by
  worker w, only pairs within the target), each worker's load ≤ the cycle, pos[w] all different,
  and precedence i → j as a[i,w1] ∧ a[j,w2] ⇒ before[w1,w2] (``mode="clauses"``, on the transitive
  reduction of the precedence) and/or st[t] = pos[w] with st[i] ≤ st[j] (``"stations"``), the LP
  on (linearization level 2), the best plan as hint. Exact, and it agrees with brute force on
  small lines, but on wee-mag-1 at C* − 1 = 26 it decided nothing in 20 s (1 or 2 workers, either
  mode; its LP bound is 17 against the optimum 25), nor did CP-SAT's own LNS improve the 27-plan
  from the hint: the order of 11 workers is a search CP-SAT's branching does not finish.
* ``decide_order``: the same question with the order *fixed* — tasks to stations (a station's
  worker known), precedence on station numbers, loads. On wee-mag-1 it decides a random order
  at 26 in 0.007 deterministic units on average (100 orders, all no), a hundred times less than
  the free order with positions only allowed to move one place (0.6 units). ``refuted`` proves
  many orders infeasible before any model is built (each task's stations narrowed by precedence,
  then every run of stations against the work that must fall in it).
* ``order_walk``: a walk over orders with those exact questions. Each step perturbs the order
  (move a worker, swap two, reverse a segment; half the time through a station at the cycle) and
  asks the whole line with that order at C* − 1 (a yes is a better plan) and, if not, at C* (a
  yes makes it the current order: the walk moves on the plateau of orders that hold the cycle).
  Every one-move neighbour of the portfolio's wee-mag-1 plan (145 orders) says no at 26, so
  the plateau moves are what leads anywhere. Never worse than its seed; questions are capped at
  ``STEP_DET`` deterministic units (a time-out counts as no), so with a seed and ``max_steps``
  the walk is repeatable.
* ``decide_order_dfs``: the fixed-order question without CP-SAT (``station_dfs`` with every worker
  seated), exact when it exhausts the space. Measured on 40 unrefuted questions next to the
  portfolio's wee-mag-1 plan it decided none in 300 nodes and 3 in 2,000 (ten times CP-SAT's CPU),
  where CP-SAT decided all 40 in about 40 ms each: the maximal loads of a long station are too
  many to enumerate, so a "no" is never proven. CP-SAT stays the walk's question (``QUESTION``).
* The guide (``GUIDE``): of ``GUIDE_TRIES`` perturbed orders, ask the one with the least
  ``order_deficit`` at C* − 1 (the bound of ``refuted`` as a number), not a random one.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key
from seamline.planning.balance.station_dfs import station_dfs

# Extra CP-SAT parameters of the order questions. Presolve off: on 120 questions around the
# wee-mag-1 plan (60 orders at 26 and 27) the same answers in 23-31 % less CPU (the models are
# small and already tight; presolve was most of a "no"). No LP relaxation (linearization level 0):
# on 40 unrefuted questions next to the portfolio's plan (wee-mag-1 / wee-mag-21) half / 4 % fewer
# deterministic units, 45 / 25 % less CPU, and fewer time-outs (0 / 3 against 3 / 5).
ORDER_PARAMS: dict[str, object] = {"cp_model_presolve": False, "linearization_level": 0}
HINT = False  # start the walk's questions from the current plan's stations (measured: no help, so off)
STEP_DET = 0.3  # CP-SAT deterministic units of one order question in the walk (unknown = no)
# how the walk asks a fixed order: "dfs" (``decide_order_dfs``), "cpsat" (``decide_order``) or
# "both" (the depth-first search with a small budget, CP-SAT when it leaves the question open)
QUESTION = "cpsat"
UNPLACEABLE = 1 << 40  # ``order_deficit`` of an order where some task has no station
GUIDE = False  # rank GUIDE_TRIES perturbed orders by ``order_deficit`` and ask only the best
GUIDE_TRIES = 8
STEP_NODES = 2000  # node budget of one ``decide_order_dfs`` question in the walk (unknown = no)


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
    """The whole-line model "every load ≤ ``target``" minimising the cycle, or None when a task has
    no worker within the target. ``mode``: precedence as clauses on worker pairs, as station
    numbers, or "both"."""
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
        before: dict[tuple[int, int], cp_model.LiteralT] = {}
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
    """The plan of a solved whole-line model: workers by position, each with their tasks."""
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
    """The whole line at ``target``: ("optimal" | "yes", plan) / ("no" | "unknown", None), and the
    deterministic time spent. ``first``: stop at the first plan within the target."""
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


def refuted(p: LineProblem, order: Sequence[int], target: int) -> bool:
    """A quick proof, in pure Python, that the workers in ``order`` cannot hold the line within
    ``target``: each task's stations (its worker can do it within the target, zones), narrowed by
    precedence in both directions, and for every run of stations the tasks that must fall inside
    it, each at its fastest there, against the run's capacity. Most perturbed orders of a walk are
    refuted here, before a question is asked."""
    return order_deficit(p, order, target) > 0


def order_deficit(p: LineProblem, order: Sequence[int], target: int) -> int:
    """The bound of ``refuted`` as a number: the most work, over runs of stations, that must fall
    in the run beyond its capacity at ``target`` (≤ 0 when no run is overloaded, the more negative
    the more room), or ``UNPLACEABLE`` when a task has no station. The walk's guide ranks
    perturbed orders by it."""
    k, n = p.num_workers, p.num_tasks
    ok = [
        [
            (v := p.times[t][order[s]]) is not None
            and v <= target
            and p.station_ok(t, s)
            and (p.fixed_task is None or p.fixed_task[t] in (None, order[s]))
            for s in range(k)
        ]
        for t in range(n)
    ]
    lo = [0] * n
    hi = [k - 1] * n
    for t in p.topo_order:
        start = max([lo[i] for i in p.preds[t]], default=0)
        s = start
        while s < k and not ok[t][s]:
            s += 1
        if s >= k:
            return UNPLACEABLE
        lo[t] = s
    for t in reversed(p.topo_order):
        end = min([hi[j] for j in p.succs[t]], default=k - 1)
        s = end
        while s >= 0 and not ok[t][s]:
            s -= 1
        if s < lo[t]:
            return UNPLACEABLE
        hi[t] = s
    fast = [min(p.times[t][order[s]] for s in range(lo[t], hi[t] + 1) if ok[t][s]) for t in range(n)]  # type: ignore[type-var]
    by_hi: list[list[tuple[int, int]]] = [[] for _ in range(k)]
    for t in range(n):
        by_hi[hi[t]].append((lo[t], fast[t]))  # type: ignore[arg-type]
    worst = -UNPLACEABLE
    for a in range(k):
        need = 0
        for b in range(a, k):
            need += sum(v for lt, v in by_hi[b] if lt >= a)
            worst = max(worst, need - (b - a + 1) * target)
    return worst


def decide_order(
    p: LineProblem,
    order: Sequence[int],
    target: int,
    limit_s: float = 5.0,
    seed: int = 0,
    det_limit: float | None = None,
    hint: dict[int, int] | None = None,
) -> tuple[str, LineSolution | None, float]:
    """The line with the workers in ``order`` (station s holds worker order[s]): a plan within
    ``target``? ("yes", plan) / ("no", None) / ("unknown", None) past ``limit_s`` seconds or
    ``det_limit`` deterministic units, and the deterministic time spent. ``hint``: task → station
    of a plan to start from (the current plan in the walk)."""
    k, n = p.num_workers, p.num_tasks
    if refuted(p, order, target):
        return "no", None, 0.0
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
    if hint is not None:
        for (t, s), lit in x.items():
            m.add_hint(lit, hint.get(t) == s)
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
    for name, value in ORDER_PARAMS.items():
        setattr(prm, name, value)
    if det_limit is not None:
        prm.max_deterministic_time = det_limit
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


def decide_order_dfs(
    p: LineProblem,
    order: Sequence[int],
    target: int,
    *,
    max_nodes: int = 2000,
    deadline: float | None = None,
) -> tuple[str, LineSolution | None, int]:
    """``decide_order`` without a CP-SAT model: the stations filled in line order, each by its
    known worker, depth first over maximal loads (``station_dfs`` with every worker seated at
    ``order``'s place), with its slack bound and memo. ("yes", plan) / ("no", None) when the search
    exhausted the space with no cap binding (exact) / ("unknown", None), and the nodes expanded.
    With the order fixed, maximal loads still dominate (a task that fits an earlier station moves
    there without hurting anything), so a "no" is a proof."""
    k = p.num_workers
    if sorted(order) != list(range(k)):
        raise ValueError("order must hold every worker once")
    if p.worker_station is not None and any(s is not None and order[s] != w for w, s in enumerate(p.worker_station)):
        return "no", None, 0
    if refuted(p, order, target):
        return "no", None, 0
    seat = [0] * k
    for s, w in enumerate(order):
        seat[w] = s
    fixed = dataclasses.replace(p, worker_station=tuple(seat))
    res = station_dfs(fixed, target, max_nodes=max_nodes, deadline=deadline, exhaustive=True)
    if res.line is not None:
        return "yes", res.line, res.nodes
    return ("no" if res.proved else "unknown"), None, res.nodes


@dataclass
class WalkStats:
    """What the walk did: steps, plateau moves, better plans, CP-SAT work."""

    steps: int = 0
    accepted: int = 0  # orders on the plateau (a plan at the cycle) moved to
    yes: int = 0  # orders that gave a plan one unit better
    det: float = 0.0  # CP-SAT deterministic time spent
    refuted: int = 0  # questions answered no by ``refuted`` alone, without CP-SAT
    nodes: int = 0  # nodes of the depth-first questions
    fallback: int = 0  # depth-first questions left undecided and asked of CP-SAT ("both")
    found: list[tuple[int, int]] = field(default_factory=list)  # (step, cycle) of each "yes"
    # where the walk stands (an order and its plan), kept from one call to the next: the plateau
    # walk goes on from there while the plan handed in has the same cycle
    order: list[int] | None = None
    cur: LineSolution | None = None


def _perturb(order: list[int], rng: random.Random, hot: Sequence[int]) -> list[int]:
    """One move of the order: a worker moved, two swapped or a segment reversed, from a station
    in ``hot`` (those at the cycle) half the time."""
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
    det_limit: float | None = STEP_DET,
    question: str | None = None,
    max_nodes: int = STEP_NODES,
    guide: bool | None = None,
) -> LineSolution:
    """The best plan the walk over orders reaches from ``seed_plan`` by ``deadline`` (a
    ``time.monotonic()`` instant) or after ``max_steps`` steps; never worse than the seed."""
    st = stats if stats is not None else WalkStats()
    question = QUESTION if question is None else question  # the module's settings at call time
    guide = GUIDE if guide is None else guide
    rng = random.Random(seed)
    best = cur = seed_plan  # the best plan, and the plan of the current order
    order = [w for w, _ in best.stations]
    c = best.cycle_time(p)
    if st.cur is not None and st.order is not None and st.cur.cycle_time(p) == c:
        cur, order = st.cur, st.order
    steps = 0

    def ask(
        cand: list[int], target: int, left: float, qseed: int, near: dict[int, int] | None
    ) -> tuple[str, LineSolution | None, float]:
        if question in ("dfs", "both"):
            ans, sol, nodes = decide_order_dfs(p, cand, target, max_nodes=max_nodes, deadline=deadline)
            st.nodes += nodes
            if question == "dfs" or ans != "unknown":
                return ans, sol, float(nodes)
            st.fallback += 1
            left = deadline - time.monotonic()
        ans, sol, dt = decide_order(
            p, cand, target, limit_s=max(0.01, left), seed=qseed, det_limit=det_limit, hint=near
        )
        st.det += dt
        return ans, sol, dt

    while time.monotonic() < deadline and (max_steps is None or steps < max_steps):
        loads = cur.loads(p)
        hot = [s for s, v in enumerate(loads) if v == max(loads)]
        if guide:
            # the perturbed order with the least deficit at C* - 1 of GUIDE_TRIES (``order_deficit``)
            tries = [_perturb(order, rng, hot) for _ in range(GUIDE_TRIES)]
            cand = min(tries, key=lambda o: order_deficit(p, o, c - 1))
        else:
            cand = _perturb(order, rng, hot)
        steps += 1
        st.steps += 1
        left = deadline - time.monotonic()
        near = cur.station_of() if HINT else None
        ans, sol, dt = ask(cand, c - 1, left, seed + steps, near)
        st.refuted += ans == "no" and dt == 0.0
        if ans == "yes" and sol is not None:
            best, cur, order, c = sol, sol, cand, c - 1
            st.yes += 1
            st.found.append((st.steps, c))
            continue
        if ans == "unknown" or time.monotonic() >= deadline:
            continue
        ans, sol, dt = ask(cand, c, deadline - time.monotonic(), seed + steps, near)
        if ans == "yes" and sol is not None:
            order, cur = cand, sol
            st.accepted += 1
            if _key(p, sol) < _key(p, best):
                best = sol
    st.order, st.cur = order, cur
    return best
