"""Tabu search on the overload for a target cycle: the line's local search after the beam.

A plan whose cycle is C is driven towards a target T = C − 1: the objective is the total
overload Σ max(0, load − T) over the stations. Three moves, all from an overloaded station:
move one of its tasks to another station its precedence window and zone allow, swap one of its
tasks with a task of another station, or swap its worker with another station's worker (the
tasks stay). The best move that is not tabu is taken even when it is worse (a moved task may
not return to its station, a moved worker to hers, for a few iterations), so the search walks
across plateaus a descent stops on; when the overload reaches zero the plan has a cycle ≤ T and
the target drops again. After a long run without a better overload the search restarts from the
best plan with a few random moves.

This is the classic way SALBP-2 and its relatives are solved by local search (Scholl & Voß's
tabu search; target-driven overload minimisation), with the worker moves of ALWABP-2 added.
Every evaluation is O(1) on a table of each station's load for *every* worker, so pure Python
does 14,000-20,000 iterations a second on a 75-task line; the same search compiled
(``tabu_kernel``, numba) does about 680,000, and runs whenever it has ``COMPILED_FROM_S`` seconds
or no deadline. The work is counted in iterations, not seconds: ``max_iters`` bounds it
deterministically (same seed, same plan), ``deadline`` too.

Only for lines without machine types or fixed tasks (those are left to CP-SAT's LNS); zones and
fixed seats are respected.
"""

from __future__ import annotations

import random
import time

from seamline.planning.balance.data import LineProblem, LineSolution

BIG = 1 << 40  # the load of a station for a worker who cannot do one of its tasks
# The search runs compiled (``tabu_kernel``, numba: the same moves many times faster) when it has
# at least ``COMPILED_FROM_S`` seconds (or no deadline): under that, numba's start-up in a fresh
# process (about 0.8 s) would cost more than the faster iterations gain.
COMPILED = True
COMPILED_FROM_S = 2.0
CHUNK_ITERS = 2_000  # compiled iterations between two looks at the clock


def applicable(p: LineProblem) -> bool:
    return p.task_type is None and p.fixed_task is None


