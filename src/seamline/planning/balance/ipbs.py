"""Interval probabilistic beam search for ALWABP-2 (after Borba & Ritt 2014).

A second, independent method beside ``solver.solve_line`` (construction → CP-SAT → beam → tabu →
LNS). The question "is there a line with cycle time ≤ C?" is answered heuristically by a
station-oriented beam search: stations are filled one at a time, each with a worker not yet placed
and a *maximal* load of the tasks whose predecessors are already placed (a maximal load dominates:
a task that still fits can always move to the earlier station). Partial lines are ranked by the
slack of what is left,

    slack = C × (workers left) − Σ over tasks left of their best time among the workers left,

a lower bound on the idle time that must remain: below zero the partial line cannot be completed,
and a station whose worker takes the tasks the *other* workers are slow at keeps it large. A load is
built greedily by (best time of the task among the other workers left) ÷ (this worker's time),
perturbed at random so that every call explores other loads. The cycle time is searched in the
interval [lower bound, best found − 1]: first bisection with narrow beams, then always one below the
best found, the beam widening on every failure (a failure proves nothing, a wider beam may succeed).
Each try also runs on the reversed line (precedence reversed, stations from the end), which finds
other plans for the same cycle. When a try at one below the best fails, an improvement round runs
before the beam widens: the tabu search on the overload (``tabu.tabu_search``) from the best plan
or from another plan of the same cycle, then the bottleneck descent. The beam finds a line's
structure; the last units of cycle on 10-worker lines are single task and worker moves, which the
beam would need many doublings of its width for. Where rounds bring nothing (many-worker lines)
they back off exponentially and the beam keeps its time.

A level of the beam (every partial line extended by one station) runs as one compiled function
(``ipbs_kernel``, numba) from a 2-s budget on: the same rules 12-17 times faster than the
pure-Python levels kept here (plain integers and bitsets, one bit per task), which shorter budgets
use because numba's start-up in a fresh process (about 0.8 s) would cost more than they gain.
Wider beams find better lines, so that speed is the search's. A compiled search's improvement
rounds run the compiled tabu search too (``COMPILED_TABU``; numba's start-up is paid already): a
round reaches its patience in hundredths of a second where the Python round took up to its cap of
a tenth of the budget, and the time goes back to the beam (wee-mag, 5.5 s, 24 lines × 2 seeds:
mean gap 3.80 % against 4.85 %, 11 better, 0 worse; the portfolio's child keeps the Python
rounds, ``portfolio.CHILD_COMPILED_TABU``). The random stream comes from one
``random.Random(seed)`` (the compiled levels are seeded from it), so a run is repeatable for a
seed and a number of searches (``max_searches``), and otherwise uses the time it is given.

Supported: worker-specific times with forbidden pairs, precedence, zones (``allowed``), fixed seats
and fixed tasks. Machine types and soft costs are the sewing line's extras; for those
``solve_ipbs`` hands over to ``solve_line``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from seamline.planning.balance.data import LineProblem, LineSolution

INF = 10**7  # "cannot" (or slower than the cycle): larger than any sum of real times
START_WIDTH = 2  # beam width of the first tries; doubled on every failure
MAX_WIDTH = 4096  # wider beams keep finding better lines; this only bounds memory and one try's time
NOISE = 1.0  # multiplicative noise on the load priority (0: a greedy load)
SPREAD = 8.0  # later sampled loads use noise × SPREAD^u, u uniform in [0, 1): more diverse loads
CHILDREN = 2  # sampled children per level ≈ CHILDREN × width
MAX_REPS = 64  # at most this many sampled loads per (partial line, worker)
POLISH = True  # each line found goes through the bottleneck descent
CHUNK = 256  # partial lines whose bounds numpy computes at once
IMPROVE = True  # a failed beam hands over to the tabu search before the beam widens
ROUND_S = 0.1  # share of the time limit one improvement round may take at most
TABU_PATIENCE = 3  # tabu restarts without a better plan before the beam gets its turn back
RANK_Q = 1  # partial lines are ranked with each task left at the mean of its RANK_Q fastest workers left
FIRST_GRACE_S = 1.0  # how far past the limit the search for a first plan may go
COMPILED = True  # the beam's levels run compiled (``ipbs_kernel``); False: the pure-Python levels
COMPILED_FROM_S = 2.0  # shorter budgets use the pure-Python levels (no compiler start-up)
ZOBRIST_SEED = 12345  # the fixed random keys of the compiled levels' (tasks, workers placed) hash
TABU_ITERS = 3000  # iterations of a round when the budget is counted in searches (repeatable)
# Whether the improvement rounds of a compiled search run the compiled tabu search too (its
# start-up is paid with the levels'); else a round's budget decides (``tabu.COMPILED_FROM_S``).
COMPILED_TABU = True

Station = tuple[int, tuple[int, ...]]


def applicable(p: LineProblem) -> bool:
    """IPBS handles ALWABP plus zones and fixed seats/tasks, not machine types or soft costs."""
    return p.task_type is None and not p.pair_cost and p.num_tasks > 0 and p.num_workers > 0


class _Line:
    """The problem in the search's own terms, forward or reversed (bundles walking backwards)."""

    def __init__(self, p: LineProblem, reverse: bool) -> None:
        n, k = p.num_tasks, p.num_workers
        self.n, self.k, self.reverse = n, k, reverse
        times = [[INF if v is None else v for v in row] for row in p.times]
        if p.fixed_task is not None:
            for t, fw in enumerate(p.fixed_task):
                if fw is not None:
                    times[t] = [v if w == fw else INF for w, v in enumerate(times[t])]
        self.times = np.array(times, dtype=np.int64).reshape(n, k)
        pairs = [(j, i) for i, j in p.precedence] if reverse else list(p.precedence)
        predmask = [0] * n
        succ: list[list[int]] = [[] for _ in range(n)]
        for i, j in pairs:
            if not predmask[j] >> i & 1:
                predmask[j] |= 1 << i
                succ[i].append(j)
        self.predmask = predmask
        self.succ = [tuple(s) for s in succ]

        def st(s: int) -> int:
            return k - 1 - s if reverse else s

        self.zone: list[frozenset[int] | None] = [
            None if p.allowed is None or p.allowed[t] is None else frozenset(st(s) for s in p.allowed[t])  # type: ignore[union-attr]
            for t in range(n)
        ]
        self.has_zones = any(z is not None for z in self.zone)
        seat: list[int | None] = [None] * k
        self.station_worker: list[int | None] = [None] * k
        if p.worker_station is not None:
            for w, s in enumerate(p.worker_station):
                if s is not None:
                    seat[w] = st(s)
                    self.station_worker[st(s)] = w
        self.seat = seat
        self.floating_mask = sum(1 << w for w in range(k) if seat[w] is None)
        # the same facts as arrays, for the compiled levels (``ipbs_kernel``)
        self.succ_ptr = np.zeros(n + 1, dtype=np.int64)
        flat: list[int] = []
        for t in range(n):
            flat.extend(self.succ[t])
            self.succ_ptr[t + 1] = len(flat)
        self.succ_idx = np.array(flat, dtype=np.int64)
        self.npred = np.array([m.bit_count() for m in predmask], dtype=np.int16)
        self.zone_ok = np.ones((k, n), dtype=np.uint8)  # [station, task]: the task may go there
        for t, z in enumerate(self.zone):
            if z is not None:
                self.zone_ok[:, t] = 0
                self.zone_ok[sorted(z), t] = 1
        self.floating = np.array([seat[w] is None for w in range(k)], dtype=np.uint8)
        zr = np.random.default_rng(ZOBRIST_SEED)
        self.zob_task = zr.integers(0, 2**63, size=n, dtype=np.uint64)
        self.zob_worker = zr.integers(0, 2**63, size=k, dtype=np.uint64)

    def capped(self, c: int) -> tuple[np.ndarray, list[list[int]]]:
        """Times with everything slower than the cycle ``c`` counted as impossible."""
        tc = np.where(self.times <= c, self.times, INF)
        return tc, [tc[:, w].tolist() for w in range(self.k)]

    def ready(self, done: int) -> list[int]:
        pm = self.predmask
        return [t for t in range(self.n) if not done >> t & 1 and pm[t] & ~done == 0]

    def to_solution(self, stations: list[Station]) -> LineSolution:
        out = list(reversed(stations)) if self.reverse else stations
        return LineSolution(tuple(out))


