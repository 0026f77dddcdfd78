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

How children are stored, merged and turned into the next beam is shared with the engine's compiled
beam (``beam_children``).

``cache=True``: the machine code is kept beside the module after the first compile (about 9 s on
the 2-core VM; loading it in a fresh process takes about 0.45 s more, importing numba 0.35 s);
``make venv`` compiles it once (``ipbs.warm_compiled``) so no command or test pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from seamline.planning.balance.beam_children import add_child, distinct, new_buffers, next_beam, one_line


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
    ch_par, ch_w, ch_rank, ch_h, ch_off, buf = new_buffers()
    nch = 0
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
                    od, oc, ou, osta, owat, oh = one_line(b, w, load, nload, done, cnt, used, sta, wat, hsh, s, 1)
                    return 1, od, oc, ou, osta, owat, oh
                if r <= 1:
                    continue
                # slack of the rest: C × workers left − Σ best times among them (< 0: dead)
                slack = c * (r - 1) - (s_w - val)
                if slack < 0:
                    continue
                # slack is an integer: adding a draw in [0, 1) breaks ties at random
                rk = slack + np.random.random()
                ch_par, ch_w, ch_rank, ch_h, ch_off, buf = add_child(
                    ch_par, ch_w, ch_rank, ch_h, ch_off, buf, nch, b, w, rk, h, load, nload
                )
                nch += 1
    order = np.argsort(-ch_rank[:nch])
    # the best ``width`` distinct children
    pick = distinct(ch_h, order, width)
    od, oc, ou, osta, owat, oh = next_beam(
        pick, ch_par, ch_w, ch_h, ch_off, buf, done, cnt, used, sta, wat, succ_ptr, succ_idx, s, 1
    )
    return (-1 if pick.shape[0] > 0 else -2), od, oc, ou, osta, owat, oh


# numba has no type information; the compiled function keeps the signature above for readers
level: Callable[..., Any] = njit(cache=True)(_level)
