"""Station-oriented construction for a line problem: the fast first answer and the CP-SAT hint.

For a trial cycle time, stations are opened in line order; at each one every free worker fills a
candidate station with the available tasks (all predecessors placed) by a priority rule, and the
worker whose station covers the most work (measured at the fastest worker's time, so a worker who
is slow at something is not given it) takes the station. A binary search on the cycle time around
randomised rules gives the best construction in a few hundred milliseconds (after Borba & Ritt's
station-oriented beam search for ALWABP, with one beam).
"""

from __future__ import annotations

import heapq
import random
import time

from seamline.planning.balance.data import LineProblem, LineSolution

RULES = ("ratio", "ratio_succ", "succ", "time")
SCORE_POW = 0.0


_NO_RNG = random.Random(0)


class _Static:
    """Per-problem tables the construction reads many times."""

    def __init__(self, p: LineProblem) -> None:
        self.p = p
        self.fastest = [min(v for v in row if v is not None) for row in p.times]
        self.n_succ = [len(s) for s in p.all_succs]
        # each task's mean time over the workers able to do it (the "adv" rules' yardstick)
        self.mean_t = [sum(v for v in row if v is not None) / sum(1 for v in row if v is not None) for row in p.times]
        self.fixed_at: dict[int, int] = {}  # station -> worker fixed there
        if p.worker_station is not None:
            for w, s in enumerate(p.worker_station):
                if s is not None:
                    self.fixed_at[s] = w
        self.fixed_elsewhere = set(self.fixed_at.values())
        # per task, (time, worker) of the able workers, fastest first (the beam's look-ahead)
        self.speed = [sorted((v, w) for w, v in enumerate(row) if v is not None) for row in p.times]
        # no zones, machine types or fixed tasks: a fill checks only times
        self.simple = p.allowed is None and p.task_type is None and p.fixed_task is None
        self._prio: dict[tuple[str, int], list[float]] = {}
        self.arrays: object | None = None  # the compiled beam's tables (``beam._arrays``), built once

    def priorities(self, rule: str, w: int) -> list[float]:
        """Each task's priority for worker ``w`` under ``rule`` (before noise), computed once."""
        key = (rule, w)
        out = self._prio.get(key)
        if out is None:
            out = [_priority(self, rule, t, w, _NO_RNG, 0.0) for t in range(self.p.num_tasks)]
            self._prio[key] = out
        return out


def _priority(st: _Static, rule: str, t: int, w: int, rng: random.Random, noise: float) -> float:
    tw = st.p.times[t][w] or 1
    ratio = st.fastest[t] / max(1, tw)
    if rule == "ratio":
        v = ratio * 1000 + st.n_succ[t]
    elif rule == "ratio_succ":
        v = ratio * (1 + st.n_succ[t])
    elif rule == "adv":
        # comparative advantage: how much faster than a typical able worker she is
        v = st.mean_t[t] / max(1, tw) * 1000 + st.n_succ[t]
    elif rule == "adv_succ":
        v = st.mean_t[t] / max(1, tw) * (1 + st.n_succ[t])
    elif rule == "succ":
        v = st.n_succ[t] * 1000 + ratio
    else:
        v = st.fastest[t] * ratio
    return v * (1 + noise * rng.random()) if noise else v


def construct(
    p: LineProblem, cycle: int, rule: str = "ratio", rng: random.Random | None = None, noise: float = 0.0
) -> LineSolution | None:
    """A plan with every station within ``cycle``, or None when this construction does not find one."""
    st = _Static(p)
    return _construct(st, cycle, rule, rng or random.Random(0), noise)


def _construct(
    st: _Static, cycle: int, rule: str, rng: random.Random, noise: float, order: list[int] | None = None
) -> LineSolution | None:
    p = st.p
    n, k = p.num_tasks, p.num_workers
    left_preds = [len(x) for x in p.preds]
    unassigned = set(range(n))
    free_workers = [w for w in range(k)]
    type_count: dict[str, int] = {}
    out: list[tuple[int, tuple[int, ...]]] = []
    for s in range(k):
        if order is not None:
            cands = [order[s]]
        elif s in st.fixed_at:
            cands = [st.fixed_at[s]]
        else:
            cands = [w for w in free_workers if w not in st.fixed_elsewhere]
        last = s == k - 1
        scored: list[tuple[float, int, list[int], str | None]] = []
        for w in cands:
            tasks, wtype = _fill(st, s, w, cycle, unassigned, left_preds, type_count, rule, rng, noise)
            if last and len(tasks) != len(unassigned):
                continue
            fast = sum(st.fastest[t] for t in tasks)
            load = sum(p.times[t][w] or 0 for t in tasks)
            score = fast * (fast / load) ** SCORE_POW if load else 0.0
            score *= 1 + (0.05 * noise * rng.random() if noise else 0.0)
            scored.append((score, w, tasks, wtype))
        scored.sort(key=lambda x: -x[0])
        # The best-scoring station whose leftovers the remaining workers can still cover.
        best = next((c for c in scored if last or _rest_coverable(st, s, c[1], c[2], unassigned, free_workers)), None)
        if best is None:
            return None
        _, w, tasks, wtype = best
        for t in tasks:
            unassigned.discard(t)
            for sc in p.succs[t]:
                left_preds[sc] -= 1
        if wtype is not None:
            type_count[wtype] = type_count.get(wtype, 0) + 1
        free_workers.remove(w)
        out.append((w, tuple(sorted(tasks))))
    return LineSolution(tuple(out)) if not unassigned else None