def tabu_search(
    p: LineProblem,
    sol: LineSolution,
    *,
    deadline: float | None = None,
    max_iters: int = 1_000_000,
    seed: int = 0,
    lower: int = 0,
    stall_iters: int = 2_000,
    stats: dict[str, int] | None = None,
    tenure: tuple[int, int] = (3, 8),
    shake: float = 0.1,
    patience: int | None = None,
    compiled: bool | None = None,
) -> LineSolution:
    """The best plan found from ``sol`` (never worse than it).

    ``patience``: return after this many restarts without a better plan (the caller's other
    neighbourhoods get a turn); None = until ``deadline`` or ``max_iters``. ``compiled``: None
    decides by the time left (``COMPILED_FROM_S``); True runs compiled whatever the budget (a
    caller whose process already runs numba code pays no start-up); False runs the Python.
    """
    if not applicable(p) or not sol.stations:
        return sol
    if compiled is None:
        compiled = deadline is None or deadline - time.monotonic() >= COMPILED_FROM_S
    if COMPILED and compiled:
        return _search_compiled(p, sol, deadline, max_iters, seed, lower, stall_iters, stats, tenure, shake, patience)
    rng = random.Random(seed)
    tenure_lo, tenure_span = tenure
    k = len(sol.stations)
    n = p.num_tasks
    times = p.times
    preds, succs = p.preds, p.succs
    direct = [set(preds[t]) | set(succs[t]) for t in range(n)]
    fixed_seat = [False] * p.num_workers
    if p.worker_station is not None:
        fixed_seat = [s is not None for s in p.worker_station]
    zone_ok = [[p.station_ok(t, s) for s in range(k)] for t in range(n)]
    kw = p.num_workers

    workers = [w for w, _ in sol.stations]
    tasks: list[list[int]] = [list(ts) for _, ts in sol.stations]
    at = [0] * n
    for s, ts in enumerate(tasks):
        for t in ts:
            at[t] = s
    # sumw[s][w]: the load station s would have with worker w (BIG per task she cannot do)
    tw_row = [[BIG if v is None else v for v in row] for row in times]
    sumw = [[sum(tw_row[t][w] for t in tasks[s]) for w in range(kw)] for s in range(k)]
    load = [sumw[s][workers[s]] for s in range(k)]

    def snapshot() -> LineSolution:
        return LineSolution(tuple((workers[s], tuple(sorted(tasks[s]))) for s in range(k)))

    best = sol
    best_c = max(load)
    target = best_c - 1
    if target < lower:
        return sol

    def over(v: int) -> int:
        return v - target if v > target else 0

    f = sum(over(v) for v in load)
    best_f = f
    tabu_task: dict[tuple[int, int], int] = {}  # (task, station) -> first iteration it may return
    tabu_worker: dict[tuple[int, int], int] = {}  # (worker, station) -> same
    since = 0
    fruitless = 0  # restarts since the last better plan
    it = 0
    while it < max_iters:
        if deadline is not None and time.monotonic() > deadline:
            break
        it += 1
        hot = [s for s in range(k) if load[s] > target]
        # best move: (delta overload, delta sum of squares, tie-break, kind, a, b, c, d)
        bd = BIG
        bq = BIG
        bm: tuple[int, int, int, int, int] | None = None
        nties = 0
        for s in hot:
            w = workers[s]
            ls = load[s]
            os_ = ls - target if ls > target else 0
            for t in tasks[s]:
                tw = tw_row[t][w]
                lo = 0
                for i in preds[t]:
                    if at[i] > lo:
                        lo = at[i]
                hi = k - 1
                for j in succs[t]:
                    if at[j] < hi:
                        hi = at[j]
                row_t = tw_row[t]
                zt = zone_ok[t]
                for s2 in range(lo, hi + 1):
                    if s2 == s or not zt[s2]:
                        continue
                    w2 = workers[s2]
                    v = row_t[w2]
                    if v >= BIG:
                        continue
                    l2 = load[s2]
                    o2 = l2 - target if l2 > target else 0
                    # move t: s -> s2
                    n1 = ls - tw
                    n2 = l2 + v
                    d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                    if d <= bd:
                        q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                        if (d < bd or q <= bq) and (tabu_task.get((t, s2), 0) <= it or f + d < best_f):
                            if d < bd or q < bq:
                                bd, bq, bm, nties = d, q, (0, t, s, s2, -1), 1
                            else:
                                nties += 1
                                if rng.randrange(nties) == 0:
                                    bm = (0, t, s, s2, -1)
                    # swap t with a task t2 of s2
                    for t2 in tasks[s2]:
                        v2 = tw_row[t2][w]
                        if v2 >= BIG or v2 >= tw or t2 in direct[t] or not zone_ok[t2][s]:
                            continue
                        n1 = ls - tw + v2
                        n2 = l2 - tw_row[t2][w2] + v
                        d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                        if d > bd:
                            continue
                        q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                        if d == bd and q > bq:
                            continue
                        # t2's window must hold s (t is not a direct neighbour of t2)
                        ok = True
                        for i in preds[t2]:
                            if at[i] > s:
                                ok = False
                                break
                        if ok:
                            for j in succs[t2]:
                                if at[j] < s:
                                    ok = False
                                    break
                        if not ok:
                            continue
                        if tabu_task.get((t, s2), 0) > it and tabu_task.get((t2, s), 0) > it and f + d >= best_f:
                            continue
                        if d < bd or q < bq:
                            bd, bq, bm, nties = d, q, (1, t, s, s2, t2), 1
                        else:
                            nties += 1
                            if rng.randrange(nties) == 0:
                                bm = (1, t, s, s2, t2)
            # swap the worker of s with the worker of another station
            if ls > target and not fixed_seat[w]:
                for s2 in range(k):
                    if s2 == s:
                        continue
                    w2 = workers[s2]
                    if fixed_seat[w2]:
                        continue
                    n1 = sumw[s][w2]
                    n2 = sumw[s2][w]
                    if n1 >= BIG or n2 >= BIG:
                        continue
                    l2 = load[s2]
                    o2 = l2 - target if l2 > target else 0
                    d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                    if d > bd:
                        continue
                    q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                    if d == bd and q > bq:
                        continue
                    if (tabu_worker.get((w, s2), 0) > it or tabu_worker.get((w2, s), 0) > it) and f + d >= best_f:
                        continue
                    if d < bd or q < bq:
                        bd, bq, bm, nties = d, q, (2, s, s2, -1, -1), 1
                    else:
                        nties += 1
                        if rng.randrange(nties) == 0:
                            bm = (2, s, s2, -1, -1)
        if bm is None:
            if tabu_task or tabu_worker:
                # every move is tabu: forget them (aspiration by default) rather than stop
                tabu_task.clear()
                tabu_worker.clear()
                since += 1
            else:
                since = stall_iters  # no move at all: restart
        else:
            kind = bm[0]
            ten = tenure_lo + rng.randrange(tenure_span)
            if kind == 2:
                _, s, s2, _, _ = bm
                w, w2 = workers[s], workers[s2]
                workers[s], workers[s2] = w2, w
                tabu_worker[(w, s)] = it + ten
                tabu_worker[(w2, s2)] = it + ten
                for x in (s, s2):
                    load[x] = sumw[x][workers[x]]
            else:
                _, t, s, s2, t2 = bm
                _move(t, s, s2, tasks, at, sumw, tw_row, kw)
                tabu_task[(t, s)] = it + ten
                if t2 >= 0:
                    _move(t2, s2, s, tasks, at, sumw, tw_row, kw)
                    tabu_task[(t2, s2)] = it + ten
                for x in (s, s2):
                    load[x] = sumw[x][workers[x]]
            f += bd
            if f < best_f:
                best_f = f
                since = 0
            else:
                since += 1
        if f == 0:
            c = max(load)
            if c < best_c:
                best, best_c = snapshot(), c
                fruitless = 0
                if stats is not None:
                    stats[f"it_at_{c}"] = it
            target = c - 1
            if target < lower:
                break
            f = sum(over(v) for v in load)
            best_f = f
            since = 0
        elif since >= stall_iters:
            fruitless += 1
            if patience is not None and fruitless > patience:
                break
            # restart from the best plan, shaken by a few random feasible task moves
            workers = [w for w, _ in best.stations]
            tasks = [list(ts) for _, ts in best.stations]
            for s, ts in enumerate(tasks):
                for t in ts:
                    at[t] = s
            sumw = [[sum(tw_row[t][w] for t in tasks[s]) for w in range(kw)] for s in range(k)]
            for _ in range(max(2, round(n * shake))):
                t = rng.randrange(n)
                s = at[t]
                lo = max((at[i] for i in preds[t]), default=0)
                hi = min((at[j] for j in succs[t]), default=k - 1)
                opts = [x for x in range(lo, hi + 1) if x != s and zone_ok[t][x] and tw_row[t][workers[x]] < BIG]
                if opts:
                    _move(t, s, rng.choice(opts), tasks, at, sumw, tw_row, kw)
            load = [sumw[s][workers[s]] for s in range(k)]
            target = best_c - 1
            f = sum(over(v) for v in load)
            best_f = f
            tabu_task.clear()
            tabu_worker.clear()
            since = 0
            if stats is not None:
                stats["restarts"] = stats.get("restarts", 0) + 1
    if stats is not None:
        stats["iterations"] = it
    return best


