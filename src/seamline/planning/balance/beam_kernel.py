"""One station of the engine's beam (``beam.beam_construct``), compiled (numba).

``beam_construct`` extends every partial plan of its beam by one station: each free worker fills
it by a priority rule (``construct._fill``: the ready task of highest priority that fits,
repeatedly), a child survives when the work left, each task at its fastest free worker, fits in
the free workers' time, and children are ranked by the work left at the mean of each task's
``q`` fastest free workers (``beam._Look``). In pure Python that beam took 4.4 of the engine's
10 s on a 75-task, 19-worker line (cProfile, wee-mag-21): a fill cost about 20 µs, a node's
look-ahead 0.25 ms. This module is that station as one compiled function over flat arrays, with
the same rules, so the same budget tries many more cycles and beams.

The rules are those of the Python version, and with one fill per worker and no noise the two give
the same plan (``tests/planning/test_beam.py`` checks it): ties in a fill go to the lower task
number (the Python heap's order), children keep the order they were made in when their ranks tie
(a stable sort), and a child equal to an earlier one in (tasks placed, workers placed) is dropped.
The random stream is numba's own, seeded per station from the caller's ``random.Random``, so a run
stays repeatable for a seed.

Arrays of a beam of B partial plans over n tasks and k stations/workers:

* ``un`` (B, n) uint8 — task not yet placed; ``lp`` (B, n) int16 — its predecessors not placed;
* ``fr`` (B, k) uint8 — worker free; ``sta`` (B, n) int16 — station of a placed task (−1);
* ``wat`` (B, k) int16 — worker at a filled station (−1); ``hsh`` (B,) uint64 — a Zobrist hash
  of (tasks placed, workers placed), the key under which equal children are merged.

Only lines without zones, machine types, fixed tasks or fixed seats come here (``_Static.simple``
and no seat fixed); the others keep the Python beam, whose fills check those rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from seamline.planning.balance.beam_children import add_child, distinct, new_buffers, next_beam, one_line


def _station(
    un: np.ndarray,
    lp: np.ndarray,
    fr: np.ndarray,
    sta: np.ndarray,
    wat: np.ndarray,
    hsh: np.ndarray,
    tw: np.ndarray,
    prio: np.ndarray,
    spv: np.ndarray,
    spw: np.ndarray,
    spn: np.ndarray,
    succ_ptr: np.ndarray,
    succ_idx: np.ndarray,
    zob_task: np.ndarray,
    zob_worker: np.ndarray,
    s: int,
    cycle: int,
    width: int,
    noise: float,
    fills: int,
    q: int,
    last: bool,
    seed: int,
    inf: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Station ``s`` for every partial plan: (found, un, lp, fr, sta, wat, hsh) of the next beam.

    ``found`` is 1 when the last station took every task left (the arrays then hold that one
    plan), −1 when the next beam is in the arrays, −2 when no child survived. ``tw`` (n, k) are
    the times (``inf``: cannot), ``prio`` (rules, k, n) each rule's priorities, ``spv``/``spw``
    (n, k) each task's able workers' times and workers fastest first (``spn`` of them)."""
    np.random.seed(seed)
    nb, n = un.shape
    k = fr.shape[1]
    n_rules = prio.shape[0]
    # a node's look-ahead (``beam._Look``)
    c1 = np.zeros(n, np.int64)
    cq = np.zeros(n, np.float64)
    sole_w = np.full(n, -1, np.int64)
    nnew = np.zeros(n, np.int64)
    new_w = np.full((n, q), -1, np.int64)
    new1 = np.zeros((n, q), np.int64)
    newq = np.zeros((n, q), np.float64)
    d_rest = np.zeros(k, np.int64)
    d_rank = np.zeros(k, np.float64)
    sole_cnt = np.zeros(k, np.int64)
    vs = np.zeros(q + 1, np.int64)
    ws = np.zeros(q + 1, np.int64)
    # a fill's scratch
    cand = np.empty(n, np.int64)
    ckey = np.empty(n, np.float64)
    took = np.zeros(n, np.int64)
    ld = np.empty(n, np.int64)
    # children: parent, worker, rank, hash, and their tasks in one flat buffer
    ch_par, ch_w, ch_rank, ch_h, ch_off, buf = new_buffers()
    nch = 0
    for b in range(nb):
        nfree = 0
        for w in range(k):
            nfree += fr[b, w]
        nun = 0
        for t in range(n):
            nun += un[b, t]
        base_rest = 0
        base_rank = 0.0
        if not last:
            for w in range(k):
                d_rest[w] = 0
                d_rank[w] = 0.0
                sole_cnt[w] = 0
            for t in range(n):
                if un[b, t] == 0:
                    continue
                m = 0
                total = 0
                for j in range(spn[t]):
                    w = spw[t, j]
                    if fr[b, w]:
                        vs[m] = spv[t, j]
                        ws[m] = w
                        total += vs[m]
                        m += 1
                        if m > q:
                            break
                sole_w[t] = -1
                nnew[t] = 0
                if m == 0:  # nobody left can do it: the Python version cannot get here either
                    c1[t] = inf
                    cq[t] = inf
                    base_rest += inf
                    base_rank += inf
                    continue
                c1[t] = vs[0]
                cq[t] = (total - vs[q]) / q if m > q else total / m
                base_rest += c1[t]
                base_rank += cq[t]
                for j in range(min(q, m)):
                    w = ws[j]
                    if j == 0:
                        if m == 1 or vs[1] > cycle:
                            sole_w[t] = w
                            sole_cnt[w] += 1
                            continue
                        n1 = vs[1]
                    else:
                        n1 = c1[t]
                    nq = (total - vs[j]) / (m - 1)
                    new_w[t, nnew[t]] = w
                    new1[t, nnew[t]] = n1
                    newq[t, nnew[t]] = nq
                    nnew[t] += 1
                    d_rest[w] += n1 - c1[t]
                    d_rank[w] += nq - cq[t]
        for w in range(k):
            if fr[b, w] == 0:
                continue
            for vi in range(fills):
                if vi == 0:
                    r = np.random.randint(n_rules) if noise > 0 else 0
                    nz = noise
                else:
                    r = np.random.randint(n_rules)
                    nz = max(noise, 0.3)
                # the fill: the ready task of highest priority that fits, repeatedly
                ncand = 0
                for t in range(n):
                    took[t] = 0
                    if un[b, t] and lp[b, t] == 0:
                        cand[ncand] = t
                        ckey[ncand] = prio[r, w, t] * (1.0 + nz * np.random.random()) if nz > 0 else prio[r, w, t]
                        ncand += 1
                load = 0
                nl = 0
                while ncand > 0:
                    bi = 0
                    for i in range(1, ncand):
                        if ckey[i] > ckey[bi] or (ckey[i] == ckey[bi] and cand[i] < cand[bi]):
                            bi = i
                    t = cand[bi]
                    ncand -= 1
                    cand[bi] = cand[ncand]
                    ckey[bi] = ckey[ncand]
                    v = tw[t, w]
                    if v >= inf or load + v > cycle:
                        continue
                    ld[nl] = t
                    nl += 1
                    load += v
                    for e in range(succ_ptr[t], succ_ptr[t + 1]):
                        sc = succ_idx[e]
                        took[sc] += 1
                        if lp[b, sc] == took[sc] and un[b, sc]:
                            cand[ncand] = sc
                            pv = prio[r, w, sc]
                            ckey[ncand] = pv * (1.0 + nz * np.random.random()) if nz > 0 else pv
                            ncand += 1
                if last:
                    if nl != nun:
                        continue
                    ou, ol, of, osta, owat, oh = one_line(b, w, ld, nl, un, lp, fr, sta, wat, hsh, s, 0)
                    return 1, ou, ol, of, osta, owat, oh
                # the child's look-ahead: O(tasks taken)
                if sole_cnt[w] > 0:
                    got = 0
                    for i in range(nl):
                        if sole_w[ld[i]] == w:
                            got += 1
                    if got < sole_cnt[w]:
                        continue
                rest = base_rest + d_rest[w]
                rank = base_rank + d_rank[w]
                h = hsh[b] ^ zob_worker[w]
                for i in range(nl):
                    t = ld[i]
                    h ^= zob_task[t]
                    hit = -1
                    for j in range(nnew[t]):
                        if new_w[t, j] == w:
                            hit = j
                            break
                    if hit < 0:
                        rest -= c1[t]
                        rank -= cq[t]
                    else:
                        rest -= new1[t, hit]
                        rank -= newq[t, hit]
                if rest > cycle * (nfree - 1):
                    continue
                ch_par, ch_w, ch_rank, ch_h, ch_off, buf = add_child(
                    ch_par, ch_w, ch_rank, ch_h, ch_off, buf, nch, b, w, rank, h, ld, nl
                )
                nch += 1
    if last or nch == 0:
        eu = np.empty((0, n), np.uint8)
        en = np.empty((0, n), np.int16)
        return -2, eu, en, np.empty((0, k), np.uint8), en.copy(), np.empty((0, k), np.int16), np.empty(0, np.uint64)
    # the first child of each (tasks placed, workers placed), in the order they were made
    keep = distinct(ch_h, np.arange(nch), nch)
    nk = keep.shape[0]
    key = np.empty(nk, np.float64)
    for i in range(nk):
        key[i] = ch_rank[keep[i]] * (1.0 + noise * 0.05 * np.random.random()) if noise > 0 else ch_rank[keep[i]]
    pick = keep[np.argsort(key, kind="mergesort")[:width]]
    ou, ol, of, osta, owat, oh = next_beam(
        pick, ch_par, ch_w, ch_h, ch_off, buf, un, lp, fr, sta, wat, succ_ptr, succ_idx, s, 0
    )
    return -1, ou, ol, of, osta, owat, oh


# numba has no type information; the compiled function keeps the signature above for readers
station: Callable[..., Any] = njit(cache=True)(_station)
