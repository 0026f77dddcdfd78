"""Station-oriented depth-first search for a line within a target cycle (ALWABP-2 feasibility).

The cycle-time decrement step of the portfolio: given the best plan's cycle C*, is there a line
with every station's load ≤ C*−1? The beam searches (``ipbs.beam_feasible``) answer it with
randomised greedy loads and a fixed width, so a tight target whose stations must be packed
exactly is often missed at any width they reach in a few seconds. This search answers it the way
the exact methods for SALBP-1 and ALWABP-2 do (Vilà & Pereira 2014): stations are filled in line
order, each with a worker not yet placed and a *maximal* load (a task that still fits can always
move to the earlier station, so maximal loads dominate), depth first, with

- the slack bound of ``ipbs``: C × (workers left) − Σ over tasks left of their best time among
  the workers left must stay ≥ 0 (and every task left must have a worker left who can do it
  within C);
- a memo of the partial lines (tasks placed, workers placed) already explored: the rest of a line
  depends only on those two sets, so a state that failed once is never searched again;
- children ordered by that slack (the most idle time left for the rest first), the loads of a
  station enumerated most valuable first: a task's value is its best time among the *other*
  workers left per unit of this worker's time (what the rest of the line would pay for it).

Loads per (partial line, worker) are capped (``LOAD_CAP``) and the search has a node budget, so it
is a heuristic unless it exhausts the space without the caps binding, in which case the target is
proven infeasible and C* optimal (``proved``). Its work is counted in nodes, so a run with a node
budget is repeatable; each call may perturb the order with a seed, and a memo passed in carries
what earlier calls explored at the same target.

Python integers as bitsets (one bit per task and worker): the portfolio's forked search process
runs it without importing CP-SAT. Lines of at most 64 tasks and workers (``repack``'s windows) run
the same search compiled (``dfs_kernel``) once numba is loaded.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.ipbs import INF, Station, _fill, _Line, applicable

LOAD_CAP = 48  # maximal loads enumerated per (partial line, worker), most valuable first
STEP_CAP = 4000  # enumeration steps per (partial line, worker): a wide ready set stays cheap
DEAD = 1 << 30  # memo value of a state that fails whatever the discrepancies
NOISE = 0.05  # relative noise on the task values of a call with a seed (0 for seed None)


# Windows of at most 64 tasks and workers run compiled (``dfs_kernel``) when numba is loaded
# already (the portfolio's child has loaded it for the beam's levels); False: always in Python.
COMPILED = True
# Seconds a node of the compiled search takes at most, about (85 µs on average on wee-mag's windows
# with ``repack``'s caps, 2 cores, one busy): with a deadline, the nodes of the time left.
COMPILED_NODE_S = 0.00025


@dataclass
class DfsResult:
    line: LineSolution | None  # a line within the target, or None
    nodes: int  # partial lines expanded
    proved: bool  # the whole space was searched with no cap binding: no line within the target
    memo: dict[tuple[int, int], int] = field(default_factory=dict)


def station_dfs(
    p: LineProblem,
    target: int,
    *,
    max_nodes: int,
    deadline: float | None = None,
    reverse: bool = False,
    seed: int | None = None,
    memo: dict[tuple[int, int], int] | None = None,
    load_cap: int = LOAD_CAP,
    step_cap: int = STEP_CAP,
    exhaustive: bool = False,
    compiled: bool | None = None,
) -> DfsResult:
    """A line with every station's load ≤ ``target`` found within ``max_nodes`` expansions (and
    before ``deadline``, a ``time.monotonic()`` instant), searching the stations from the end of
    the line when ``reverse``. ``memo`` holds the failed (tasks, workers) states of earlier calls
    at the same target and direction; it is extended in place. ``exhaustive``: plain depth first
    (every child of a node in turn) instead of limited discrepancy rounds — for small lines (the
    windows of ``repack``), where with caps that do not bind the answer is exact.

    ``compiled``: run the search compiled (``dfs_kernel``: the same search, the same answer and
    node count); None: when it can (no seed, no memo passed in, at most 64 tasks and workers) and
    numba is already loaded in this process (``COMPILED``). The compiled search does not read the
    clock: a ``deadline`` becomes a node budget (``COMPILED_NODE_S`` a node)."""
    if not applicable(p):
        raise ValueError("station_dfs handles ALWABP-2 with zones and fixed seats, not machine types or soft costs")
    line = _Line(p, reverse)
    if _use_compiled(line, seed, memo, compiled):
        if deadline is not None:  # the kernel cannot read the clock: the time left in nodes
            max_nodes = min(max_nodes, max(1, int((deadline - time.monotonic()) / COMPILED_NODE_S)))
        return _compiled(line, target, max_nodes, load_cap, step_cap, exhaustive)
    n, k, c = line.n, line.k, target
    full = (1 << n) - 1
    cols = [[v if v <= c else INF for v in line.times[:, w].tolist()] for w in range(k)]
    # per task: (time, worker) of the workers who can do it within the target, fastest first
    able = [sorted((cols[w][t], w) for w in range(k) if cols[w][t] < INF) for t in range(n)]
    if any(not a for a in able):
        return DfsResult(None, 0, True, memo if memo is not None else {})
    rng = random.Random(seed) if seed is not None else None
    noise = NOISE if rng is not None else 0.0
    predmask, succ, zone = line.predmask, line.succ, line.zone
    seen: dict[tuple[int, int], int] = memo if memo is not None else {}
    nodes = 0
    capped = False  # a cap or the budget cut a branch: a failure proves nothing
    stop = False

    def best_two(t: int, used: int) -> tuple[int, int, int]:
        """Best and second-best time of task t among the workers left, and who has the best."""
        b1, w1, b2 = INF, -1, INF
        for v, w in able[t]:
            if not used >> w & 1:
                if w1 < 0:
                    b1, w1 = v, w
                else:
                    b2 = v
                    break
        return b1, w1, b2

    def loads_of(w: int, s: int, ready: list[int], done: int, value: list[float], cap0: int) -> list[tuple[int, ...]]:
        """Maximal loads of worker w at station s, most valuable first (at most ``load_cap``)."""
        nonlocal capped
        tw = cols[w]
        first = [t for t in ready if tw[t] <= cap0 and (zone[t] is None or s in zone[t])]  # type: ignore[operator]
        first.sort(key=lambda t: -value[t] / (tw[t] + 1))
        out: list[tuple[int, ...]] = []
        steps = 0
        load: list[int] = []

        def grow(cand: list[int], start: int, cap: int, acc: int) -> bool:
            # returns False when a cap stops the enumeration
            nonlocal steps
            steps += 1
            if steps > step_cap or len(out) >= load_cap:
                return False
            extended = False
            for i in range(start, len(cand)):
                t = cand[i]
                if tw[t] > cap:
                    continue
                extended = True
                acc2 = acc | 1 << t
                rest = cap - tw[t]
                new = [
                    q
                    for q in succ[t]
                    if predmask[q] & ~acc2 == 0 and tw[q] <= rest and (zone[q] is None or s in zone[q])  # type: ignore[operator]
                ]
                load.append(t)
                ok = grow(cand + sorted(new, key=lambda q: -value[q] / (tw[q] + 1)) if new else cand, i + 1, rest, acc2)
                load.pop()
                if not ok:
                    return False
            # maximal: no task released so far (skipped or not) still fits
            if not extended and all(tw[t] > cap or acc >> t & 1 for t in cand):
                out.append(tuple(load))
            return True

        if not grow(first, 0, cap0, done):
            capped = True
        return out

    def search(
        done: int, used: int, stations: tuple[Station, ...], ready: list[int], disc: int
    ) -> list[Station] | None:
        nonlocal nodes, capped, stop
        if done == full:
            return _fill(line, stations, used)
        if seen.get((done, used), -1) >= disc:
            return None
        if nodes >= max_nodes or (deadline is not None and time.monotonic() > deadline):
            stop = True
            return None
        nodes += 1
        s = len(stations)
        r = k - s
        fixed_w = line.station_worker[s]
        if fixed_w is not None:
            cands = [] if used >> fixed_w & 1 else [fixed_w]
        else:
            free = line.floating_mask & ~used
            cands = [w for w in range(k) if free >> w & 1]
        left = [t for t in range(n) if not done >> t & 1]
        b1: list[int] = [INF] * n
        a1: list[int] = [-1] * n
        b2: list[int] = [INF] * n
        total = 0
        for t in left:
            x, wx, y = best_two(t, used)
            if x >= INF:
                seen[(done, used)] = DEAD
                return None
            b1[t], a1[t], b2[t] = x, wx, y
            total += x
        if total > c * r:
            seen[(done, used)] = DEAD
            return None
        # children: (slack of the rest, tiebreak, worker, load)
        kids: list[tuple[float, float, int, tuple[int, ...], int]] = []
        for w in cands:
            # the bound on the work left once w takes this station: tasks w was best at go to the
            # second best
            s_w = total + sum(b2[t] - b1[t] for t in left if a1[t] == w)
            value = [0.0] * n
            for t in left:
                o = b2[t] if a1[t] == w else b1[t]
                value[t] = (o if o < INF else 2.0 * c) * (1.0 + noise * rng.random() if rng is not None else 1.0)
            for load in loads_of(w, s, ready, done, value, c):
                acc = done
                val = 0
                for t in load:
                    acc |= 1 << t
                    # exactly what s_w counted for t (INF for a task only w can do among those left)
                    val += b2[t] if a1[t] == w else b1[t]
                if acc == full:
                    got = _fill(line, (*stations, (w, load)), used | 1 << w)
                    if got is not None:
                        return got
                    continue
                if r <= 1:
                    continue
                slack = c * (r - 1) - (s_w - val)
                if slack < 0:
                    continue
                kids.append((slack, rng.random() if rng is not None else 0.0, w, load, acc))
        kids.sort(key=lambda x: (x[0], x[1]), reverse=True)
        if len(kids) > disc + 1:
            capped = True
        for i, (_sl, _tb, w, load, acc) in enumerate(kids[: disc + 1]):
            used2 = used | 1 << w
            if seen.get((acc, used2), -1) >= disc - i:
                continue
            placed = set(load)
            ready2 = [t for t in ready if t not in placed]
            for t in load:
                for q in succ[t]:
                    if not acc >> q & 1 and predmask[q] & ~acc == 0 and q not in ready2:
                        ready2.append(q)
            got = search(acc, used2, (*stations, (w, load)), ready2, disc - i)
            if got is not None:
                return got
            if stop:
                return None
        seen[(done, used)] = DEAD if not kids else disc
        return None

    found: list[Station] | None = None
    disc = 1 << 29 if exhaustive else 0
    while not stop:
        capped = False
        found = search(0, 0, (), line.ready(0), disc)
        if found is not None or not capped:
            break
        disc += 1
    sol = line.to_solution(found) if found is not None else None
    return DfsResult(sol, nodes, sol is None and not capped and not stop, seen)


def _use_compiled(
    line: _Line, seed: int | None, memo: dict[tuple[int, int], int] | None, compiled: bool | None
) -> bool:
    if compiled is False or seed is not None or memo is not None or line.n > 64 or line.k > 64:
        return False
    return compiled is True or (COMPILED and "numba" in sys.modules)


def _compiled(line: _Line, target: int, max_nodes: int, load_cap: int, step_cap: int, exhaustive: bool) -> DfsResult:
    """``station_dfs`` by ``dfs_kernel``: the same search over 64-bit words."""
    import numpy as np

    from seamline.planning.balance.dfs_kernel import dfs

    n, k = line.n, line.k
    tc = np.where(line.times <= target, line.times, INF).astype(np.int64)
    ptr = [0]
    able_t: list[int] = []
    able_w: list[int] = []
    for t in range(n):
        for v, w in sorted((int(tc[t, w]), w) for w in range(k) if tc[t, w] < INF):
            able_t.append(v)
            able_w.append(w)
        ptr.append(len(able_t))
    if any(ptr[t + 1] == ptr[t] for t in range(n)):
        return DfsResult(None, 0, True, {})
    status, nodes, capped, stopped, res_w, res_ptr, res_t = dfs(
        tc,
        np.array(ptr, dtype=np.int64),
        np.array(able_t, dtype=np.int64),
        np.array(able_w, dtype=np.int64),
        np.array(line.predmask, dtype=np.uint64),
        line.succ_ptr,
        line.succ_idx,
        line.zone_ok,
        np.array([-1 if w is None else w for w in line.station_worker], dtype=np.int64),
        line.floating,
        np.array(line.ready(0), dtype=np.int64),
        target,
        max_nodes,
        load_cap,
        step_cap,
        exhaustive,
        INF,
    )
    if status != 1:
        return DfsResult(None, int(nodes), not capped and not stopped, {})
    stations: list[Station] = []
    used = 0
    for j in range(k):
        if res_w[j] < 0:  # the stations the search filled come first; ``_fill`` seats the rest
            break
        w = int(res_w[j])
        stations.append((w, tuple(int(t) for t in res_t[res_ptr[j] : res_ptr[j + 1]])))
        used |= 1 << w
    got = _fill(line, tuple(stations), used)
    if got is None:  # the kernel checked the same rule
        raise AssertionError("dfs_kernel: a line whose workers cannot be seated")
    return DfsResult(line.to_solution(got), int(nodes), False, {})
