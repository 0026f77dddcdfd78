"""The station-oriented depth-first search (``station_dfs``) on a window, compiled (numba).

The child's window repacking (``repack``) asks, for window after window of a plan, whether the
window's tasks and workers fit its stations within ``C* − 1``: a small ALWABP-2 answered by
``station_dfs`` depth first over maximal loads. In pure Python a node of that search cost 0.5–3 ms
on the 75-task wee-mag lines (most of it the enumeration of each worker's maximal loads), so one
repacking pass reached only a few hundred nodes: from IPBS's wee-mag-21 plan the passes needed
13 s to run out of windows, from wee-mag-1's 20 s were not enough. This module is the same
search over machine integers, so a pass asks its windows in a small fraction of that.

Same rules, same order, same answer as ``station_dfs`` with ``seed=None`` (no noise): the
stations in line order, each with a free worker (or its seated one) and a *maximal* load, loads
enumerated most valuable first (a task's value per unit of this worker's time, value = its best
time among the other workers left), children ranked by the slack of the rest (a stable sort, so
ties keep the order they were made in), limited discrepancy rounds (or plain depth first when
``exhaustive``), a memo of failed (tasks placed, workers placed) states, and the same caps on
loads and enumeration steps. ``tests/planning/test_dfs_kernel.py`` checks that the two give the
same line, the same node count and the same proof on many windows.

Tasks and workers are bits of one unsigned 64-bit word each, so it takes windows of at most 64
tasks and 64 workers (``repack.MAX_TASKS`` is 64); longer lines keep the Python search. Compiled
code cannot read the clock: the caller bounds a call by its node budget.

The recursion of the Python version (nodes, and the enumeration of loads inside a node) is an
explicit stack here. Children of the nodes on the current path live in one pool that grows and
shrinks like the stack; the memo is an open-addressing hash table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

ONE = np.uint64(1)
ZERO = np.uint64(0)
HASH_A = np.uint64(0x9E3779B97F4A7C15)
HASH_B = np.uint64(0xC2B2AE3D27D4EB4F)

FOUND = 1
FAIL = 0
STOP = -1
EXPANDED = 2


@njit(cache=True)
def _slot(keys_d: np.ndarray, keys_u: np.ndarray, filled: np.ndarray, done: np.uint64, used: np.uint64) -> int:
    """The slot of (done, used) in the table, or of the empty slot where it would go."""
    mask: int = keys_d.shape[0] - 1
    h = (done * HASH_A) ^ (used * HASH_B)
    i = int(h >> np.uint64(40)) & mask
    while filled[i] and (keys_d[i] != done or keys_u[i] != used):
        i = (i + 1) & mask
    return i


@njit(cache=True)
def _grow_table(
    keys_d: np.ndarray, keys_u: np.ndarray, vals: np.ndarray, filled: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    size = keys_d.shape[0] * 2
    nd = np.zeros(size, np.uint64)
    nu = np.zeros(size, np.uint64)
    nv = np.zeros(size, np.int64)
    nf = np.zeros(size, np.uint8)
    for i in range(keys_d.shape[0]):
        if filled[i]:
            j = _slot(nd, nu, nf, keys_d[i], keys_u[i])
            nd[j] = keys_d[i]
            nu[j] = keys_u[i]
            nv[j] = vals[i]
            nf[j] = 1
    return nd, nu, nv, nf


@njit(cache=True)
def _fill_ok(station_worker: np.ndarray, floating: np.ndarray, used: np.uint64, placed: int) -> bool:
    """``ipbs._fill``'s test: can the workers left stand at stations ``placed``.. with no task?"""
    k = station_worker.shape[0]
    free = 0
    for w in range(k):
        if floating[w] and not (used >> np.uint64(w)) & ONE:
            free += 1
    for s in range(placed, k):
        fw = station_worker[s]
        if fw >= 0:
            if (used >> np.uint64(fw)) & ONE:
                return False
        elif free > 0:
            free -= 1
        else:
            return False
    return True


@njit(cache=True)
def _grown(a: np.ndarray, need: int) -> np.ndarray:
    """``a``, or a copy twice as long (or more) when it holds fewer than ``need`` items."""
    if need <= a.shape[0]:
        return a
    size = a.shape[0]
    while size < need:
        size *= 2
    b = np.empty(size, a.dtype)
    b[: a.shape[0]] = a
    return b