class _Node:
    """A partial line: tasks placed (bitset), workers placed (bitset), its stations, the tasks
    whose predecessors are all placed, and the same sets as numpy masks for the level's bounds."""

    __slots__ = ("done", "ready", "rem", "stations", "used", "wleft")

    def __init__(
        self,
        done: int,
        used: int,
        stations: tuple[Station, ...],
        ready: list[int],
        rem: np.ndarray,
        wleft: np.ndarray,
    ) -> None:
        self.done, self.used, self.stations, self.ready = done, used, stations, ready
        self.rem, self.wleft = rem, wleft


def _fill(line: _Line, stations: tuple[Station, ...], used: int) -> list[Station] | None:
    """All tasks placed: the workers left stand at the remaining stations with nothing to do."""
    out = list(stations)
    free = [w for w in range(line.k) if not used >> w & 1 and line.seat[w] is None]
    for s in range(len(out), line.k):
        w_fixed = line.station_worker[s]
        if w_fixed is not None:
            if used >> w_fixed & 1:
                return None
            out.append((w_fixed, ()))
        elif free:
            out.append((free.pop(), ()))
        else:
            return None
    return out


def _level_bounds(
    beam: list[_Node], tc: np.ndarray, k: int
) -> tuple[list[list[int]], list[list[int]], list[list[int]], list[list[float]]]:
    """Per partial line and task left: the best and second-best time among the workers left and
    who has the best; per partial line and worker w: Σ over tasks left of the best time among the
    workers left other than w (the bound on the work left once w takes a station)."""
    m1s: list[list[int]] = []
    m2s: list[list[int]] = []
    a1s: list[list[int]] = []
    sws: list[list[float]] = []
    for lo in range(0, len(beam), CHUNK):
        part_nodes = beam[lo : lo + CHUNK]
        b = len(part_nodes)
        rem = np.stack([nd.rem for nd in part_nodes])  # (b, n)
        wleft = np.stack([nd.wleft for nd in part_nodes])  # (b, k)
        x = np.where(wleft[:, None, :], tc[None, :, :], INF)  # (b, n, k)
        if k >= 2:
            two = np.partition(x, 1, axis=2)
            m1, m2 = two[:, :, 0], two[:, :, 1]
        else:
            m1 = x[:, :, 0]
            m2 = np.full_like(m1, INF)
        a1 = np.argmin(x, axis=2)
        s_tot = np.where(rem, m1, 0).sum(axis=1)
        d = np.where(rem, m2 - m1, 0)
        flat = (np.arange(b)[:, None] * k + a1).ravel()
        extra = np.bincount(flat, weights=d.ravel().astype(np.float64), minlength=b * k).reshape(b, k)
        m1s += m1.tolist()
        m2s += m2.tolist()
        a1s += a1.tolist()
        sws += (s_tot[:, None] + extra).tolist()
    return m1s, m2s, a1s, sws


