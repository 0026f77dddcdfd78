"""An exact step for the line balance: "is there a plan at one below the best cycle?" by CP-SAT.

The heuristics (beam, tabu, IPBS) find good plans but cannot tell when to stop, and on long lines
they stall a unit or two above the best known cycle. This module asks CP-SAT a *decision*
question instead of an optimisation one: given the best plan so far (cycle ``C*``), is there a
plan whose loads are all ``≤ C* − 1``? A yes is a better plan, and the question is asked again;
a no on the whole line proves ``C*`` optimal.

The whole line at 70 tasks × 17 workers is too large for seconds, so the usual question is a
*window* of it (large-neighbourhood search): the plan is kept outside a run of consecutive
stations (plus, at times, a few light ones, so a spare worker can come over), and inside it the
tasks and workers are free, every free station ``≤ C* − 1``. A window around a bottleneck that
says yes removes that bottleneck; when none is left the cycle has dropped. The answer is never
worse than the seed: a window that says no or runs out of time leaves the plan as it was.

The model is built to propagate, not just to be correct (the textbook x[t,w,s] model found no
plan on most of these lines in ten seconds):

* a task's stations are bounded before the search: its free ancestors must fit before it and
  its free descendants after it, each station holding at most the target of their fastest
  times (``station_bounds``), intersected with zones and with the fixed plan's precedence;
* x[t,s] (task at station), y[w,s] (worker at station: a permutation) and a[t,w] (task by
  worker, only for pairs she can do within the target) are tied by a[t,w] ∧ y[w,s] ⇒ x[t,s] and
  by a[t,w] ⇒ station(t) = position(w);
* each worker's own load (linear in a) ≤ a cycle variable capped at the target, minimised: the
  same decision, but the objective steers the search (same windows, one CP-SAT worker, a
  deterministic budget: without it fewer windows were decided). A redundant cut, each station's
  load at the fastest times ≤ target, was tried and dropped: it cost deterministic time and
  decided fewer windows;
* precedence on station numbers, and workers with identical times ordered (symmetry);
* the seed plan as a complete hint.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.model import add_machine_types
from seamline.planning.balance.polish import _key, reassign_workers

# Seconds for one window (the whole line gets what is left when it is small enough).
WINDOW_LIMIT_S = 0.6
INIT_WINDOW = 5
FULL_MAX_SIZE = 400  # tasks × workers up to which the whole line is asked first (a proof in seconds)


@dataclass
class WindowModel:
    model: cp_model.CpModel
    stations: list[int]  # free stations, line order
    workers: list[int]  # free workers
    tasks: list[int]  # free tasks
    fixed: dict[int, tuple[int, tuple[int, ...]]]
    a: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    y: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    x: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)


def _fastest(p: LineProblem, t: int, workers: Sequence[int], target: int) -> int | None:
    vals = [v for w in workers if (v := p.times[t][w]) is not None and v <= target]
    return min(vals) if vals else None


def station_bounds(
    p: LineProblem, tasks: Sequence[int], n_stations: int, target: int, fastest: dict[int, int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Earliest and latest index (0-based, among ``n_stations`` free stations) of each free task.

    Every free ancestor of ``t`` sits at a free station no later than ``t``'s, and no free station
    holds more than ``target`` of the fastest times, so ``t`` is not before station
    ``ceil((fastest(ancestors) + fastest(t)) / target) − 1``; the same from the descendants for
    the latest station. Valid for the whole line and for a window alike.
    """
    free = set(tasks)
    anc: dict[int, set[int]] = {t: set() for t in tasks}
    for t in tasks:
        for d in p.all_succs[t]:
            if d in free:
                anc[d].add(t)
    early: dict[int, int] = {}
    late: dict[int, int] = {}
    c = max(1, target)
    for t in tasks:
        before = fastest[t] + sum(fastest[i] for i in anc[t])
        after = fastest[t] + sum(fastest[j] for j in p.all_succs[t] if j in free)
        early[t] = -(-before // c) - 1
        late[t] = n_stations - (-(-after // c))
    return early, late


def build_window_model(
    p: LineProblem,
    incumbent: LineSolution,
    target: int,
    free_stations: Sequence[int] | None = None,
    *,
    seat_band: int | None = None,
    task_band: int | None = None,
    over: int = 0,
    movable: Collection[int] | None = None,
) -> WindowModel | None:
    """The decision model "free stations all ≤ ``target``", or None when bounds alone refute it.

    ``over``: up to that many free stations may stay at ``target + 1`` (a window holding several
    bottlenecks then relieves some of them, which still shortens the plan's key). ``seat_band`` /
    ``task_band``: workers / tasks move at most that many stations from where the incumbent has
    them (a neighbourhood spanning the whole line). ``movable``: only the workers of these free
    stations change places (among these stations); the others keep theirs, their tasks free.
    """
    cap = target + 1 if over > 0 else target
    k = p.num_stations
    stations = sorted(set(range(k) if free_stations is None else free_stations))
    fs = set(stations)
    workers = [incumbent.stations[s][0] for s in stations]
    tasks = sorted(t for s in stations for t in incumbent.stations[s][1])
    fixed = {s: incumbent.stations[s] for s in range(k) if s not in fs}
    st_of = {t: s for s, (_, ts) in fixed.items() for t in ts}
    m = cp_model.CpModel()
    wm = WindowModel(m, stations, workers, tasks, fixed)
    fastest: dict[int, int] = {}
    for t in tasks:
        f = _fastest(p, t, workers, cap)
        if f is None:
            return None
        fastest[t] = f
    if sum(fastest.values()) > target * len(stations) + min(over, len(stations)):
        return None
    early, late = station_bounds(p, tasks, len(stations), cap, fastest)
    h_pos = {w: s for s, (w, _) in enumerate(incumbent.stations)}
    h_st = incumbent.station_of()
    # Workers onto stations: a permutation (fixed seats respected).
    for w in workers:
        seat = p.worker_station[w] if p.worker_station is not None else None
        here = h_pos[w]
        for s in stations:
            if movable is not None and (here not in movable or s not in movable) and s != here:
                continue
            if (seat is None or seat == s) and (seat_band is None or abs(s - here) <= seat_band):
                wm.y[(w, s)] = m.new_bool_var(f"y{w}_{s}")
        if not any((w, s) in wm.y for s in stations):
            return None
        m.add_exactly_one(wm.y[(w, s)] for s in stations if (w, s) in wm.y)
    for s in stations:
        m.add_exactly_one(wm.y[(w, s)] for w in workers if (w, s) in wm.y)
    pos = {
        w: m.new_int_var_from_domain(cp_model.Domain.from_values([s for s in stations if (w, s) in wm.y]), f"pos{w}")
        for w in workers
    }
    for w in workers:
        m.add(pos[w] == sum(s * wm.y[(w, s)] for s in stations if (w, s) in wm.y))
    # Tasks onto stations, within their bounds.
    x = wm.x
    st: dict[int, cp_model.IntVar] = {}
    for t in tasks:
        lo = max((st_of[i] for i in p.preds[t] if i in st_of), default=stations[0])
        hi = min((st_of[j] for j in p.succs[t] if j in st_of), default=stations[-1])
        dom = [
            s
            for idx, s in enumerate(stations)
            if early[t] <= idx <= late[t]
            and lo <= s <= hi
            and p.station_ok(t, s)
            and (task_band is None or abs(s - h_st[t]) <= task_band)
        ]
        if not dom:
            return None
        for s in dom:
            x[(t, s)] = m.new_bool_var(f"x{t}_{s}")
        m.add_exactly_one(x[(t, s)] for s in dom)
        st[t] = m.new_int_var_from_domain(cp_model.Domain.from_values(dom), f"st{t}")
        m.add(st[t] == sum(s * x[(t, s)] for s in dom))
        lits = []
        for w in workers:
            tw = p.times[t][w]
            if tw is None or tw > cap:
                continue
            if p.fixed_task is not None and p.fixed_task[t] not in (None, w):
                continue
            seats = [s for s in dom if (w, s) in wm.y]
            if not seats:
                continue
            lit = m.new_bool_var(f"a{t}_{w}")
            wm.a[(t, w)] = lit
            lits.append(lit)
            m.add(st[t] == pos[w]).only_enforce_if(lit)
            for s in stations:
                if (w, s) not in wm.y:
                    continue
                if (t, s) in x:
                    m.add_bool_or([lit.Not(), wm.y[(w, s)].Not(), x[(t, s)]])
                else:
                    m.add_implication(lit, wm.y[(w, s)].Not())
        if not lits:
            return None
        m.add_exactly_one(lits)
    for i, j in p.precedence:
        if i in st and j in st:
            m.add(st[i] <= st[j])
    # Loads: each worker's own ≤ target (≤ target + 1 for at most ``over`` of them).
    extra: list[cp_model.IntVar] = []
    loads_expr: list[cp_model.LinearExpr] = []
    for w in workers:
        terms = [(p.times[t][w] or 0, wm.a[(t, w)]) for t in tasks if (t, w) in wm.a]
        if terms:
            if over > 0:
                b = m.new_bool_var(f"over{w}")
                extra.append(b)
                m.add(sum(c * v for c, v in terms) <= target + b)
            else:
                loads_expr.append(cp_model.LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]))
    if extra:
        m.add(sum(extra) <= over)
    if loads_expr:
        # Loads ≤ a cycle variable capped at the target, minimised: the same decision, but the
        # objective steers the search (measured: more windows decided, in less deterministic time).
        cyc = m.new_int_var(0, target, "cycle")
        for e in loads_expr:
            m.add(e <= cyc)
        m.minimize(cyc)
    # Machine types: one type per worker, no more workers per type than machines.
    add_machine_types(m, p, fixed, wm.a, workers)
    # Symmetry: workers with the same times on every free task are interchangeable.
    if p.worker_station is None or all(v is None for v in p.worker_station):
        seen: dict[tuple[int | None, ...], int] = {}
        for w in workers:
            col = tuple(p.times[t][w] for t in tasks)
            if col in seen:
                m.add(pos[seen[col]] < pos[w])
            seen[col] = w
    # The seed plan as a hint (feasible at the old cycle, so close to a plan at the new one).
    h_w = incumbent.worker_of()
    for (t, w), lit in wm.a.items():
        m.add_hint(lit, h_w.get(t) == w)
    for (w, s), lit in wm.y.items():
        m.add_hint(lit, incumbent.stations[s][0] == w)
    for (t, s), lit in x.items():
        m.add_hint(lit, h_st.get(t) == s)
    return wm


def extract_window(p: LineProblem, wm: WindowModel, solver: cp_model.CpSolver) -> LineSolution:
    at = {s: w for (w, s), lit in wm.y.items() if solver.boolean_value(lit)}
    tasks_of: dict[int, list[int]] = {w: [] for w in wm.workers}
    for (t, w), lit in wm.a.items():
        if solver.boolean_value(lit):
            tasks_of[w].append(t)

    out: list[tuple[int, tuple[int, ...]]] = []
    for s in range(p.num_stations):
        if s in wm.fixed:
            out.append(wm.fixed[s])
        else:
            out.append((at[s], tuple(sorted(tasks_of[at[s]]))))
    return LineSolution(tuple(out))


def ask(
    p: LineProblem,
    incumbent: LineSolution,
    target: int,
    free_stations: Sequence[int] | None,
    limit_s: float,
    seed: int = 0,
    workers: int = 1,
    seat_band: int | None = None,
    task_band: int | None = None,
    over: int = 0,
    movable: Collection[int] | None = None,
    det_time: float | None = None,
) -> tuple[str, LineSolution | None]:
    """One question: ("yes", plan) / ("no", None) when refuted / ("unknown", None) on time out
    (``limit_s`` seconds, or ``det_time`` of CP-SAT's deterministic units when given)."""
    wm = build_window_model(
        p, incumbent, target, free_stations, seat_band=seat_band, task_band=task_band, over=over, movable=movable
    )
    if wm is None:
        return "no", None
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, limit_s)
    if det_time is not None:
        prm.max_deterministic_time = det_time
    prm.num_workers = workers
    prm.random_seed = seed
    prm.stop_after_first_solution = True  # a decision: the first plan within the target will do
    try:
        status = solver.solve(wm.model)
    except (IndexError, RuntimeError):  # see solver._solve: one failed model is "nothing found"
        return "unknown", None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "yes", extract_window(p, wm, solver)
    if status == cp_model.INFEASIBLE:
        return "no", None
    return "unknown", None


