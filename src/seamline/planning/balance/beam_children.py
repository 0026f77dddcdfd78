"""The children of a compiled beam level: collected, merged by hash, turned into the next beam.

Both compiled beams (``ipbs_kernel``: the interval beam's levels; ``beam_kernel``: the engine's
stations) extend every partial line by one station and keep some of the children. What they share
is here, compiled (numba, ``cache=True``) and called from their kernels:

* children are kept in flat buffers — parent, worker, rank, hash, and the tasks the new station
  took in one array addressed by offsets — grown by doubling (``add_child``);
* two children with the same (tasks placed, workers placed) are one (``distinct``: the first in a
  given order of each Zobrist hash, by an open-addressing set);
* the kept children become the next beam's arrays (``next_beam``). The two kernels mark a placed
  task and worker the opposite way (``ipbs_kernel``: "done", "used" = 1; ``beam_kernel``:
  "unassigned", "free" = 0), so the value to write is a parameter.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def new_buffers() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Empty children buffers: parent, worker, rank, hash, offsets (``off[0] = 0``), tasks."""
    cap = 1024
    off = np.empty(cap + 1, np.int64)
    off[0] = 0
    return (
        np.empty(cap, np.int32),
        np.empty(cap, np.int32),
        np.empty(cap, np.float64),
        np.empty(cap, np.uint64),
        off,
        np.empty(4096, np.int16),
    )


@njit(cache=True)
def add_child(
    par: np.ndarray,
    wk: np.ndarray,
    rank: np.ndarray,
    hs: np.ndarray,
    off: np.ndarray,
    buf: np.ndarray,
    nch: int,
    b: int,
    w: int,
    r: float,
    h: np.uint64,
    load: np.ndarray,
    nload: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Child ``nch`` (parent ``b``, worker ``w``, rank ``r``, hash ``h``, tasks ``load[:nload]``)
    stored; the buffers are returned, doubled when full."""
    if nch == par.shape[0]:
        par = np.concatenate((par, np.empty(nch, np.int32)))
        wk = np.concatenate((wk, np.empty(nch, np.int32)))
        rank = np.concatenate((rank, np.empty(nch, np.float64)))
        hs = np.concatenate((hs, np.empty(nch, np.uint64)))
        off = np.concatenate((off, np.empty(nch, np.int64)))
    end = off[nch] + nload
    if end > buf.shape[0]:
        buf = np.concatenate((buf, np.empty(max(end, buf.shape[0]), np.int16)))
    for i in range(nload):
        buf[off[nch] + i] = load[i]
    par[nch] = b
    wk[nch] = w
    rank[nch] = r
    hs[nch] = h
    off[nch + 1] = end
    return par, wk, rank, hs, off, buf


@njit(cache=True)
def distinct(hs: np.ndarray, order: np.ndarray, limit: int) -> np.ndarray:
    """The children of ``order`` whose hash no earlier one had, the first ``limit`` of them."""
    m = order.shape[0]
    size = 1
    while size < 2 * min(limit, m) + 2:
        size *= 2
    table = np.zeros(size, np.uint64)
    filled = np.zeros(size, np.uint8)
    pick = np.empty(min(limit, m), np.int64)
    npk = 0
    for i in range(m):
        if npk == pick.shape[0]:
            break
        ci = order[i]
        hv = hs[ci]
        slot = np.int64(hv & np.uint64(size - 1))
        dup = False
        while filled[slot]:
            if table[slot] == hv:
                dup = True
                break
            slot = (slot + 1) & (size - 1)
        if dup:
            continue
        filled[slot] = 1
        table[slot] = hv
        pick[npk] = ci
        npk += 1
    return pick[:npk]


@njit(cache=True)
def next_beam(
    pick: np.ndarray,
    par: np.ndarray,
    wk: np.ndarray,
    hs: np.ndarray,
    off: np.ndarray,
    buf: np.ndarray,
    task_flag: np.ndarray,
    preds_left: np.ndarray,
    worker_flag: np.ndarray,
    sta: np.ndarray,
    wat: np.ndarray,
    succ_ptr: np.ndarray,
    succ_idx: np.ndarray,
    s: int,
    placed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The beam of the children ``pick``: each its parent's rows with station ``s`` filled — its
    tasks' and worker's flag set to ``placed``, its tasks' successors' predecessor counts down."""
    npk = pick.shape[0]
    n = task_flag.shape[1]
    k = worker_flag.shape[1]
    ot = np.empty((npk, n), np.uint8)
    op = np.empty((npk, n), np.int16)
    ow = np.empty((npk, k), np.uint8)
    osta = np.empty((npk, n), np.int16)
    owat = np.empty((npk, k), np.int16)
    oh = np.empty(npk, np.uint64)
    for i in range(npk):
        ci = pick[i]
        b = par[ci]
        w = wk[ci]
        ot[i] = task_flag[b]
        op[i] = preds_left[b]
        ow[i] = worker_flag[b]
        osta[i] = sta[b]
        owat[i] = wat[b]
        for e in range(off[ci], off[ci + 1]):
            t = buf[e]
            ot[i, t] = placed
            osta[i, t] = s
            for f in range(succ_ptr[t], succ_ptr[t + 1]):
                op[i, succ_idx[f]] -= 1
        ow[i, w] = placed
        owat[i, s] = w
        oh[i] = hs[ci]
    return ot, op, ow, osta, owat, oh


@njit(cache=True)
def one_line(
    b: int,
    w: int,
    load: np.ndarray,
    nload: int,
    task_flag: np.ndarray,
    preds_left: np.ndarray,
    worker_flag: np.ndarray,
    sta: np.ndarray,
    wat: np.ndarray,
    hs: np.ndarray,
    s: int,
    placed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Partial line ``b`` with station ``s`` given to ``w`` and ``load[:nload]``, as a beam of
    one: the line a level found complete (predecessor counts left as they were)."""
    ot = task_flag[b : b + 1].copy()
    ow = worker_flag[b : b + 1].copy()
    osta = sta[b : b + 1].copy()
    owat = wat[b : b + 1].copy()
    for i in range(nload):
        ot[0, load[i]] = placed
        osta[0, load[i]] = s
    ow[0, w] = placed
    owat[0, s] = w
    return ot, preds_left[b : b + 1].copy(), ow, osta, owat, hs[b : b + 1].copy()