def _move(
    t: int,
    s: int,
    s2: int,
    tasks: list[list[int]],
    at: list[int],
    sumw: list[list[int]],
    tw_row: list[list[int]],
    kw: int,
) -> None:
    tasks[s].remove(t)
    tasks[s2].append(t)
    at[t] = s2
    row = tw_row[t]
    a, b = sumw[s], sumw[s2]
    for w in range(kw):
        a[w] -= row[w]
        b[w] += row[w]


def _search_compiled(
    p: LineProblem,
    sol: LineSolution,
    deadline: float | None,
    max_iters: int,
    seed: int,
    lower: int,
    stall_iters: int,
    stats: dict[str, int] | None,
    tenure: tuple[int, int],
    shake: float,
    patience: int | None,
) -> LineSolution:
    """``tabu_search`` by the compiled kernel (``tabu_kernel.run``), in chunks of
    ``CHUNK_ITERS`` iterations between looks at the deadline."""
    import numpy as np

    from seamline.planning.balance import tabu_kernel as kern

    k = len(sol.stations)
    n = p.num_tasks
    m = p.num_workers
    i64 = np.int64
    tw = np.array([[BIG if v is None else v for v in row] for row in p.times], dtype=i64).reshape(n, m)

    def csr(lists: list[list[int]] | tuple[tuple[int, ...], ...]) -> tuple[np.ndarray, np.ndarray]:
        ptr = np.zeros(n + 1, dtype=i64)
        for t in range(n):
            ptr[t + 1] = ptr[t] + len(lists[t])
        idx = np.array([x for t in range(n) for x in lists[t]], dtype=i64)
        return ptr, idx

    pred_ptr, pred_idx = csr(p.preds)
    succ_ptr, succ_idx = csr(p.succs)
    direct = np.zeros((n, n), dtype=np.uint8)
    for t in range(n):
        for x in p.preds[t]:
            direct[t, x] = 1
        for x in p.succs[t]:
            direct[t, x] = 1
    zone_ok = np.array([[p.station_ok(t, s) for s in range(k)] for t in range(n)], dtype=np.uint8).reshape(n, k)
    fixed_seat = np.zeros(m, dtype=np.uint8)
    if p.worker_station is not None:
        for w, s in enumerate(p.worker_station):
            fixed_seat[w] = s is not None
    workers = np.array([w for w, _ in sol.stations], dtype=i64)
    at = np.zeros(n, dtype=i64)
    for s, (_, ts) in enumerate(sol.stations):
        for t in ts:
            at[t] = s
    st_tasks = np.zeros((k, n), dtype=i64)
    st_cnt = np.zeros(k, dtype=i64)
    pos = np.zeros(n, dtype=i64)
    sumw = np.zeros((k, m), dtype=i64)
    load = np.zeros(k, dtype=i64)
    kern.rebuild(workers, at, st_tasks, st_cnt, pos, sumw, load, tw)
    best_c = int(load.max())
    target = best_c - 1
    if target < lower:
        return sol
    sc = np.zeros(kern.SC_SIZE, dtype=i64)
    sc[kern.SC_TARGET] = target
    sc[kern.SC_F] = sc[kern.SC_BEST_F] = int(np.maximum(load - target, 0).sum())
    sc[kern.SC_BEST_C] = best_c
    rng = np.array([(seed * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) % (1 << 64) or 1], dtype=np.uint64)
    tabu_task = np.zeros((n, k), dtype=i64)
    tabu_worker = np.zeros((m, k), dtype=i64)
    best_workers = workers.copy()
    best_at = at.copy()
    tenure_lo, tenure_span = tenure
    n_shake = max(2, round(n * shake))
    while sc[kern.SC_IT] < max_iters and sc[kern.SC_STATUS] == 0:
        if deadline is not None and time.monotonic() > deadline:
            break
        kern.run(
            tw, pred_ptr, pred_idx, succ_ptr, succ_idx, direct, zone_ok, fixed_seat,
            workers, at, st_tasks, st_cnt, pos, sumw, load, tabu_task, tabu_worker,
            best_workers, best_at, sc, rng,
            min(max_iters, int(sc[kern.SC_IT]) + CHUNK_ITERS), lower, stall_iters,
            tenure_lo, tenure_span, n_shake, -1 if patience is None else patience,
        )  # fmt: skip
    if stats is not None:
        stats["iterations"] = int(sc[kern.SC_IT])
        stats["restarts"] = int(sc[kern.SC_RESTARTS])
    if int(sc[kern.SC_BEST_C]) >= best_c:
        return sol
    return LineSolution(
        tuple((int(best_workers[s]), tuple(sorted(int(t) for t in np.flatnonzero(best_at == s)))) for s in range(k))
    )


def warm_compiled() -> None:
    """Compile the kernel (or load it from numba's cache) on a two-task line whose plan can
    improve, so every branch of a chunk is compiled before a real search's clock runs."""
    p = LineProblem(name="warm", times=((1, 2), (2, 1)), precedence=())
    _search_compiled(p, LineSolution(((0, (0, 1)), (1, ()))), None, 50, 0, 0, 5, None, (3, 8), 0.1, 1)