def _fill(
    st: _Static,
    s: int,
    w: int,
    cycle: int,
    unassigned: set[int],
    left_preds: list[int],
    type_count: dict[str, int],
    rule: str,
    rng: random.Random,
    noise: float,
) -> tuple[list[int], str | None]:
    """Worker ``w`` fills station ``s`` up to ``cycle``: the available task of highest priority
    that fits, repeatedly.

    Every reason a task cannot join (too long for what is left, another machine type, a zone, a
    task fixed elsewhere) stays true while the station fills, so each task is looked at once: a
    heap of the available tasks by priority, popped until empty (O(m log m) instead of a scan of
    the available tasks for every task taken)."""
    p = st.p
    times = p.times
    prio = st.priorities(rule, w)
    lp = left_preds
    heap: list[tuple[float, int]] = []
    rand = rng.random
    for t in unassigned:
        if lp[t] == 0:
            v = prio[t]
            heap.append((-(v * (1 + noise * rand())) if noise else -v, t))
    heapq.heapify(heap)
    load = 0
    wtype: str | None = None
    tasks: list[int] = []
    taken: dict[int, int] = {}  # successor -> predecessors taken in this fill
    simple = st.simple
    while heap:
        _, t = heapq.heappop(heap)
        tw = times[t][w]
        if tw is None or load + tw > cycle:
            continue
        if not simple:
            if not p.station_ok(t, s):
                continue
            if p.fixed_task is not None and p.fixed_task[t] not in (None, w):
                continue
            ty = p.type_of(t)
            if ty is not None and wtype is not None and ty != wtype:
                continue
            if ty is not None and wtype is None and ty in p.machines and type_count.get(ty, 0) >= p.machines[ty]:
                continue
            if ty is not None:
                wtype = ty
        tasks.append(t)
        load += tw
        for sc in p.succs[t]:
            c = taken.get(sc, 0) + 1
            taken[sc] = c
            if lp[sc] == c and sc in unassigned:
                v = prio[sc]
                heapq.heappush(heap, (-(v * (1 + noise * rand())) if noise else -v, sc))
    return tasks, wtype


def _rest_coverable(
    st: _Static, s: int, w: int, tasks: list[int], unassigned: set[int], free_workers: list[int]
) -> bool:
    """Every task left over can still be done by someone who is left (tasks fixed to ``w`` are taken)."""
    p = st.p
    taken = set(tasks)
    others = [x for x in free_workers if x != w]
    for t in unassigned:
        if t in taken:
            continue
        if p.fixed_task is not None and p.fixed_task[t] == w:
            return False
        if not any(p.times[t][x] is not None for x in others):
            return False
    if p.task_type is None:
        return True
    # Each machine type still needed must get a worker of its own among those left: a matching.
    need: dict[str, set[int]] = {}
    for t in unassigned:
        ty = p.task_type[t]
        if t in taken or ty is None:
            continue
        need.setdefault(ty, set()).update(x for x in others if p.times[t][x] is not None)
    if len(need) > len(others):
        return False
    match: dict[int, str] = {}

    def augment(ty: str, seen: set[int]) -> bool:
        for x in need[ty]:
            if x in seen:
                continue
            seen.add(x)
            if x not in match or augment(match[x], seen):
                match[x] = ty
                return True
        return False

    return all(augment(ty, set()) for ty in sorted(need, key=lambda ty: len(need[ty])))


def feasible_somehow(p: LineProblem) -> bool:
    """Whether a construction finds any plan at the loosest cycle (each rule once)."""
    st = _Static(p)
    loose = sum(max(v for v in row if v is not None) for row in p.times)
    rng = random.Random(0)
    return any(_construct(st, loose, rule, rng, 0.0) is not None for rule in RULES)


def best_construction(p: LineProblem, budget_s: float, seed: int = 0, upper: int | None = None) -> LineSolution | None:
    """Binary search on the cycle time with each rule, then randomised rules while time is left."""
    t_end = time.monotonic() + budget_s
    st = _Static(p)
    rng = random.Random(seed)
    lo = p.lower_bound() - 1  # infeasible for the construction (or below the bound)
    hi = upper if upper is not None else sum(max(v for v in row if v is not None) for row in p.times)
    best: LineSolution | None = None
    for rule in RULES:
        sol = _construct(st, hi, rule, rng, 0.0)
        if sol is not None:
            best = sol
            hi = sol.cycle_time(p)
            break
    if best is None:
        # Deterministic rules failed at the loosest cycle (tight zones or machines): randomise.
        for _ in range(50):
            if time.monotonic() >= t_end:
                break
            sol = _construct(st, hi, rng.choice(RULES), rng, 0.5)
            if sol is not None:
                best, hi = sol, sol.cycle_time(p)
                break
        if best is None:
            return None
    rounds = 0
    while time.monotonic() < t_end and hi - lo > 1:
        mid = (lo + hi) // 2
        found = None
        # Two rules a step keep the search short on long lines; restarts below add variety.
        for i in range(2):
            if time.monotonic() >= t_end:
                break
            rule = RULES[(rounds + i) % len(RULES)]
            sol = _construct(st, mid, rule, rng, 0.0 if i == 0 else 0.3)
            if sol is not None:
                found = sol
                break
        if found is not None:
            best, hi = found, found.cycle_time(p)
        else:
            lo = mid
        rounds += 1
    # Random restarts just under the incumbent until the budget runs out.
    while time.monotonic() < t_end and hi > p.lower_bound():
        sol = _construct(st, hi - 1, rng.choice(RULES), rng, 0.5)
        if sol is not None:
            best, hi = sol, sol.cycle_time(p)
    return best