def _dfs(
    tc: np.ndarray,
    able_ptr: np.ndarray,
    able_t: np.ndarray,
    able_w: np.ndarray,
    predmask: np.ndarray,
    succ_ptr: np.ndarray,
    succ_idx: np.ndarray,
    zone_ok: np.ndarray,
    station_worker: np.ndarray,
    floating: np.ndarray,
    ready0: np.ndarray,
    target: int,
    max_nodes: int,
    load_cap: int,
    step_cap: int,
    exhaustive: bool,
    inf: int,
) -> tuple[int, int, bool, bool, np.ndarray, np.ndarray, np.ndarray]:
    """``station_dfs``'s search: (status, nodes, capped, stopped, workers, ptr, tasks).

    ``status`` is 1 with a line (station j: worker ``workers[j]``, tasks ``tasks[ptr[j]:ptr[j+1]]``
    for the stations that hold tasks; ``ipbs._fill`` seats the rest), else 0. ``tc`` (n, k): times,
    ``inf`` where slower than the target or impossible; ``able_*``: per task (CSR) its able
    workers' (time, worker) fastest first, ties by worker; ``zone_ok`` (k, n) [station, task];
    ``station_worker`` (k,) the worker seated at a station or −1; ``floating`` (k,) worker has no
    seat; ``ready0`` the tasks without predecessors, in ``_Line.ready``'s order."""
    n, k = tc.shape
    c = target
    full = ZERO
    for t in range(n):
        full |= ONE << np.uint64(t)
    dead = 1 << 30
    # memo
    tsize = 1024
    keys_d = np.zeros(tsize, np.uint64)
    keys_u = np.zeros(tsize, np.uint64)
    vals = np.zeros(tsize, np.int64)
    filled = np.zeros(tsize, np.uint8)
    n_memo = 0
    # per depth (station) frames of the node search
    f_done = np.zeros(k + 1, np.uint64)
    f_used = np.zeros(k + 1, np.uint64)
    f_disc = np.zeros(k + 1, np.int64)
    f_kbase = np.zeros(k + 1, np.int64)
    f_kcnt = np.zeros(k + 1, np.int64)
    f_knext = np.zeros(k + 1, np.int64)
    f_tbase = np.zeros(k + 1, np.int64)
    ready = np.zeros((k + 1, n), np.int64)
    rlen = np.zeros(k + 1, np.int64)
    path_w = np.zeros(k + 1, np.int64)
    path_lo = np.zeros(k + 1, np.int64)
    path_len = np.zeros(k + 1, np.int64)
    # children pool (a stack by depth) and their loads' tasks
    k_slack = np.zeros(1024, np.int64)
    k_w = np.zeros(1024, np.int64)
    k_acc = np.zeros(1024, np.uint64)
    k_lo = np.zeros(1024, np.int64)
    k_len = np.zeros(1024, np.int64)
    t_pool = np.zeros(4096, np.int64)
    # per node
    b1 = np.zeros(n, np.int64)
    a1 = np.zeros(n, np.int64)
    b2 = np.zeros(n, np.int64)
    value = np.zeros(n, np.float64)
    key = np.zeros(n, np.float64)
    tw = np.zeros(n, np.int64)
    # the enumeration of one worker's loads
    cand = np.zeros(n + 1, np.int64)
    e_i = np.zeros(n + 2, np.int64)
    e_len = np.zeros(n + 2, np.int64)
    e_cap = np.zeros(n + 2, np.int64)
    e_acc = np.zeros(n + 2, np.uint64)
    e_ext = np.zeros(n + 2, np.uint8)
    load = np.zeros(n + 1, np.int64)
    # the answer
    res_w = np.full(k, -1, np.int64)
    res_ptr = np.zeros(k + 1, np.int64)
    res_t = np.zeros(n, np.int64)
    nodes = 0
    n_st = 0
    capped = False
    stop = False
    status = 0
    disc = (1 << 29) if exhaustive else 0
    rlen[0] = ready0.shape[0]
    ready[0, : ready0.shape[0]] = ready0
    while not stop:
        capped = False
        found = False
        depth = -1
        # --- enter the root, then walk the stack ---------------------------------------------
        nd_done = ZERO
        nd_used = ZERO
        nd_disc = disc
        d = 0  # the depth of the node being entered
        while True:
            # ===== enter node (nd_done, nd_used) at depth d with discrepancies nd_disc =====
            res = FAIL
            if nd_done == full:
                if _fill_ok(station_worker, floating, nd_used, d):
                    res = FOUND
                    n_st = d
            else:
                j = _slot(keys_d, keys_u, filled, nd_done, nd_used)
                if filled[j] and vals[j] >= nd_disc:
                    res = FAIL
                elif nodes >= max_nodes:
                    stop = True
                    res = STOP
                else:
                    nodes += 1
                    s = d
                    r = k - s
                    ok = True
                    total = 0
                    for t in range(n):
                        if (nd_done >> np.uint64(t)) & ONE:
                            continue
                        x = inf
                        wx = -1
                        y = inf
                        for q in range(able_ptr[t], able_ptr[t + 1]):
                            w = able_w[q]
                            if not (nd_used >> np.uint64(w)) & ONE:
                                if wx < 0:
                                    x = able_t[q]
                                    wx = w
                                else:
                                    y = able_t[q]
                                    break
                        if x >= inf:
                            ok = False
                            break
                        b1[t] = x
                        a1[t] = wx
                        b2[t] = y
                        total += x
                    if ok and total > c * r:
                        ok = False
                    if not ok:
                        j = _slot(keys_d, keys_u, filled, nd_done, nd_used)
                        if not filled[j]:
                            n_memo += 1
                        keys_d[j] = nd_done
                        keys_u[j] = nd_used
                        vals[j] = dead
                        filled[j] = 1
                        if 2 * n_memo > keys_d.shape[0]:
                            keys_d, keys_u, vals, filled = _grow_table(keys_d, keys_u, vals, filled)
                        res = FAIL
                    else:
                        kbase = f_kbase[d]
                        tbase = f_tbase[d]
                        kcnt = 0
                        tcnt = 0
                        fixed_w = station_worker[s]
                        for w in range(k):
                            if fixed_w >= 0:
                                if w != fixed_w:
                                    continue
                            elif not floating[w]:
                                continue
                            if (nd_used >> np.uint64(w)) & ONE:
                                continue
                            s_w = total
                            for t in range(n):
                                if not (nd_done >> np.uint64(t)) & ONE and a1[t] == w:
                                    s_w += b2[t] - b1[t]
                            for t in range(n):
                                if (nd_done >> np.uint64(t)) & ONE:
                                    continue
                                o = b2[t] if a1[t] == w else b1[t]
                                value[t] = float(o) if o < inf else 2.0 * c
                            for t in range(n):
                                tw[t] = tc[t, w]
                                key[t] = -value[t] / (tw[t] + 1)
                            # first: the ready tasks that fit, most valuable first (stable)
                            m = 0
                            for i in range(rlen[d]):
                                t = ready[d, i]
                                if tw[t] <= c and zone_ok[s, t]:
                                    pos = m
                                    while pos > 0 and key[cand[pos - 1]] > key[t]:
                                        cand[pos] = cand[pos - 1]
                                        pos -= 1
                                    cand[pos] = t
                                    m += 1
                            # maximal loads, depth first (``station_dfs.loads_of``)
                            steps = 1
                            nout = 0
                            aborted = steps > step_cap or nout >= load_cap
                            ed = 0
                            e_i[0] = 0
                            e_len[0] = m
                            e_cap[0] = c
                            e_acc[0] = nd_done
                            e_ext[0] = 0
                            while not aborted and ed >= 0:
                                cap = e_cap[ed]
                                i = e_i[ed]
                                ln = e_len[ed]
                                while i < ln and tw[cand[i]] > cap:
                                    i += 1
                                if i < ln:
                                    e_ext[ed] = 1
                                    e_i[ed] = i + 1
                                    t = cand[i]
                                    acc2 = e_acc[ed] | (ONE << np.uint64(t))
                                    rest = cap - tw[t]
                                    ln2 = ln
                                    for qq in range(succ_ptr[t], succ_ptr[t + 1]):
                                        q = succ_idx[qq]
                                        if (predmask[q] & ~acc2) == ZERO and tw[q] <= rest and zone_ok[s, q]:
                                            pos = ln2
                                            while pos > ln and key[cand[pos - 1]] > key[q]:
                                                cand[pos] = cand[pos - 1]
                                                pos -= 1
                                            cand[pos] = q
                                            ln2 += 1
                                    load[ed] = t
                                    steps += 1
                                    if steps > step_cap or nout >= load_cap:
                                        aborted = True
                                        break
                                    ed += 1
                                    e_i[ed] = i + 1
                                    e_len[ed] = ln2
                                    e_cap[ed] = rest
                                    e_acc[ed] = acc2
                                    e_ext[ed] = 0
                                    continue
                                # this frame is done: is its load maximal?
                                acc = e_acc[ed]
                                if not e_ext[ed]:
                                    maximal = True
                                    for ii in range(ln):
                                        t = cand[ii]
                                        if tw[t] <= cap and not (acc >> np.uint64(t)) & ONE:
                                            maximal = False
                                            break
                                    if maximal:
                                        nout += 1
                                        # the load: load[0:ed]
                                        val = 0
                                        for ii in range(ed):
                                            t = load[ii]
                                            val += b2[t] if a1[t] == w else b1[t]
                                        used2 = nd_used | (ONE << np.uint64(w))
                                        if acc == full:
                                            if _fill_ok(station_worker, floating, used2, s + 1):
                                                # found: this station completes the line
                                                res = FOUND
                                                path_w[d] = w
                                                n_st = d + 1
                                                # its tasks go to the pool's end for the answer
                                                t_pool = _grown(t_pool, tbase + tcnt + ed)
                                                for ii in range(ed):
                                                    t_pool[tbase + tcnt + ii] = load[ii]
                                                path_lo[d] = tbase + tcnt
                                                path_len[d] = ed
                                                aborted = True
                                                break
                                        elif r > 1:
                                            slack = c * (r - 1) - (s_w - val)
                                            if slack >= 0:
                                                kk = kbase + kcnt
                                                if kk >= k_slack.shape[0]:
                                                    k_slack = _grown(k_slack, kk + 1)
                                                    k_w = _grown(k_w, kk + 1)
                                                    k_acc = _grown(k_acc, kk + 1)
                                                    k_lo = _grown(k_lo, kk + 1)
                                                    k_len = _grown(k_len, kk + 1)
                                                t_pool = _grown(t_pool, tbase + tcnt + ed)
                                                for ii in range(ed):
                                                    t_pool[tbase + tcnt + ii] = load[ii]
                                                k_slack[kk] = slack
                                                k_w[kk] = w
                                                k_acc[kk] = acc
                                                k_lo[kk] = tbase + tcnt
                                                k_len[kk] = ed
                                                kcnt += 1
                                                tcnt += ed
                                ed -= 1
                            if res == FOUND:
                                break
                            if aborted:
                                capped = True
                        if res != FOUND:
                            # children by slack, most first; ties keep their order (stable)
                            if kcnt > 1:
                                order = np.argsort(-k_slack[kbase : kbase + kcnt], kind="mergesort")
                                tmp_s = k_slack[kbase : kbase + kcnt].copy()
                                tmp_w = k_w[kbase : kbase + kcnt].copy()
                                tmp_a = k_acc[kbase : kbase + kcnt].copy()
                                tmp_l = k_lo[kbase : kbase + kcnt].copy()
                                tmp_n = k_len[kbase : kbase + kcnt].copy()
                                for ii in range(kcnt):
                                    o = order[ii]
                                    k_slack[kbase + ii] = tmp_s[o]
                                    k_w[kbase + ii] = tmp_w[o]
                                    k_acc[kbase + ii] = tmp_a[o]
                                    k_lo[kbase + ii] = tmp_l[o]
                                    k_len[kbase + ii] = tmp_n[o]
                            if kcnt > nd_disc + 1:
                                capped = True
                            f_done[d] = nd_done
                            f_used[d] = nd_used
                            f_disc[d] = nd_disc
                            f_kcnt[d] = kcnt
                            f_knext[d] = 0
                            f_kbase[d + 1] = kbase + kcnt
                            f_tbase[d + 1] = tbase + tcnt
                            res = EXPANDED
            # ===== the node's result =====
            if res == FOUND:
                found = True
                break
            if res == STOP:
                break
            if res == EXPANDED:
                depth = d
            # ===== the next child of the deepest open node =====
            entered = False
            while depth >= 0:
                dd = depth
                lim = f_kcnt[dd] if f_kcnt[dd] < f_disc[dd] + 1 else f_disc[dd] + 1
                if f_knext[dd] < lim:
                    i = f_knext[dd]
                    f_knext[dd] += 1
                    kk = f_kbase[dd] + i
                    w = k_w[kk]
                    acc = k_acc[kk]
                    used2 = f_used[dd] | (ONE << np.uint64(w))
                    j = _slot(keys_d, keys_u, filled, acc, used2)
                    if filled[j] and vals[j] >= f_disc[dd] - i:
                        continue
                    # the child's ready tasks: the parent's minus the load, then those it released
                    lo = k_lo[kk]
                    ln = k_len[kk]
                    m = 0
                    for ii in range(rlen[dd]):
                        t = ready[dd, ii]
                        if not (acc >> np.uint64(t)) & ONE:
                            ready[dd + 1, m] = ready[dd, ii]
                            m += 1
                    for ii in range(ln):
                        t = t_pool[lo + ii]
                        for qq in range(succ_ptr[t], succ_ptr[t + 1]):
                            q = succ_idx[qq]
                            if not (acc >> np.uint64(q)) & ONE and (predmask[q] & ~acc) == ZERO:
                                dup = False
                                for jj in range(m):
                                    if ready[dd + 1, jj] == q:
                                        dup = True
                                        break
                                if not dup:
                                    ready[dd + 1, m] = q
                                    m += 1
                    rlen[dd + 1] = m
                    path_w[dd] = w
                    path_lo[dd] = lo
                    path_len[dd] = ln
                    nd_done = acc
                    nd_used = used2
                    nd_disc = f_disc[dd] - i
                    d = dd + 1
                    entered = True
                    break
                # every child tried: the node fails
                j = _slot(keys_d, keys_u, filled, f_done[dd], f_used[dd])
                if not filled[j]:
                    n_memo += 1
                keys_d[j] = f_done[dd]
                keys_u[j] = f_used[dd]
                vals[j] = dead if f_kcnt[dd] == 0 else f_disc[dd]
                filled[j] = 1
                if 2 * n_memo > keys_d.shape[0]:
                    keys_d, keys_u, vals, filled = _grow_table(keys_d, keys_u, vals, filled)
                depth -= 1
            if not entered:
                break
        if found:
            status = 1
            pos = 0
            for j in range(n_st):
                res_w[j] = path_w[j]
                res_ptr[j] = pos
                for ii in range(path_len[j]):
                    res_t[pos] = t_pool[path_lo[j] + ii]
                    pos += 1
            res_ptr[n_st] = pos
            for j in range(n_st + 1, k + 1):
                res_ptr[j] = pos
            break
        if not capped:
            break
        disc += 1
    return status, nodes, capped, stop, res_w, res_ptr, res_t


dfs: Callable[..., Any] = njit(cache=True)(_dfs)


def warm_compiled() -> None:
    """Compile the search (or load it from numba's cache) on a two-task line: task 0 before 1,
    worker 0 takes 1 and 2 minutes, worker 1 takes 2 and 1, target 2."""
    tc = np.array([[1, 2], [2, 1]], dtype=np.int64)
    i64 = np.int64
    dfs(
        tc,
        np.array([0, 2, 4], dtype=i64),
        np.array([1, 2, 1, 2], dtype=i64),
        np.array([0, 1, 1, 0], dtype=i64),
        np.array([0, 1], dtype=np.uint64),
        np.array([0, 1, 1], dtype=i64),
        np.array([1], dtype=i64),
        np.ones((2, 2), dtype=np.uint8),
        np.array([-1, -1], dtype=i64),
        np.ones(2, dtype=np.uint8),
        np.array([0], dtype=i64),
        2,
        10,
        48,
        4000,
        True,
        10**7,
    )
