"""Station-oriented beam search for a line problem: many cheap constructions instead of one.

For a trial cycle time C the line is built station by station. Each partial plan in the beam is
extended by every free worker, who fills the next station with available tasks by a randomised
priority rule (``construct._fill``). A child is kept only when what is left can still fit: every
task left has a free worker able to do it within C, and the work left, each task at its fastest
*free* worker's time, is at most C × free workers. Children are ranked by the work left with
each task at the mean of its ``q`` fastest free workers' times (lower is better: the station took
much work, from the worker who is good at it, while the workers who are uniquely good at later
tasks stay free). ``q = 1`` is the pruning bound itself, which is far too optimistic on these
lines — precedence forces most tasks onto slower workers (tonge-1: bound 37, optimum 87) — so
larger ``q`` rank better there (deterministic bisection at width 8 over the 16 tonge and wee-mag
lines, mean gap: q = 1 28.5 / 21.0 %, q = 2 15.4 / 15.9 %, q = 3 19.3 / 18.5 %, q = 5 16.5 /
23.2 %), so the bisection tries q = 2, then 3, and the probabilistic phase draws q from
``RANK_QS`` for variety; the best ``width`` distinct
children form the next beam. After Borba & Ritt (2014), station-oriented (probabilistic) beam search for
ALWABP-2: the cycle time is searched from above — each success lowers it to the plan's own cycle,
each failure retries with another seed and a wider beam, and whenever the search stalls the
cycle is probed by bisection between the best plan and the bound.

The pruning test is what makes it fast: hopeless partial plans die at the first stations, so a
failed cycle costs milliseconds and a 70-task line takes thousands of station fills a second.
The look-ahead is computed once per node (``_Look``) and corrected per child, and a fill pops a
priority heap (its noise drawn once per task and fill): a construct costs about a third of what
it did. On lines without zones, machine types or fixed tasks and seats (ALWABP) each station runs
compiled (``beam_kernel``, the same rules; 15-25 times faster), so the search below the incumbent
widens its beam up to ``MAX_WIDTH_COMPILED`` where the Python beam stopped at 16 × its first width.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from typing import Any

from seamline.planning.balance.construct import RULES, _fill, _rest_coverable, _Static
from seamline.planning.balance.data import LineProblem, LineSolution

INF = 1 << 60
FILLS = 2
# The stations run compiled (``beam_kernel``) on the lines it handles (no zones, machine types,
# fixed tasks or seats) once numba is loaded, or when at least ``COMPILED_MIN_S`` are left: loading
# numba and the kernel in a fresh process costs about 0.8 s, more than a short search would gain.
COMPILED = True
COMPILED_MIN_S = 2.0
# The widest beam of the search below the incumbent when compiled (16 × the first width else).
MAX_WIDTH_COMPILED = 256


class _State:
    """A partial plan; ``rest`` is its rank (the estimated work left: lower is better)."""

    __slots__ = ("free", "left_preds", "out", "rest", "type_count", "unassigned")

    def __init__(
        self,
        out: list[tuple[int, tuple[int, ...]]],
        unassigned: set[int],
        left_preds: list[int],
        free: list[int],
        type_count: dict[str, int],
        rest: float,
    ) -> None:
        self.out = out
        self.unassigned = unassigned
        self.left_preds = left_preds
        self.free = free
        self.type_count = type_count
        self.rest = rest

    def solution(self) -> LineSolution:
        return LineSolution(tuple(self.out))


def _rest_work(speed: list[list[tuple[int, int]]], unassigned: set[int], free: set[int], cycle: int) -> int:
    """Work left at each task's fastest free worker within ``cycle``; INF when a task has none."""
    total = 0
    for t in unassigned:
        for v, w in speed[t]:
            if w in free:
                if v > cycle:
                    return INF
                total += v
                break
        else:
            return INF
    return total


BEAM_RULES = (*RULES, "adv", "adv_succ")  # the fill rules a beam draws from (the first is the plain one)
RANK_QS = (2, 3, 2, 5, 1, 2)  # the rankings the probabilistic phase draws from (q = 2 ranks best)
# Whether the probabilistic phase learns which ranking pays on this line (``_RankChooser``)
# instead of drawing from ``RANK_QS`` at a fixed rate. Off: in paired runs (session 22, 96 pairs,
# docs/planning-log.md) it was better on 8 and worse on 5, not a clear gain.
RANK_LEARN = False
RANK_EXPLORE = 0.25  # share of tries that draw a ranking at random
RANK_DECAY = 0.3  # weight of the newest try in a ranking's running score