def _window(k: int, loads: list[int], size: int, rng: random.Random, extra: int) -> list[int]:
    """``size`` consecutive stations around a random bottleneck, plus ``extra`` light stations."""
    c = max(loads)
    s0 = rng.choice([s for s, v in enumerate(loads) if v == c])
    size = min(size, k)
    first = rng.randint(max(0, s0 - size + 1), min(s0, k - size))
    chosen = set(range(first, first + size))
    others = sorted((s for s in range(k) if s not in chosen), key=lambda s: (loads[s], rng.random()))
    chosen.update(others[:extra])
    return sorted(chosen)


def _swap(k: int, loads: list[int], size: int, rng: random.Random) -> tuple[list[int], set[int]]:
    """A bottleneck station and another one whose workers may trade places, and the stations
    between them (or, when far apart, each one's neighbours) whose tasks are free."""
    c = max(loads)
    h = rng.choice([s for s, v in enumerate(loads) if v == c])
    j = rng.choice([s for s in range(k) if s != h])
    lo, hi = min(h, j), max(h, j)
    if hi - lo < max(2, size):
        free = set(range(max(0, lo - 1), min(k, hi + 2)))
    else:
        free = {s for x in (h, j) for s in range(max(0, x - 1), min(k, x + 2))}
    return sorted(free), {h, j}


