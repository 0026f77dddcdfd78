"""Tabu search on the critical path of a classic job shop (after Nowicki & Smutnicki's TSAB).

CP-SAT alone on two cores proves the small shops optimal in seconds but on shops of 20+ jobs
ends a 10-s budget 5–20 % above the best known makespans; there a local search on the
disjunctive graph is what the literature runs. A schedule is one sequence per machine; its
makespan is the longest path of the graph "job order + machine order", each operation starting
at its head r (longest path to it) and followed by its tail q (longest path after it). The
search moves on the critical path only: a critical path splits into *blocks* (runs of operations
on one machine), and only swapping the first two or the last two operations of a block can
shorten it (the N5 neighbourhood; the first block's first pair and the last block's last pair
cannot). Such a swap never makes the graph cyclic. Each candidate is valued by the standard
estimate from the heads and tails around the pair (exact whenever the move does not shorten the
makespan below the old paths it misses); the best move not tabu is taken even when it is worse
(a swapped pair may not swap back for a few iterations, unless that beats the best), so the
search crosses plateaus; after a long run without a better makespan it goes back to the best
schedule and shakes it with a few random critical swaps.

Pure Python on lists (one pass over the operations per iteration for heads and tails): a few
hundred iterations a second on 20×20, so the solver runs it in a forked process beside CP-SAT
(``solver.solve_shop``). Repeatable for a seed and ``max_iters``. Classic job shops only (one
machine per operation).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule

STALL = 2500  # iterations without a better makespan before going back to the best and shaking it
KICK = 3  # random critical swaps of a shake
TRADE_S = 0.05  # seconds between calls of ``trade`` while the best does not change
TENURE_BASE = 10  # tabu tenure ≈ TENURE_BASE + jobs / machines, drawn from [L, 1.5 L]


def applicable(inst: ShopInstance) -> bool:
    return not inst.is_flexible and inst.num_ops > 1


class _Graph:
    """Machine sequences with the heads, tails and critical path of the disjunctive graph."""

    def __init__(self, inst: ShopInstance, seqs: list[list[int]]) -> None:
        self.d: list[int] = []
        self.mach: list[int] = []
        self.jp: list[int] = []
        self.js: list[int] = []
        self.key: list[tuple[int, int]] = []
        for j, ops in enumerate(inst.jobs):
            base = len(self.d)
            for k, modes in enumerate(ops):
                self.d.append(modes[0].duration)
                self.mach.append(modes[0].machine)
                self.jp.append(base + k - 1 if k > 0 else -1)
                self.js.append(base + k + 1 if k + 1 < len(ops) else -1)
                self.key.append((j, k))
        self.n = len(self.d)
        self.seqs = [list(s) for s in seqs]
        self.mp = [-1] * self.n
        self.ms = [-1] * self.n
        for s in self.seqs:
            for a, b in itertools.pairwise(s):
                self.ms[a] = b
                self.mp[b] = a
        self.r = [0] * self.n
        self.q = [0] * self.n
        self.cmax = 0

    def evaluate(self) -> bool:
        """Heads, tails and makespan; False when the graph has a cycle."""
        n, d, jp, js, mp, ms = self.n, self.d, self.jp, self.js, self.mp, self.ms
        indeg = [(jp[o] >= 0) + (mp[o] >= 0) for o in range(n)]
        stack = [o for o in range(n) if indeg[o] == 0]
        r = [0] * n
        order: list[int] = []
        while stack:
            o = stack.pop()
            order.append(o)
            e = r[o] + d[o]
            s = js[o]
            if s >= 0:
                if r[s] < e:
                    r[s] = e
                indeg[s] -= 1
                if indeg[s] == 0:
                    stack.append(s)
            s = ms[o]
            if s >= 0:
                if r[s] < e:
                    r[s] = e
                indeg[s] -= 1
                if indeg[s] == 0:
                    stack.append(s)
        if len(order) < n:
            return False
        q = [0] * n
        for o in reversed(order):
            best = 0
            s = js[o]
            if s >= 0:
                best = q[s] + d[s]
            s = ms[o]
            if s >= 0 and q[s] + d[s] > best:
                best = q[s] + d[s]
            q[o] = best
        self.r, self.q = r, q
        self.cmax = max(r[o] + d[o] for o in range(n))
        return True

    def blocks(self, rng: random.Random) -> list[list[int]]:
        """The blocks of one critical path (ties between predecessors broken at random)."""
        r, d, jp, mp, cmax = self.r, self.d, self.jp, self.mp, self.cmax
        ends = [o for o in range(self.n) if r[o] + d[o] == cmax]
        o = rng.choice(ends)
        path = [o]
        while r[o] > 0:
            cands = [p for p in (mp[o], jp[o]) if p >= 0 and r[p] + d[p] == r[o]]
            o = cands[0] if len(cands) == 1 else rng.choice(cands)
            path.append(o)
        path.reverse()
        out: list[list[int]] = [[path[0]]]
        for a, b in itertools.pairwise(path):
            if self.ms[a] == b:
                out[-1].append(b)
            else:
                out.append([b])
        return out

    def moves(self, blocks: list[list[int]]) -> list[tuple[int, int]]:
        """N5: the first and last pairs of each block, except the first block's first pair and
        the last block's last pair."""
        out: list[tuple[int, int]] = []
        last = len(blocks) - 1
        for i, b in enumerate(blocks):
            if len(b) < 2:
                continue
            if i > 0:
                out.append((b[0], b[1]))
            if i < last and (len(b) > 2 or i == 0):
                out.append((b[-2], b[-1]))
        # a job that visits a machine twice in a row: those two may never swap
        return [(u, v) for u, v in out if self.js[u] != v]

    def estimate(self, u: int, v: int) -> int:
        """Makespan of the longest path through u or v once v goes before u (adjacent, u first)."""
        r, q, d, jp, js = self.r, self.q, self.d, self.jp, self.js
        a, b = self.mp[u], self.ms[v]
        x = jp[v]
        rv = r[x] + d[x] if x >= 0 else 0
        if a >= 0 and r[a] + d[a] > rv:
            rv = r[a] + d[a]
        x = jp[u]
        ru = r[x] + d[x] if x >= 0 else 0
        if rv + d[v] > ru:
            ru = rv + d[v]
        x = js[u]
        qu = q[x] + d[x] if x >= 0 else 0
        if b >= 0 and q[b] + d[b] > qu:
            qu = q[b] + d[b]
        x = js[v]
        qv = q[x] + d[x] if x >= 0 else 0
        if qu + d[u] > qv:
            qv = qu + d[u]
        return max(rv + d[v] + qv, ru + d[u] + qu)

    def swap(self, u: int, v: int) -> None:
        """v goes just before u on their machine (u was just before v)."""
        a, b = self.mp[u], self.ms[v]
        if a >= 0:
            self.ms[a] = v
        if b >= 0:
            self.mp[b] = u
        self.mp[v], self.ms[v] = a, u
        self.mp[u], self.ms[u] = v, b
        s = self.seqs[self.mach[u]]
        i = s.index(u)
        s[i], s[i + 1] = v, u

    def schedule(self) -> ShopSchedule:
        """The semi-active schedule of the sequences (every operation at its head)."""
        return ShopSchedule(
            tuple(
                ScheduledOp(j, k, self.mach[o], self.r[o], self.r[o] + self.d[o]) for o, (j, k) in enumerate(self.key)
            )
        )