class _RankChooser:
    """Which ranking the next beam try uses, learnt from the tries so far.

    The best ranking differs from line to line by an order of magnitude (one beam try at the
    target, width 64: wee-mag-61 at 15 succeeded in 31 of 1,764 tries with q = 1 and in 1 of
    5,635 with q = 2, 3 or 5; wee-mag-71 at 18 in about 9 % of tries with q = 3 and 0.1 % with
    q = 5), and a fixed draw spends most tries on the wrong one. Successes are rare at the last unit, so a failed try
    also says something: how many stations its beam filled before every partial line died
    (wee-mag-61 at 15, mean over failed tries: q = 1 15.2 of 19 stations, the others 13.2–13.5).
    Each ranking keeps a running score of its tries (a success counts twice the line's stations,
    a failure the stations filled); a share ``RANK_EXPLORE`` of tries draws at random, the rest
    take the best score. Every score starts at the line's stations (a try that filled them all),
    so an untried ranking is tried as soon as the others fall short.
    """

    def __init__(self, stations: int, rng: random.Random) -> None:
        self.qs = sorted(set(RANK_QS))
        self.stations = stations
        self.rng = rng
        self.score = {q: float(stations) for q in self.qs}

    def pick(self) -> int:
        if not RANK_LEARN:
            return RANK_QS[self.rng.randrange(len(RANK_QS))]
        if self.rng.random() < RANK_EXPLORE:
            return self.qs[self.rng.randrange(len(self.qs))]
        return max(self.qs, key=lambda q: self.score[q])

    def tell(self, q: int, success: bool, filled: int) -> None:
        reward = 2.0 * self.stations if success else float(filled)
        self.score[q] += RANK_DECAY * (reward - self.score[q])


class _Look:
    """A beam node's look-ahead, computed once and reused by each of its children.

    The child that gives worker ``w`` the tasks ``taken`` has, over the tasks left, the work at
    each task's fastest free worker (``rest``: the pruning bound) and at the mean of its ``q``
    fastest free workers (the ranking: a realistic estimate where precedence forces tasks onto
    slower workers). Only tasks whose fastest ``q`` free workers include ``w`` change when she
    leaves, so the node stores the totals, each worker's correction and, per task, its values
    without each of its fastest workers: a child costs O(|taken|), not O(tasks left).
    """

    __slots__ = ("base_rank", "base_rest", "c1", "cq", "d_rank", "d_rest", "new", "sole")

    def __init__(
        self, speed: list[list[tuple[int, int]]], unassigned: set[int], free: list[int], k: int, cycle: int, q: int
    ) -> None:
        free_b = [False] * k
        for x in free:
            free_b[x] = True
        self.base_rest = 0
        self.base_rank = 0.0
        self.d_rest = [0] * k
        self.d_rank = [0.0] * k
        self.sole: list[list[int]] = [[] for _ in range(k)]
        self.c1: dict[int, int] = {}
        self.cq: dict[int, float] = {}
        self.new: dict[tuple[int, int], tuple[int, float]] = {}
        base_rest = 0
        base_rank = 0.0
        d_rest, d_rank, sole, c1s, cqs, new = self.d_rest, self.d_rank, self.sole, self.c1, self.cq, self.new
        for t in unassigned:
            vs: list[int] = []
            ws: list[int] = []
            for v, w in speed[t]:
                if free_b[w]:
                    vs.append(v)
                    ws.append(w)
                    if len(vs) > q:
                        break
            c1 = vs[0]
            n = len(vs)
            total = sum(vs)
            cq = (total - vs[q]) / q if n > q else total / n
            c1s[t] = c1
            cqs[t] = cq
            base_rest += c1
            base_rank += cq
            for j in range(min(q, n)):
                w = ws[j]
                if j == 0:
                    if n == 1 or vs[1] > cycle:
                        sole[w].append(t)
                        continue
                    n1 = vs[1]
                else:
                    n1 = c1
                nq = (total - vs[j]) / (n - 1)
                new[(t, w)] = (n1, nq)
                d_rest[w] += n1 - c1
                d_rank[w] += nq - cq
        self.base_rest = base_rest
        self.base_rank = base_rank

    def child(self, w: int, taken: list[int]) -> tuple[int, float]:
        """(rest, rank) after ``w`` takes ``taken``; rest is INF when a task left has nobody."""
        sole = self.sole[w]
        if sole:
            ts = set(taken)
            if any(t not in ts for t in sole):
                return INF, 0.0
        rest = self.base_rest + self.d_rest[w]
        rank = self.base_rank + self.d_rank[w]
        new = self.new
        for t in taken:
            nv = new.get((t, w))
            if nv is None:
                rest -= self.c1[t]
                rank -= self.cq[t]
            else:
                rest -= nv[0]
                rank -= nv[1]
        return rest, rank