def _level_estimates(
    beam: list[_Node], tc: np.ndarray, k: int, q: int
) -> tuple[list[list[float]], list[list[float]], list[list[tuple[int, ...]]], list[list[float]]]:
    """The ranking's estimate of the work left (not a bound): each task at the mean of its ``q``
    fastest times among the workers left. Per partial line and task: that mean, the (q+1)-th
    fastest time (what replaces a worker of the q fastest once she takes a station) and who the q
    fastest are; per partial line and worker w: Σ over tasks left of the estimate without w.
    The bound (q = 1) counts the fastest worker once for every task she is fastest at; the mean of
    a few is closer to what the rest of the line will really pay."""
    ests: list[list[float]] = []
    alts: list[list[float]] = []
    tops: list[list[tuple[int, ...]]] = []
    sqs: list[list[float]] = []
    for lo in range(0, len(beam), CHUNK):
        part_nodes = beam[lo : lo + CHUNK]
        b = len(part_nodes)
        rem = np.stack([nd.rem for nd in part_nodes])
        wleft = np.stack([nd.wleft for nd in part_nodes])
        x = np.where(wleft[:, None, :], tc[None, :, :], INF)
        qq = min(q, k - 1)
        idx = np.argsort(x, axis=2, kind="stable")[:, :, : qq + 1]
        xs = np.take_along_axis(x, idx, axis=2).astype(np.float64)
        xs = np.where(xs >= INF, xs[:, :, :1], xs)  # fewer able workers left than q + 1: the best
        est = xs[:, :, :qq].mean(axis=2)
        alt = xs[:, :, qq]
        tot = np.where(rem, est, 0.0).sum(axis=1)
        extra = np.zeros((b, k))
        rows = np.arange(b)[:, None] * k
        for j in range(qq):
            wgt = np.where(rem, (alt - xs[:, :, j]) / qq, 0.0)
            extra += np.bincount((rows + idx[:, :, j]).ravel(), weights=wgt.ravel(), minlength=b * k).reshape(b, k)
        ests += est.tolist()
        alts += alt.tolist()
        tl = idx[:, :, :qq].tolist()
        tops += [[tuple(v) for v in row] for row in tl]
        sqs += (tot[:, None] + extra).tolist()
    return ests, alts, tops, sqs