def _sequences(inst: ShopInstance, sched: ShopSchedule) -> list[list[int]]:
    base: list[int] = []
    acc = 0
    for ops in inst.jobs:
        base.append(acc)
        acc += len(ops)
    seqs: list[list[tuple[int, int, int]]] = [[] for _ in range(inst.num_machines)]
    for o in sched.ops:
        seqs[o.machine].append((o.start, o.end, base[o.job] + o.op))
    return [[x[2] for x in sorted(s)] for s in seqs]


def tabu_search(
    inst: ShopInstance,
    start: ShopSchedule,
    *,
    deadline: float | None = None,
    max_iters: int | None = None,
    lower: int = 0,
    seed: int = 0,
    trade: Callable[[ShopSchedule], ShopSchedule | None] | None = None,
) -> ShopSchedule:
    """The best schedule found from ``start`` (never worse), until ``deadline``/``max_iters`` or a
    makespan of ``lower``. ``trade`` is called with the best schedule whenever it improves and
    every ``TRADE_S`` seconds; it may return a better schedule found elsewhere, which the search
    then continues from."""
    if not applicable(inst):
        return start
    rng = random.Random(seed)
    g = _Graph(inst, _sequences(inst, start))
    if not g.evaluate():
        return start
    best_seqs = [list(s) for s in g.seqs]
    best_c = g.cmax
    best_sched = start if start.makespan <= best_c else g.schedule()
    best_c = min(best_c, start.makespan)
    tenure = TENURE_BASE + inst.num_jobs // max(1, inst.num_machines)
    tabu: dict[tuple[int, int], int] = {}
    it = 0
    since = 0
    next_trade = time.monotonic() + TRADE_S
    while best_c > lower:
        if max_iters is not None and it >= max_iters:
            break
        if deadline is not None and it % 8 == 0 and time.monotonic() > deadline:
            break
        it += 1
        blocks = g.blocks(rng)
        cand = g.moves(blocks)
        pick: tuple[int, float, int, int] | None = None
        for u, v in cand:
            est = g.estimate(u, v)
            if tabu.get((v, u), 0) > it and est >= best_c:
                continue
            key = (est, rng.random(), u, v)
            if pick is None or key < pick:
                pick = key
        if pick is None:
            if not cand:  # one block: the makespan is one machine's load, a lower bound
                break
            u, v = rng.choice(cand)
        else:
            u, v = pick[2], pick[3]
        g.swap(u, v)
        if not g.evaluate():  # cannot happen for two jobs' operations; undone all the same
            g.swap(v, u)
            g.evaluate()
            tabu[(v, u)] = it + tenure
            continue
        tabu[(u, v)] = it + rng.randint(tenure, tenure + tenure // 2)
        since += 1
        other: ShopSchedule | None = None
        if g.cmax < best_c:
            best_c = g.cmax
            best_seqs = [list(s) for s in g.seqs]
            best_sched = g.schedule()
            since = 0
            if trade is not None:
                other = trade(best_sched)
                next_trade = time.monotonic() + TRADE_S
        elif trade is not None and it % 32 == 0 and time.monotonic() > next_trade:
            other = trade(best_sched)
            next_trade = time.monotonic() + TRADE_S
        if other is not None and other.makespan < best_c:
            # a better schedule from elsewhere: continue from it
            g2 = _Graph(inst, _sequences(inst, other))
            if g2.evaluate():
                g = g2
                best_sched, best_c = other, min(other.makespan, g.cmax)
                best_seqs = [list(s) for s in g.seqs]
                tabu.clear()
                since = 0
        if since >= STALL:
            since = 0
            tabu.clear()
            g = _Graph(inst, best_seqs)
            g.evaluate()
            for _ in range(KICK):
                mv = g.moves(g.blocks(rng))
                if not mv:
                    break
                u, v = rng.choice(mv)
                g.swap(u, v)
                if not g.evaluate():
                    g.swap(v, u)
                    g.evaluate()
    return best_sched