def _variants(rng: random.Random, noise: float, fills: int) -> list[tuple[str, float]]:
    """The (rule, noise) pairs each worker fills a station with: the plain rule, then random ones."""
    out = [(BEAM_RULES[rng.randrange(len(BEAM_RULES))] if noise else BEAM_RULES[0], noise)]
    for _ in range(fills - 1):
        out.append((BEAM_RULES[rng.randrange(len(BEAM_RULES))], max(noise, 0.3)))
    return out


def beam_construct(
    st: _Static,
    cycle: int,
    width: int,
    rng: random.Random,
    noise: float,
    t_end: float,
    fills: int = FILLS,
    relaxed: bool = False,
    rank_q: int = 1,
    filled: list[int] | None = None,
) -> LineSolution | None:
    """A plan with every station within ``cycle`` found by a beam of ``width``, or None.

    Children are ranked by the work left, each task at the mean of its ``rank_q`` fastest free
    workers' times: 1 is the optimistic bound the pruning uses, larger values a realistic
    estimate where precedence forces tasks onto slower workers (tonge-1: 116 → 94 at width 16).
    ``filled``: set to the number of stations the beam had filled when it ended.
    """
    if _use_compiled(st, t_end):
        return _beam_compiled(st, cycle, width, rng, noise, t_end, fills, relaxed, rank_q, filled)
    p = st.p
    k = p.num_workers
    root = _State(
        [],
        set(range(p.num_tasks)),
        [len(x) for x in p.preds],
        list(range(k)),
        {},
        0,
    )
    beam = [root]
    speed = st.speed
    for s in range(k):
        if filled is not None:
            filled[:] = [s]
        if time.monotonic() > t_end:
            return None
        last = s == k - 1
        if last and relaxed:
            return _complete(st, s, beam)
        children: list[_State] = []
        seen: set[tuple[frozenset[int], frozenset[int]]] = set()
        for node in beam:
            if time.monotonic() > t_end:  # a wide beam's station takes long on a loaded machine
                return None
            look = _Look(speed, node.unassigned, node.free, k, cycle, rank_q) if not last else None
            cands = [st.fixed_at[s]] if s in st.fixed_at else [w for w in node.free if w not in st.fixed_elsewhere]
            for w, rule, nz in [(w, r, z) for w in cands for r, z in _variants(rng, noise, fills)]:
                tasks, wtype = _fill(st, s, w, cycle, node.unassigned, node.left_preds, node.type_count, rule, rng, nz)
                if last:
                    if len(tasks) != len(node.unassigned):
                        continue
                    return LineSolution(tuple([*node.out, (w, tuple(sorted(tasks)))]))
                unassigned = node.unassigned - set(tasks)
                free = [x for x in node.free if x != w]
                key = (frozenset(unassigned), frozenset(free))
                if key in seen:
                    continue
                assert look is not None
                rest, score = look.child(w, tasks)
                if rest > cycle * len(free):
                    continue
                if (p.task_type is not None or p.fixed_task is not None) and not _rest_coverable(
                    st, s, w, tasks, node.unassigned, node.free
                ):
                    continue
                seen.add(key)
                lp = list(node.left_preds)
                for t in tasks:
                    for sc in p.succs[t]:
                        lp[sc] -= 1
                tc = node.type_count
                if wtype is not None:
                    tc = dict(tc)
                    tc[wtype] = tc.get(wtype, 0) + 1
                children.append(_State([*node.out, (w, tuple(sorted(tasks)))], unassigned, lp, free, tc, score))
        if not children:
            return None
        if noise:
            children.sort(key=lambda c: c.rest * (1.0 + noise * 0.05 * rng.random()))
        else:
            children.sort(key=lambda c: c.rest)
        beam = children[:width]
    return None