@dataclass
class ExactStats:
    """Counts of the questions asked, and the window size, carried from one turn to the next."""

    size: float = float(INIT_WINDOW)
    # neighbourhood -> weight (grows with the "yes" it gives; a "no" is quick but teaches little)
    score: dict[str, float] = field(default_factory=lambda: {"window": 1.0, "swap": 1.0})
    asked: int = 0
    yes: int = 0
    no: int = 0
    unknown: int = 0
    proven: bool = False  # the whole line said no: the plan is optimal


def improve_exact(
    p: LineProblem,
    seed_plan: LineSolution,
    deadline: float,
    *,
    lower: int | None = None,
    seed: int = 0,
    workers: int = 1,
    stats: ExactStats | None = None,
    exchange: Callable[[LineSolution], LineSolution] | None = None,
    log: Callable[[str], None] | None = None,
) -> LineSolution:
    """The best plan reached from ``seed_plan`` by ``deadline``, never worse than it.

    Small lines ask the whole line at ``C* − 1`` (a no proves ``C*`` optimal); otherwise windows
    around bottlenecks are asked, growing after a proof (the window was easy) and shrinking after
    a time-out. ``exchange`` is called between questions and may hand in a better plan.
    """
    st = stats if stats is not None else ExactStats()
    rng = random.Random(seed)
    lb = p.lower_bound() if lower is None else lower
    best = seed_plan
    k = p.num_stations
    size = min(float(k), st.size)
    whole = p.num_tasks * k <= FULL_MAX_SIZE
    while not st.proven:
        left = deadline - time.monotonic()
        if left < 0.05 or best.cycle_time(p) <= lb:
            break
        if exchange is not None:
            got = exchange(best)
            if _key(p, got) < _key(p, best):
                best = got
        loads = best.loads(p)
        c = max(loads)
        target = c - 1
        kind = "line"
        movable: set[int] | None = None
        if whole or round(size) >= k:
            free = None
            limit = left
        else:
            kind = rng.choices(list(st.score), weights=list(st.score.values()))[0]
            if kind == "swap":
                free, movable = _swap(k, loads, round(size), rng)
            else:
                free = _window(k, loads, round(size), rng, rng.choice((0, 0, 1, 2)))
            limit = min(WINDOW_LIMIT_S, left)
        # A window holding several bottlenecks need only relieve one of them.
        over = 0 if free is None else max(0, sum(1 for s in free if loads[s] == c) - 1)
        answer, found = ask(
            p, best, target, free, limit, seed=seed + st.asked, workers=workers, over=over, movable=movable
        )
        st.asked += 1
        if kind in st.score:
            st.score[kind] = max(0.2, 0.9 * st.score[kind] + (1.0 if answer == "yes" else 0.0))
        if answer == "yes" and found is not None:
            moved = reassign_workers(p, found)
            found = moved if _key(p, moved) < _key(p, found) else found
            if _key(p, found) < _key(p, best):
                best = found
                st.yes += 1
                if log is not None:
                    log(f"exact: {'line' if free is None else len(free)} at {target}: {_key(p, best)}")
            size = min(float(k), size * 1.1)
        elif answer == "no":
            st.no += 1
            if free is None:
                st.proven = True
            if kind != "swap":
                size = min(float(k), size * 1.25)
        else:
            st.unknown += 1
            if free is None:
                whole = False  # the whole line is too hard in this time: windows instead
                size = float(min(k - 1, INIT_WINDOW))
            size = max(2.0, size * 0.8)
    st.size = size
    return best
