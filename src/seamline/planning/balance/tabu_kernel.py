"""The overload tabu search (``tabu.tabu_search``), compiled (numba).

The pure-Python search does 14,000-20,000 iterations a second on the 75-task wee-mag lines. Those
lines want far more: from the beam's plan, iterated tabu rounds took wee-mag-1 from 28 to 26 only
after about 70 s. This module is the same search over flat arrays, so that a round gets many
times the iterations in the same seconds. The rules are the Python version's, move for move (the
three moves from overloaded stations, the overload and sum-of-squares ranking, ties at random,
the tabu tenures and the aspiration, the restart from the best plan with a few random task moves);
only the random stream differs: a xorshift generator kept in ``rng`` (one ``uint64``), so a run is
repeatable for a seed and independent of any other compiled code's random state.

The search runs in chunks (``run`` stops at iteration ``it_end``) so the caller can watch its
deadline between them: compiled code cannot read the clock. All state lives in the arrays below,
so a chunk goes on exactly where the last stopped.

Arrays, n tasks, k stations, m workers:

* statics: ``tw`` (n, m) int64 time of a task for a worker (``BIG`` when she cannot); ``pred_ptr``,
  ``pred_idx``, ``succ_ptr``, ``succ_idx`` direct precedence in CSR; ``direct`` (n, n) uint8
  (a direct predecessor or successor); ``zone_ok`` (n, k) uint8; ``fixed_seat`` (m,) uint8;
* the plan: ``workers`` (k,) worker at each station; ``at`` (n,) station of each task;
  ``st_tasks`` (k, n) the tasks of each station (first ``st_cnt[s]``), ``pos`` (n,) a task's place
  in its station's row; ``sumw`` (k, m) the load a station would have with each worker;
  ``load`` (k,);
* the memory: ``tabu_task`` (n, k) and ``tabu_worker`` (m, k): first iteration a task (worker)
  may return to a station; ``best_workers`` (k,), ``best_at`` (n,) the best plan;
* ``sc`` (int64 scalars, see ``SC_*``) and ``rng`` (1,) uint64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

BIG = 1 << 40

# the scalars of the search in ``sc``
SC_IT = 0  # iterations done
SC_TARGET = 1  # the cycle the overload is measured against
SC_F = 2  # total overload of the current plan
SC_BEST_F = 3  # least overload since the target was set
SC_SINCE = 4  # iterations without a better overload
SC_FRUITLESS = 5  # restarts since the last better plan
SC_BEST_C = 6  # cycle of the best plan
SC_RESTARTS = 7
SC_STATUS = 8  # 0 running, 1 finished (target below the lower bound, or patience spent)
SC_ANY_TABU = 9  # some tabu entry set since the last clearing
SC_SIZE = 10


def _rand_below(rng: np.ndarray, n: int) -> int:
    """xorshift64*: a uniform integer in [0, n)."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return int((x * np.uint64(2685821657736338717)) >> np.uint64(33)) % n


def _move(
    t: int, s: int, s2: int, st_tasks: np.ndarray, st_cnt: np.ndarray, pos: np.ndarray, at: np.ndarray,
    sumw: np.ndarray, tw: np.ndarray,
) -> None:  # fmt: skip
    i = pos[t]
    last = st_tasks[s, st_cnt[s] - 1]
    st_tasks[s, i] = last
    pos[last] = i
    st_cnt[s] -= 1
    st_tasks[s2, st_cnt[s2]] = t
    pos[t] = st_cnt[s2]
    st_cnt[s2] += 1
    at[t] = s2
    for w in range(tw.shape[1]):
        sumw[s, w] -= tw[t, w]
        sumw[s2, w] += tw[t, w]


def _window(
    t: int, at: np.ndarray, pred_ptr: np.ndarray, pred_idx: np.ndarray, succ_ptr: np.ndarray,
    succ_idx: np.ndarray, k: int,
) -> tuple[int, int]:  # fmt: skip
    """The stations task ``t`` may stand at: after its predecessors, before its successors."""
    lo = 0
    for e in range(pred_ptr[t], pred_ptr[t + 1]):
        if at[pred_idx[e]] > lo:
            lo = at[pred_idx[e]]
    hi = k - 1
    for e in range(succ_ptr[t], succ_ptr[t + 1]):
        if at[succ_idx[e]] < hi:
            hi = at[succ_idx[e]]
    return lo, hi


def _overload(load: np.ndarray, target: int) -> int:
    f = 0
    for v in load:
        if v > target:
            f += v - target
    return f