def _use_compiled(st: _Static, t_end: float) -> bool:
    if not COMPILED or not st.simple or st.fixed_at:
        return False
    return "seamline.planning.balance.beam_kernel" in sys.modules or t_end - time.monotonic() >= COMPILED_MIN_S


class _Arrays:
    """The line as the compiled stations read it (``beam_kernel``), built once per problem."""

    def __init__(self, st: _Static) -> None:
        import numpy as np

        p = st.p
        n, k = p.num_tasks, p.num_workers
        self.tw = np.array([[KERNEL_INF if v is None else v for v in row] for row in p.times], dtype=np.int64)
        self.prio = np.array([[st.priorities(rule, w) for w in range(k)] for rule in BEAM_RULES], dtype=np.float64)
        self.spv = np.zeros((n, k), np.int64)
        self.spw = np.zeros((n, k), np.int64)
        self.spn = np.array([len(x) for x in st.speed], dtype=np.int64)
        for t, row in enumerate(st.speed):
            for j, (v, w) in enumerate(row):
                self.spv[t, j] = v
                self.spw[t, j] = w
        ptr = [0]
        idx: list[int] = []
        for t in range(n):
            idx.extend(p.succs[t])
            ptr.append(len(idx))
        self.succ_ptr = np.array(ptr, dtype=np.int64)
        self.succ_idx = np.array(idx, dtype=np.int64)
        zr = np.random.default_rng(12345)
        self.zob_task = zr.integers(0, 2**63, size=n, dtype=np.uint64)
        self.zob_worker = zr.integers(0, 2**63, size=k, dtype=np.uint64)
        self.lp0 = np.array([[len(x) for x in p.preds]], dtype=np.int16)


KERNEL_INF = 1 << 40  # "cannot" in the compiled stations: above any cycle, sums stay in int64


def _beam_compiled(
    st: _Static,
    cycle: int,
    width: int,
    rng: random.Random,
    noise: float,
    t_end: float,
    fills: int,
    relaxed: bool,
    rank_q: int,
    filled: list[int] | None = None,
) -> LineSolution | None:
    """``beam_construct`` with each station compiled (``beam_kernel.station``): the same rules."""
    import numpy as np

    from seamline.planning.balance.beam_kernel import station

    if st.arrays is None:
        st.arrays = _Arrays(st)
    a: Any = st.arrays
    p = st.p
    n, k = p.num_tasks, p.num_workers
    un = np.ones((1, n), np.uint8)
    lp = a.lp0.copy()
    fr = np.ones((1, k), np.uint8)
    sta = np.full((1, n), -1, np.int16)
    wat = np.full((1, k), -1, np.int16)
    hsh = np.zeros(1, np.uint64)
    for s in range(k):
        if filled is not None:
            filled[:] = [s]
        if time.monotonic() > t_end:
            return None
        last = s == k - 1
        if last and relaxed:
            return _complete(st, s, [_node_of(p, un[b], fr[b], sta[b], wat[b], s) for b in range(un.shape[0])])
        found, un, lp, fr, sta, wat, hsh = station(
            un, lp, fr, sta, wat, hsh, a.tw, a.prio, a.spv, a.spw, a.spn, a.succ_ptr, a.succ_idx,
            a.zob_task, a.zob_worker, s, int(cycle), int(width), float(noise), int(fills), int(rank_q),
            bool(last), rng.randrange(1 << 31), KERNEL_INF,
        )  # fmt: skip
        if found == 1:
            return _node_of(p, un[0], fr[0], sta[0], wat[0], s + 1).solution()
        if found == -2:
            return None
    return None