def beam_feasible(
    line: _Line,
    c: int,
    width: int,
    rng: random.Random,
    deadline: float,
    noise: float | None = None,
    *,
    compiled: bool | None = None,
) -> list[Station] | None:
    """A line with every station's load ≤ ``c`` (stations in this ``line``'s order), or None.

    ``compiled`` (default ``COMPILED``): each level runs as one compiled function
    (``ipbs_kernel.level``), the same rules 12-17 times faster; else the pure-Python levels below,
    which need no compiler start-up (about 0.8 s in a fresh process) and also rank by RANK_Q > 1."""
    noise = NOISE if noise is None else noise
    if (COMPILED if compiled is None else compiled) and RANK_Q == 1:
        return _beam_compiled(line, c, width, rng, deadline, noise)
    return _beam_python(line, c, width, rng, deadline, noise)


def _beam_compiled(
    line: _Line, c: int, width: int, rng: random.Random, deadline: float, noise: float
) -> list[Station] | None:
    from seamline.planning.balance.ipbs_kernel import level

    n, k = line.n, line.k
    tc, _cols = line.capped(c)
    done = np.zeros((1, n), dtype=np.uint8)
    cnt = line.npred[None, :].copy()
    used = np.zeros((1, k), dtype=np.uint8)
    sta = np.full((1, n), -1, dtype=np.int16)
    wat = np.full((1, k), -1, dtype=np.int16)
    hsh = np.zeros(1, dtype=np.uint64)
    for s in range(k):
        if time.monotonic() > deadline:
            return None
        fw = line.station_worker[s]
        found, done, cnt, used, sta, wat, hsh = level(
            done, cnt, used, sta, wat, hsh,
            tc, line.zone_ok, line.succ_ptr, line.succ_idx, line.floating, line.zob_task, line.zob_worker,
            s, -1 if fw is None else fw, c, width, noise, SPREAD, CHILDREN, MAX_REPS, rng.getrandbits(31), INF,
        )  # fmt: skip
        if found == 1:
            stations = [(int(wat[0, x]), tuple(int(t) for t in np.flatnonzero(sta[0] == x))) for x in range(s + 1)]
            return _fill(line, tuple(stations), sum(1 << w for w in range(k) if used[0, w]))
        if found == -2:
            return None
    return None