def _rebuild(
    workers: np.ndarray, at: np.ndarray, st_tasks: np.ndarray, st_cnt: np.ndarray, pos: np.ndarray,
    sumw: np.ndarray, load: np.ndarray, tw: np.ndarray,
) -> None:  # fmt: skip
    """Station rows, ``sumw`` and ``load`` from ``workers`` and ``at``."""
    k = st_cnt.shape[0]
    st_cnt[:] = 0
    sumw[:, :] = 0
    for t in range(at.shape[0]):
        s = at[t]
        st_tasks[s, st_cnt[s]] = t
        pos[t] = st_cnt[s]
        st_cnt[s] += 1
        for w in range(tw.shape[1]):
            sumw[s, w] += tw[t, w]
    for s in range(k):
        load[s] = sumw[s, workers[s]]


def _run(
    tw: np.ndarray,
    pred_ptr: np.ndarray,
    pred_idx: np.ndarray,
    succ_ptr: np.ndarray,
    succ_idx: np.ndarray,
    direct: np.ndarray,
    zone_ok: np.ndarray,
    fixed_seat: np.ndarray,
    workers: np.ndarray,
    at: np.ndarray,
    st_tasks: np.ndarray,
    st_cnt: np.ndarray,
    pos: np.ndarray,
    sumw: np.ndarray,
    load: np.ndarray,
    tabu_task: np.ndarray,
    tabu_worker: np.ndarray,
    best_workers: np.ndarray,
    best_at: np.ndarray,
    sc: np.ndarray,
    rng: np.ndarray,
    it_end: int,
    lower: int,
    stall_iters: int,
    tenure_lo: int,
    tenure_span: int,
    n_shake: int,
    patience: int,
) -> None:
    """Iterate until ``sc[SC_IT] == it_end`` or the search finishes (``sc[SC_STATUS] = 1``);
    ``patience`` < 0: no limit on fruitless restarts."""
    k = st_cnt.shape[0]
    n = at.shape[0]
    it = sc[SC_IT]
    target = sc[SC_TARGET]
    f = sc[SC_F]
    best_f = sc[SC_BEST_F]
    since = sc[SC_SINCE]
    fruitless = sc[SC_FRUITLESS]
    best_c = sc[SC_BEST_C]
    any_tabu = sc[SC_ANY_TABU]
    big = BIG
    while it < it_end and sc[SC_STATUS] == 0:
        it += 1
        bd = big
        bq = big
        b_kind = -1
        b_a = -1
        b_b = -1
        b_c = -1
        b_d = -1
        nties = 0
        for s in range(k):
            ls = load[s]
            if ls <= target:
                continue
            w = workers[s]
            os_ = ls - target
            for ti in range(st_cnt[s]):
                t = st_tasks[s, ti]
                tws = tw[t, w]
                lo, hi = _window(t, at, pred_ptr, pred_idx, succ_ptr, succ_idx, k)
                for s2 in range(lo, hi + 1):
                    if s2 == s or zone_ok[t, s2] == 0:
                        continue
                    w2 = workers[s2]
                    v = tw[t, w2]
                    if v >= big:
                        continue
                    l2 = load[s2]
                    o2 = l2 - target if l2 > target else 0
                    # move t: s -> s2
                    n1 = ls - tws
                    n2 = l2 + v
                    d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                    if d <= bd:
                        q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                        if (d < bd or q <= bq) and (tabu_task[t, s2] <= it or f + d < best_f):
                            if d < bd or q < bq:
                                bd = d
                                bq = q
                                b_kind, b_a, b_b, b_c, b_d = 0, t, s, s2, -1
                                nties = 1
                            else:
                                nties += 1
                                if _rand_below(rng, nties) == 0:
                                    b_kind, b_a, b_b, b_c, b_d = 0, t, s, s2, -1
                    # swap t with a task t2 of s2
                    for t2i in range(st_cnt[s2]):
                        t2 = st_tasks[s2, t2i]
                        v2 = tw[t2, w]
                        if v2 >= big or v2 >= tws or direct[t, t2] != 0 or zone_ok[t2, s] == 0:
                            continue
                        n1 = ls - tws + v2
                        n2 = l2 - tw[t2, w2] + v
                        d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                        if d > bd:
                            continue
                        q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                        if d == bd and q > bq:
                            continue
                        # t2's window must hold s (t is not a direct neighbour of t2)
                        ok = True
                        for e in range(pred_ptr[t2], pred_ptr[t2 + 1]):
                            if at[pred_idx[e]] > s:
                                ok = False
                                break
                        if ok:
                            for e in range(succ_ptr[t2], succ_ptr[t2 + 1]):
                                if at[succ_idx[e]] < s:
                                    ok = False
                                    break
                        if not ok:
                            continue
                        if tabu_task[t, s2] > it and tabu_task[t2, s] > it and f + d >= best_f:
                            continue
                        if d < bd or q < bq:
                            bd = d
                            bq = q
                            b_kind, b_a, b_b, b_c, b_d = 1, t, s, s2, t2
                            nties = 1
                        else:
                            nties += 1
                            if _rand_below(rng, nties) == 0:
                                b_kind, b_a, b_b, b_c, b_d = 1, t, s, s2, t2
            # swap the worker of s with the worker of another station
            if fixed_seat[w] == 0:
                for s2 in range(k):
                    if s2 == s:
                        continue
                    w2 = workers[s2]
                    if fixed_seat[w2] != 0:
                        continue
                    n1 = sumw[s, w2]
                    n2 = sumw[s2, w]
                    if n1 >= big or n2 >= big:
                        continue
                    l2 = load[s2]
                    o2 = l2 - target if l2 > target else 0
                    d = (n1 - target if n1 > target else 0) + (n2 - target if n2 > target else 0) - os_ - o2
                    if d > bd:
                        continue
                    q = n1 * n1 + n2 * n2 - ls * ls - l2 * l2
                    if d == bd and q > bq:
                        continue
                    if (tabu_worker[w, s2] > it or tabu_worker[w2, s] > it) and f + d >= best_f:
                        continue
                    if d < bd or q < bq:
                        bd = d
                        bq = q
                        b_kind, b_a, b_b, b_c, b_d = 2, s, s2, -1, -1
                        nties = 1
                    else:
                        nties += 1
                        if _rand_below(rng, nties) == 0:
                            b_kind, b_a, b_b, b_c, b_d = 2, s, s2, -1, -1
        if b_kind < 0:
            if any_tabu != 0:
                # every move is tabu: forget them (aspiration by default) rather than stop
                tabu_task[:, :] = 0
                tabu_worker[:, :] = 0
                any_tabu = 0
                since += 1
            else:
                since = stall_iters  # no move at all: restart
        else:
            ten = tenure_lo + _rand_below(rng, tenure_span)
            any_tabu = 1
            if b_kind == 2:
                s, s2 = b_a, b_b
                w, w2 = workers[s], workers[s2]
                workers[s] = w2
                workers[s2] = w
                tabu_worker[w, s] = it + ten
                tabu_worker[w2, s2] = it + ten
            else:
                t, s, s2, t2 = b_a, b_b, b_c, b_d
                _move(t, s, s2, st_tasks, st_cnt, pos, at, sumw, tw)
                tabu_task[t, s] = it + ten
                if t2 >= 0:
                    _move(t2, s2, s, st_tasks, st_cnt, pos, at, sumw, tw)
                    tabu_task[t2, s2] = it + ten
            load[s] = sumw[s, workers[s]]
            load[s2] = sumw[s2, workers[s2]]
            f += bd
            if f < best_f:
                best_f = f
                since = 0
            else:
                since += 1
        if f == 0:
            c = 0
            for v in load:
                if v > c:
                    c = v
            if c < best_c:
                best_workers[:] = workers
                best_at[:] = at
                best_c = c
                fruitless = 0
            target = c - 1
            if target < lower:
                sc[SC_STATUS] = 1
                break
            f = _overload(load, target)
            best_f = f
            since = 0
        elif since >= stall_iters:
            fruitless += 1
            if patience >= 0 and fruitless > patience:
                sc[SC_STATUS] = 1
                break
            # restart from the best plan, shaken by a few random feasible task moves
            workers[:] = best_workers
            at[:] = best_at
            rebuild(workers, at, st_tasks, st_cnt, pos, sumw, load, tw)
            for _ in range(n_shake):
                t = _rand_below(rng, n)
                s = at[t]
                lo, hi = _window(t, at, pred_ptr, pred_idx, succ_ptr, succ_idx, k)
                nopt = 0
                for x in range(lo, hi + 1):
                    if x != s and zone_ok[t, x] != 0 and tw[t, workers[x]] < big:
                        nopt += 1
                if nopt > 0:
                    pick = _rand_below(rng, nopt)
                    for x in range(lo, hi + 1):
                        if x != s and zone_ok[t, x] != 0 and tw[t, workers[x]] < big:
                            if pick == 0:
                                _move(t, s, x, st_tasks, st_cnt, pos, at, sumw, tw)
                                break
                            pick -= 1
            for s in range(k):
                load[s] = sumw[s, workers[s]]
            target = best_c - 1
            f = _overload(load, target)
            best_f = f
            tabu_task[:, :] = 0
            tabu_worker[:, :] = 0
            any_tabu = 0
            since = 0
            sc[SC_RESTARTS] += 1
    sc[SC_IT] = it
    sc[SC_TARGET] = target
    sc[SC_F] = f
    sc[SC_BEST_F] = best_f
    sc[SC_SINCE] = since
    sc[SC_FRUITLESS] = fruitless
    sc[SC_BEST_C] = best_c
    sc[SC_ANY_TABU] = any_tabu


_rand_below = njit(cache=True)(_rand_below)
_move = njit(cache=True)(_move)
_overload = njit(cache=True)(_overload)
_window = njit(cache=True, inline="always")(_window)
rebuild: Callable[..., Any] = njit(cache=True)(_rebuild)
run: Callable[..., Any] = njit(cache=True)(_run)