def warm_compiled() -> None:
    """Compile the stations (or load them from numba's cache) on a two-task line, every branch
    (a next beam, a plan found, no child), so a real search's clock never pays for it."""
    p = LineProblem(name="warm", times=((1, 2), (2, 1)), precedence=((0, 1),))
    st = _Static(p)
    for cycle in (2, 3, 0):
        _beam_compiled(st, cycle, 2, random.Random(0), 0.5, float("inf"), FILLS, False, 2)


def _node_of(p: LineProblem, un: Any, fr: Any, sta: Any, wat: Any, filled: int) -> _State:
    """A partial plan of the compiled beam as the Python beam's node (its first ``filled`` stations)."""
    by: list[list[int]] = [[] for _ in range(filled)]
    for t, x in enumerate(sta.tolist()):
        if 0 <= x < filled:
            by[x].append(t)
    out = [(int(wat[s]), tuple(by[s])) for s in range(filled)]
    return _State(out, {t for t in range(p.num_tasks) if un[t]}, [], [w for w in range(p.num_workers) if fr[w]], {}, 0)


def _complete(st: _Static, s: int, beam: list[_State]) -> LineSolution | None:
    """The last station takes whatever is left, over the cycle if need be (a start for ``relieve``)."""
    p = st.p
    best: tuple[int, LineSolution] | None = None
    for node in beam:
        for w in node.free:
            load = 0
            for t in node.unassigned:
                v = p.times[t][w]
                if v is None or not p.station_ok(t, s):
                    break
                load += v
            else:
                if best is None or load < best[0]:
                    best = (load, LineSolution(tuple([*node.out, (w, tuple(sorted(node.unassigned)))])))
    return None if best is None else best[1]