def _beam_python(
    line: _Line, c: int, width: int, rng: random.Random, deadline: float, noise: float
) -> list[Station] | None:
    n, k = line.n, line.k
    full = (1 << n) - 1
    tc, cols = line.capped(c)
    succ, predmask, zone = line.succ, line.predmask, line.zone
    rnd = rng.random
    beam = [_Node(0, 0, (), line.ready(0), np.ones(n, dtype=bool), np.ones(k, dtype=bool))]
    for s in range(k):
        if time.monotonic() > deadline:
            return None
        r = k - s  # workers still to place, this station's included
        # (done, used) -> (slack, tiebreak, parent, worker, load)
        children: dict[tuple[int, int], tuple[float, float, _Node, int, tuple[int, ...]]] = {}
        fixed_w = line.station_worker[s]
        # enough sampled loads per (partial line, worker) that the level offers about
        # CHILDREN × width candidates (the first levels have few partial lines)
        reps = max(1, min(MAX_REPS, -(-CHILDREN * width // max(1, len(beam) * r))))
        m1s, m2s, a1s, sws = _level_bounds(beam, tc, k)
        if RANK_Q > 1:
            ests, alts, tops, sqs = _level_estimates(beam, tc, k, RANK_Q)
        qd = float(max(1, min(RANK_Q, k - 1)))
        for bi, node in enumerate(beam):
            if bi % 64 == 63 and time.monotonic() > deadline:
                return None  # a wide level on a loaded machine can take seconds
            done, used = node.done, node.used
            if fixed_w is not None:
                cands = [] if used >> fixed_w & 1 else [fixed_w]
            else:
                free = line.floating_mask & ~used
                cands = [w for w in range(k) if free >> w & 1]
            m1l, m2l, a1l, swl = m1s[bi], m2s[bi], a1s[bi], sws[bi]
            if RANK_Q > 1:
                estl, altl, topl, sql = ests[bi], alts[bi], tops[bi], sqs[bi]
            for w in cands:
                tw = cols[w]
                s_w = int(swl[w])
                sq_w = sql[w] if RANK_Q > 1 else 0.0
                # a task's value: its best time among the other workers left (what the rest of the
                # line would pay for it) per unit of this worker's time, perturbed at random
                first = [t for t in node.ready if tw[t] <= c and (zone[t] is None or s in zone[t])]  # type: ignore[operator]
                for attempt in range(reps):
                    nz = noise * 0.5 if attempt == 0 else noise * SPREAD ** rnd()
                    cap = c
                    acc = done
                    load: list[int] = []
                    val = 0
                    valq = 0.0
                    cand = first[:]
                    while cand:
                        bt, bk, bo, bq = -1, -1.0, 0, 0.0
                        for t in cand:
                            o = m2l[t] if a1l[t] == w else m1l[t]
                            oq = (estl[t] + (altl[t] - tw[t]) / qd if w in topl[t] else estl[t]) if RANK_Q > 1 else o
                            key = (oq + 1) / (tw[t] + 1) * (1.0 + nz * rnd())
                            if key > bk:
                                bt, bk, bo, bq = t, key, o, oq
                        load.append(bt)
                        cap -= tw[bt]
                        acc |= 1 << bt
                        val += bo
                        valq += bq
                        cand = [t for t in cand if t != bt and tw[t] <= cap]
                        for q in succ[bt]:
                            if predmask[q] & ~acc == 0 and tw[q] <= cap and (zone[q] is None or s in zone[q]):  # type: ignore[operator]
                                cand.append(q)
                    if acc == full:
                        done_line = _fill(line, (*node.stations, (w, tuple(load))), used | 1 << w)
                        if done_line is not None:
                            return done_line
                        continue
                    # slack of the rest: C × workers left − Σ best times among them (< 0: dead)
                    slack = c * (r - 1) - (s_w - val) if r > 1 else -1
                    if slack < 0:
                        continue
                    # rank by the estimate, prune by the bound
                    rank = c * (r - 1) - (sq_w - valq) if RANK_Q > 1 else float(slack)
                    key2 = (acc, used | 1 << w)
                    tb = rnd()
                    old = children.get(key2)
                    if old is None or (rank, tb) > (old[0], old[1]):
                        children[key2] = (rank, tb, node, w, tuple(load))
        if not children:
            return None
        ranked = sorted(children.items(), key=lambda kv: (kv[1][0], kv[1][1]), reverse=True)
        chosen = ranked[:width]
        beam = []
        for (acc, used2), (_sl, _tb, par, w, placed) in chosen:
            seen = set(placed)
            ready = [t for t in par.ready if t not in seen]
            for t in placed:
                for q in succ[t]:
                    if not acc >> q & 1 and predmask[q] & ~acc == 0 and q not in seen:
                        seen.add(q)
                        ready.append(q)
            rem = par.rem.copy()
            rem[list(placed)] = False
            wleft = par.wleft.copy()
            wleft[w] = False
            beam.append(_Node(acc, used2, (*par.stations, (w, placed)), ready, rem, wleft))
    return None


def _cycle(p: LineProblem, sol: LineSolution) -> int:
    return sol.cycle_time(p)


def descent(p: LineProblem, sol: LineSolution) -> LineSolution:
    """Relieve the heaviest stations one at a time until no move helps: move one of its tasks to
    another station (inside the task's precedence window and zone, by a worker able to do it),
    swap one of its tasks with one of another station, or swap its worker with another's — each
    only when both stations end below the current cycle, so every move removes a bottleneck
    station or lowers the cycle. Deterministic; a few milliseconds on a 70-task line."""
    k = p.num_workers
    times = p.times
    workers = [w for w, _ in sol.stations]
    tasks = [set(ts) for _, ts in sol.stations]
    st = sol.station_of()
    seat = p.worker_station

    def load(s: int, w: int, ts: set[int]) -> int | None:
        tot = 0
        for t in ts:
            v = times[t][w]
            if v is None or (p.fixed_task is not None and p.fixed_task[t] not in (None, w)):
                return None
            tot += v
        return tot

    def window(t: int) -> tuple[int, int]:
        lo = max((st[q] for q in p.preds[t]), default=0)
        hi = min((st[q] for q in p.succs[t]), default=k - 1)
        return lo, hi

    def can(t: int, w: int) -> bool:
        return times[t][w] is not None and (p.fixed_task is None or p.fixed_task[t] in (None, w))

    loads = [load(s, workers[s], tasks[s]) or 0 for s in range(k)]
    while True:
        cmax = max(loads)
        moved = False
        for s in [x for x in range(k) if loads[x] == cmax]:
            w = workers[s]
            for t in sorted(tasks[s]):
                lo, hi = window(t)
                for d in range(lo, hi + 1):
                    if d == s or not can(t, workers[d]) or not p.station_ok(t, d):
                        continue
                    nd = loads[d] + (times[t][workers[d]] or 0)
                    if nd < cmax:
                        tasks[s].discard(t)
                        tasks[d].add(t)
                        st[t] = d
                        loads[s] -= times[t][w] or 0
                        loads[d] = nd
                        moved = True
                        break
                if moved:
                    break
            if moved:
                break
            for t in sorted(tasks[s]):
                lo, hi = window(t)
                rel = set(p.preds[t]) | set(p.succs[t])
                for d in range(lo, hi + 1):
                    if d == s or not can(t, workers[d]) or not p.station_ok(t, d):
                        continue
                    for u in sorted(tasks[d]):
                        if u in rel or not can(u, w) or not p.station_ok(u, s):
                            continue
                        ulo, uhi = window(u)
                        if not ulo <= s <= uhi:
                            continue
                        ns = loads[s] - (times[t][w] or 0) + (times[u][w] or 0)
                        nd = loads[d] - (times[u][workers[d]] or 0) + (times[t][workers[d]] or 0)
                        if ns < cmax and nd < cmax:
                            tasks[s].discard(t)
                            tasks[d].discard(u)
                            tasks[s].add(u)
                            tasks[d].add(t)
                            st[t], st[u] = d, s
                            loads[s], loads[d] = ns, nd
                            moved = True
                            break
                    if moved:
                        break
                if moved:
                    break
            if moved:
                break
            if seat is None or seat[w] is None:
                for d in range(k):
                    wd = workers[d]
                    if d == s or (seat is not None and seat[wd] is not None):
                        continue
                    ns2, nd2 = load(s, wd, tasks[s]), load(d, w, tasks[d])
                    if ns2 is not None and nd2 is not None and ns2 < cmax and nd2 < cmax:
                        workers[s], workers[d] = wd, w
                        loads[s], loads[d] = ns2, nd2
                        moved = True
                        break
            if moved:
                break
        if not moved:
            break
    return LineSolution(tuple((workers[s], tuple(sorted(tasks[s]))) for s in range(k)))


def improve(
    p: LineProblem,
    sol: LineSolution,
    deadline: float,
    seed: int,
    lower: int,
    max_iters: int | None,
    compiled: bool | None = None,
) -> LineSolution:
    """The improvement phase: the tabu search on the overload (``tabu.tabu_search``: task moves,
    task swaps and worker swaps from the overloaded stations) until a few restarts bring nothing,
    then the bottleneck descent. A beam finds the line's structure; the last few units of cycle
    are moves a station at a time, where the beam would have to widen many times over. Plans
    whose check fails are dropped (the local search only makes feasible moves; this is a guard)."""
    from seamline.planning.balance.check import check_line
    from seamline.planning.balance.tabu import tabu_search

    found = tabu_search(
        p,
        sol,
        deadline=deadline,
        max_iters=max_iters if max_iters is not None else 1_000_000,
        seed=seed,
        lower=lower,
        patience=TABU_PATIENCE,
        compiled=compiled,
    )
    found = descent(p, found)
    if found.cycle_time(p) < sol.cycle_time(p) and not check_line(p, found, found.cycle_time(p)):
        return found
    return sol


def solve_ipbs(
    p: LineProblem,
    time_limit_s: float,
    seed: int = 0,
    *,
    max_searches: int | None = None,
    log: Callable[[str], None] | None = None,
    start: LineSolution | None = None,
    compiled_tabu: bool | None = None,
) -> LineSolution:
    """The best line found within ``time_limit_s`` (or ``max_searches`` beam searches).

    ``start``: a feasible plan already in hand (e.g. the construction); the search begins with
    the bisection below its cycle, takes no grace past the limit for a first plan, and returns
    ``start`` when it finds nothing shorter. ``compiled_tabu``: whether a compiled search's
    improvement rounds run compiled too (default ``COMPILED_TABU``; the portfolio's child says).

    Raises ValueError when no plan is found at all (e.g. precedence and forbidden pairs that no
    station order satisfies)."""
    t0 = time.monotonic()
    deadline = t0 + time_limit_s
    if not applicable(p):
        from seamline.planning.balance.solver import solve_line

        return solve_line(p, time_limit_s, seed=seed, log=log, start=start)
    lines = (_Line(p, False), _Line(p, True))
    # under COMPILED_FROM_S the compiler's start-up would cost more than the faster levels gain
    compiled = COMPILED and (max_searches is not None or time_limit_s >= COMPILED_FROM_S)
    rng = random.Random(seed)
    lb = p.lower_bound()
    searches = 0
    best: LineSolution | None = start

    def out_of_budget(until: float | None = None) -> bool:
        over = time.monotonic() >= (deadline if until is None else until)
        return over or (max_searches is not None and searches >= max_searches)

    def attempt(c: int, width: int, until: float | None = None) -> LineSolution | None:
        nonlocal searches
        for line in lines:
            if out_of_budget(until):
                return None
            searches += 1
            st = beam_feasible(line, c, width, rng, deadline if until is None else until, compiled=compiled)
            if st is not None:
                return descent(p, line.to_solution(st)) if POLISH else line.to_solution(st)
        return None

    def say(msg: str) -> None:
        if log:
            log(f"[ipbs {time.monotonic() - t0:6.2f}s] {msg}")

    # 1. Any line: cycles growing from the bound by a quarter until a narrow beam succeeds. A
    # starved process (a loaded machine) may take a little past the limit for this: a plan late
    # by a second beats no plan.
    first_until = deadline + FIRST_GRACE_S
    finite = [v for row in p.times for v in row if v is not None]
    c_max = sum(max(v for v in row if v is not None) for row in p.times)
    c = lb
    while best is None and not out_of_budget(first_until):
        best = attempt(c, START_WIDTH, first_until)
        if best is None:
            if c >= c_max:
                break
            c = min(c_max, max(c + 1, (c * 5 + 3) // 4))
    if best is None and c >= c_max:
        raise ValueError(f"{p.name}: no feasible line plan found (check skills, zones and precedence)")
    if best is None:
        raise ValueError(f"{p.name}: no line plan found within {time_limit_s:g} s (try a longer time limit)")
    first = "start" if start is not None and best is start else "first line"
    say(f"{first} cycle {_cycle(p, best)} (lower bound {lb}, {len(finite)} task-worker pairs)")
    # 2. Bisection on [lb, best − 1] with narrow beams.
    lo = lb
    while lo < _cycle(p, best) and not out_of_budget():
        mid = (lo + _cycle(p, best) - 1) // 2
        found = attempt(mid, START_WIDTH)
        if found is not None:
            best = found
        else:
            lo = mid + 1
    say(f"bisection cycle {_cycle(p, best)}")
    # 3. One below the best. A failed beam hands over to the improvement phase (a tabu search on
    # the overload for one below the best, from the best plan or, every other round, from another
    # plan of the same cycle the beam finds at once); the beam widens only when that brings
    # nothing either (a failure proves nothing, a wider beam may succeed).
    width = START_WIDTH
    rounds = fails = wait = 0
    while _cycle(p, best) > lb and not out_of_budget():
        found = attempt(_cycle(p, best) - 1, width)
        if found is not None:
            best = found
            say(f"cycle {_cycle(p, best)} at width {width}")
            continue
        if not IMPROVE or out_of_budget() or wait > 0:
            wait -= 1
            width = min(MAX_WIDTH, width * 2)
            continue
        origin = best
        if rounds % 2 == 1:
            other = attempt(_cycle(p, best), START_WIDTH)
            if other is not None:
                origin = other
        end = deadline if max_searches is not None else min(deadline, time.monotonic() + ROUND_S * time_limit_s)
        better = improve(
            p,
            origin,
            end,
            seed + rounds,
            lb,
            TABU_ITERS if max_searches is not None else None,
            compiled=True if compiled and (COMPILED_TABU if compiled_tabu is None else compiled_tabu) else None,
        )
        rounds += 1
        if _cycle(p, better) < _cycle(p, best):
            best = better
            fails = 0
            say(f"cycle {_cycle(p, best)} by the improvement phase (round {rounds})")
        else:
            # on lines where the local search does not pay, the beam gets most of the time back
            fails += 1
            wait = 2**fails - 1
            width = min(MAX_WIDTH, width * 2)
    say(f"done: cycle {_cycle(p, best)}, {searches} searches")
    return best


def warm_compiled() -> None:
    """Compile the beam's levels, the tabu search (``tabu_kernel``), the engine's beam stations
    (``beam_kernel``) and the windows' depth-first search (``dfs_kernel``), or load them from
    numba's cache, on a two-task line, so the first real search does not pay for it; ``make
    venv`` calls this once."""
    from seamline.planning.balance.beam import warm_compiled as warm_beam
    from seamline.planning.balance.dfs_kernel import warm_compiled as warm_dfs
    from seamline.planning.balance.tabu import warm_compiled as warm_tabu

    p = LineProblem(name="warm", times=((1, 2), (2, 1)), precedence=((0, 1),))
    _beam_compiled(_Line(p, False), 2, 2, random.Random(0), float("inf"), 1.0)
    warm_tabu()
    warm_beam()
    warm_dfs()
