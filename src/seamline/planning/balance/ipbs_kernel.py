"""One level of the interval probabilistic beam search, compiled (numba).

``ipbs.beam_feasible`` extends every partial line of its beam by one station per level: each free
worker takes sampled *maximal* loads of the tasks whose predecessors are placed, children are
ranked by the slack bound, the best ``width`` distinct (tasks placed, workers placed) survive. In
pure Python one greedy load cost about 15 µs, and a width-4096 try on a 75-task, 19-worker line
about 5 s — the search's whole budget at the bench's 10 s. This module is that level as one
compiled function over flat arrays, so the beam's width, which is what finds better lines, costs
a few per cent of what it did. The rules are the same as the Python version's (the load priority,
its noise, the slack bound, the tie-break at random); the random stream is numba's own, seeded
per level from the caller's ``random.Random``, so a run stays repeatable for a seed.

Arrays of a beam of B partial lines over n tasks and k stations/workers:

* ``done`` (B, n) uint8 — task placed; ``cnt`` (B, n) int16 — predecessors not yet placed;
* ``used`` (B, k) uint8 — worker placed; ``sta`` (B, n) int16 — station of a placed task (−1);
* ``wat`` (B, k) int16 — worker at a filled station (−1); ``hsh`` (B,) uint64 — a Zobrist hash
  of (tasks placed, workers placed), the key under which children are merged.

``cache=True``: the machine code is kept beside the module after the first compile (about 9 s on
the 2-core VM; loading it in a fresh process takes about 0.45 s more, importing numba 0.35 s);
``make venv`` compiles it once (``ipbs.warm_compiled``) so no command or test pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit


def _level(
    done: np.ndarray,
    cnt: np.ndarray,
    used: np.ndarray,
    sta: np.ndarray,
    wat: np.ndarray,
    hsh: np.ndarray,
    tc: np.ndarray,
    zone_ok: np.ndarray,
    succ_ptr: np.ndarray,
    succ_idx: np.ndarray,
    floating: np.ndarray,
    zob_task: np.ndarray,
    zob_worker: np.ndarray,
    s: int,
    fixed_w: int,
    c: int,
    width: int,
    noise: float,
    spread: float,
    children: int,
    max_reps: int,
    seed: int,
    inf: int,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Station ``s`` for every partial line: (found, done, cnt, used, sta, wat, hsh) of the next
    beam. ``found`` is 1 when a child placed every task (the arrays then hold that one line, the
    stations after ``s`` still empty), −1 when the next beam is in the arrays, −2 when no child
    survived the slack bound (no line at this cycle from this beam)."""
    np.random.seed(seed)
    nb, n = done.shape
    k = used.shape[1]
    r = k - s
    # children: parent, worker, rank, hash, and their loads in one flat buffer
    cap_ch = 1024
    ch_par = np.empty(cap_ch, np.int32)
    ch_w = np.empty(cap_ch, np.int32)
    ch_rank = np.empty(cap_ch, np.float64)
    ch_h = np.empty(cap_ch, np.uint64)
    ch_off = np.empty(cap_ch + 1, np.int64)
    buf = np.empty(4096, np.int16)
    nch = 0
    ch_off[0] = 0
    m1 = np.empty(n, np.int64)
    m2 = np.empty(n, np.int64)
    a1 = np.empty(n, np.int64)
    sw = np.empty(k, np.int64)
    first = np.empty(n, np.int64)
    cand = np.empty(n, np.int64)
    cl = np.empty(n, np.int16)
    load = np.empty(n, np.int64)
    free_ws = np.empty(k, np.int64)
    # about ``children`` × width candidates per level (the first levels have few partial lines)
    nfree_total = 0
    for b in range(nb):
        for w in range(k):
            if used[b, w] == 0 and ((fixed_w < 0 and floating[w] == 1) or w == fixed_w):
                nfree_total += 1
    reps = max(1, min(max_reps, -(-children * width // max(1, nfree_total))))
    for b in range(nb):
        # bounds: per task left, the best and second-best time among the workers left and who
        # has the best; per worker w, the work left at the best times among the others
        s_tot = 0
        for w in range(k):
            sw[w] = 0
        for t in range(n):
            if done[b, t]:
                continue
            x1 = inf
            x2 = inf
            aw = 0
            for w in range(k):
                if used[b, w]:
                    continue
                v = tc[t, w]
                if v < x1:
                    x2 = x1
                    x1 = v
                    aw = w
                elif v < x2:
                    x2 = v
            m1[t] = x1
            m2[t] = x2
            a1[t] = aw
            s_tot += x1
            sw[aw] += x2 - x1
        ndone = 0
        for t in range(n):
            ndone += done[b, t]
        nfw = 0
        if fixed_w >= 0:
            if used[b, fixed_w] == 0:
                free_ws[0] = fixed_w
                nfw = 1
        else:
            for w in range(k):
                if floating[w] == 1 and used[b, w] == 0:
                    free_ws[nfw] = w
                    nfw += 1
        for iw in range(nfw):
            w = free_ws[iw]
            s_w = s_tot + sw[w]
            nfirst = 0
            for t in range(n):
                if done[b, t] == 0 and cnt[b, t] == 0 and tc[t, w] <= c and zone_ok[s, t]:
                    first[nfirst] = t
                    nfirst += 1
            for attempt in range(reps):
                nz = noise * 0.5 if attempt == 0 else noise * spread ** np.random.random()
                cap = c
                for t in range(n):
                    cl[t] = cnt[b, t]
                ncand = nfirst
                for i in range(nfirst):
                    cand[i] = first[i]
                nload = 0
                val = 0
                h = hsh[b] ^ zob_worker[w]
                while ncand > 0:
                    bi = -1
                    bk = -1.0
                    for i in range(ncand):
                        t = cand[i]
                        o = m2[t] if a1[t] == w else m1[t]
                        key = (o + 1) / (tc[t, w] + 1) * (1.0 + nz * np.random.random())
                        if key > bk:
                            bk = key
                            bi = i
                    bt = cand[bi]
                    load[nload] = bt
                    nload += 1
                    cap -= tc[bt, w]
                    val += m2[bt] if a1[bt] == w else m1[bt]
                    h ^= zob_task[bt]
                    # the candidates that still fit, then the successors it frees
                    j = 0
                    for i in range(ncand):
                        t = cand[i]
                        if t != bt and tc[t, w] <= cap:
                            cand[j] = t
                            j += 1
                    ncand = j
                    for e in range(succ_ptr[bt], succ_ptr[bt + 1]):
                        q = succ_idx[e]
                        cl[q] -= 1
                        if cl[q] == 0 and done[b, q] == 0 and tc[q, w] <= cap and zone_ok[s, q]:
                            cand[ncand] = q
                            ncand += 1
                if ndone + nload == n:
                    # every task placed: this line (the stations after it stay empty)
                    od = done[b : b + 1].copy()
                    oc = cnt[b : b + 1].copy()
                    ou = used[b : b + 1].copy()
                    osta = sta[b : b + 1].copy()
                    owat = wat[b : b + 1].copy()
                    for i in range(nload):
                        od[0, load[i]] = 1
                        osta[0, load[i]] = s
                    ou[0, w] = 1
                    owat[0, s] = w
                    return 1, od, oc, ou, osta, owat, hsh[b : b + 1].copy()
                if r <= 1:
                    continue
                # slack of the rest: C × workers left − Σ best times among them (< 0: dead)
                slack = c * (r - 1) - (s_w - val)
                if slack < 0:
                    continue
                if nch == cap_ch:
                    cap_ch *= 2
                    ch_par = np.concatenate((ch_par, np.empty(nch, np.int32)))
                    ch_w = np.concatenate((ch_w, np.empty(nch, np.int32)))
                    ch_rank = np.concatenate((ch_rank, np.empty(nch, np.float64)))
                    ch_h = np.concatenate((ch_h, np.empty(nch, np.uint64)))
                    ch_off = np.concatenate((ch_off, np.empty(nch, np.int64)))
                end = ch_off[nch] + nload
                if end > buf.shape[0]:
                    buf = np.concatenate((buf, np.empty(max(end, buf.shape[0]), np.int16)))
                for i in range(nload):
                    buf[ch_off[nch] + i] = load[i]
                ch_par[nch] = b
                ch_w[nch] = w
                # slack is an integer: adding a draw in [0, 1) breaks ties at random
                ch_rank[nch] = slack + np.random.random()
                ch_h[nch] = h
                ch_off[nch + 1] = end
                nch += 1
    order = np.argsort(-ch_rank[:nch])
    # the best ``width`` distinct children: an open-addressing set of the hashes seen
    size = 1
    while size < 2 * min(width, nch) + 2:
        size *= 2
    table = np.zeros(size, np.uint64)
    filled = np.zeros(size, np.uint8)
    pick = np.empty(min(width, nch), np.int64)
    npk = 0
    for i in range(nch):
        if npk == pick.shape[0]:
            break
        ci = order[i]
        hv = ch_h[ci]
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
    od = np.empty((npk, n), np.uint8)
    oc = np.empty((npk, n), np.int16)
    ou = np.empty((npk, k), np.uint8)
    osta = np.empty((npk, n), np.int16)
    owat = np.empty((npk, k), np.int16)
    oh = np.empty(npk, np.uint64)
    for i in range(npk):
        ci = pick[i]
        b = ch_par[ci]
        w = ch_w[ci]
        od[i] = done[b]
        oc[i] = cnt[b]
        ou[i] = used[b]
        osta[i] = sta[b]
        owat[i] = wat[b]
        for e in range(ch_off[ci], ch_off[ci + 1]):
            t = buf[e]
            od[i, t] = 1
            osta[i, t] = s
            for f in range(succ_ptr[t], succ_ptr[t + 1]):
                oc[i, succ_idx[f]] -= 1
        ou[i, w] = 1
        owat[i, s] = w
        oh[i] = ch_h[ci]
    return (-1 if npk > 0 else -2), od, oc, ou, osta, owat, oh


# numba has no type information; the compiled function keeps the signature above for readers
level: Callable[..., Any] = njit(cache=True)(_level)