def beam_search(
    p: LineProblem,
    budget_s: float,
    seed: int = 0,
    incumbent: LineSolution | None = None,
    lower: int | None = None,
    width: int = 4,
    polish: Callable[[LineSolution], LineSolution] | None = None,
    stall_s: float | None = None,
) -> LineSolution | None:
    """The best plan the beam finds within ``budget_s``, searching the cycle time from above.

    ``polish`` improves each plan found (local descent, placing workers) before the next cycle is tried.
    ``stall_s``: give up after this long without a better plan (the time goes back to the caller).
    """

    def better(sol: LineSolution) -> LineSolution:
        if polish is None:
            return sol
        out = polish(sol)
        return out if out.cycle_time(p) <= sol.cycle_time(p) else sol

    t_end = time.monotonic() + budget_s
    st = _Static(p)
    rng = random.Random(seed)
    lb = p.lower_bound() if lower is None else lower
    best = incumbent
    hi = best.cycle_time(p) if best is not None else sum(max(v for v in row if v is not None) for row in p.times)
    if best is None:
        best = beam_construct(st, hi, width, rng, 0.0, t_end)
        if best is None:
            return None
        hi = best.cycle_time(p)
    lo = lb - 1  # the largest cycle known to fail (for the beam), below the bound at first
    # Bisection first: a failure at a cycle raises ``lo`` only for the deterministic beam.
    while hi - lo > 1 and time.monotonic() < t_end:
        mid = (lo + hi) // 2
        sol = beam_construct(st, mid, width, rng, 0.0, t_end, rank_q=2)
        if sol is None:
            sol = beam_construct(st, mid, width, rng, 0.0, t_end, rank_q=3)
        if sol is None:
            sol = beam_construct(st, mid, width, rng, 0.3, t_end, rank_q=1)
        if sol is not None:
            sol = better(sol)
            best, hi = sol, sol.cycle_time(p)
        else:
            lo = mid
    # Then: probabilistic beams just below the incumbent, wider after failures (the compiled
    # stations make a wide beam cheap, and wider beams find what narrow ones miss).
    w = width
    cap = MAX_WIDTH_COMPILED if _use_compiled(st, t_end) else 16 * width
    fails = 0
    last_gain = time.monotonic()
    ranks = _RankChooser(p.num_stations, rng)
    depth = [0]
    while time.monotonic() < t_end and hi > lb:
        if stall_s is not None and time.monotonic() - last_gain > stall_s:
            break
        # Every other try: build for a tighter cycle, let the last station overflow, and let the
        # local descent push the overflow back up the line.
        relax = polish is not None and p.task_type is None and p.fixed_task is None and fails % 2 == 1
        target = hi - 1 - (rng.randint(0, max(1, (hi - lb) // 10)) if relax else 0)
        q = ranks.pick()
        sol = beam_construct(st, target, w, rng, 0.5, t_end, relaxed=relax, rank_q=q, filled=depth)
        if sol is not None and relax:
            sol = better(sol)
            if sol.cycle_time(p) >= hi:
                sol = None
        # A relaxed beam always reaches the last station: only its successes say something.
        if not relax or sol is not None:
            ranks.tell(q, sol is not None, depth[0])
        if sol is not None:
            sol = better(sol)
            best, hi = sol, sol.cycle_time(p)
            last_gain = time.monotonic()
            fails = 0
            w = width
        else:
            fails += 1
            if fails % 3 == 0:
                w = min(cap, w * 2)
    return best


def relieve(p: LineProblem, sol: LineSolution, max_rounds: int = 10_000) -> LineSolution:
    """Local descent on the bottleneck: move one task off a station at the cycle time to any
    station its precedence allows (between its predecessors' and successors' stations) whose
    load stays below the cycle, or swap it with a task of another station when both fit; stop
    when no bottleneck station can be relieved. Each move lowers the cycle or the number of
    stations at it. Only for lines without machine types or fixed tasks (their rules are left to
    CP-SAT); zones are respected.
    """
    if p.task_type is not None or p.fixed_task is not None:
        return sol
    k = len(sol.stations)
    workers = [w for w, _ in sol.stations]
    tasks = [list(ts) for _, ts in sol.stations]
    at = [0] * p.num_tasks
    for s, ts in enumerate(tasks):
        for t in ts:
            at[t] = s
    times = p.times
    loads = [sum(times[t][workers[s]] or 0 for t in tasks[s]) for s in range(k)]

    def window(t: int) -> tuple[int, int]:
        lo = max((at[i] for i in p.preds[t]), default=0)
        hi = min((at[j] for j in p.succs[t]), default=k - 1)
        return lo, hi

    for _ in range(max_rounds):
        c = max(loads)
        moved = False
        for s in sorted(range(k), key=lambda x: -loads[x]):
            if loads[s] < c:
                break
            w = workers[s]
            best: tuple[int, int, int, int] | None = None  # (new max of the two, t, s2, t2)
            for t in tasks[s]:
                tw = times[t][w] or 0
                lo, hi = window(t)
                for s2 in range(lo, hi + 1):
                    if s2 == s or not p.station_ok(t, s2):
                        continue
                    v = times[t][workers[s2]]
                    if v is None:
                        continue
                    if loads[s2] + v < c:
                        cand = (max(loads[s] - tw, loads[s2] + v), t, s2, -1)
                        if best is None or cand < best:
                            best = cand
                        continue
                    # Swap with a task of s2 that may move to s.
                    for t2 in tasks[s2]:
                        v2 = times[t2][w]
                        if v2 is None or v2 >= tw or not p.station_ok(t2, s):
                            continue
                        new_s2 = loads[s2] + v - (times[t2][workers[s2]] or 0)
                        new_s = loads[s] - tw + v2
                        if max(new_s, new_s2) >= c:
                            continue
                        # precedence: t2 moves to s and t to s2 (t not a predecessor/successor of t2)
                        at[t] = s2
                        lo2, hi2 = window(t2)
                        at[t] = s
                        if not (lo2 <= s <= hi2) or t2 in p.succs[t] or t in p.succs[t2]:
                            continue
                        cand = (max(new_s, new_s2), t, s2, t2)
                        if best is None or cand < best:
                            best = cand
            if best is None:
                continue
            _, t, s2, t2 = best
            tasks[s].remove(t)
            tasks[s2].append(t)
            at[t] = s2
            if t2 >= 0:
                tasks[s2].remove(t2)
                tasks[s].append(t2)
                at[t2] = s
            loads[s] = sum(times[x][workers[s]] or 0 for x in tasks[s])
            loads[s2] = sum(times[x][workers[s2]] or 0 for x in tasks[s2])
            moved = True
            break
        if not moved:
            break
    return LineSolution(tuple((workers[s], tuple(sorted(tasks[s]))) for s in range(k)))
