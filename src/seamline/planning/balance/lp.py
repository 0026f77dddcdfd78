"""Exact shares for fixed machine types (a linear programme), and a local search over the types.

Once every worker's machine type is fixed, the best split of operations is a small LP:
minimise C subject to Σ_w x[w,o] = 1 and Σ_o x[w,o]·sam_o/eff[w,o] ≤ C. HiGHS returns a vertex,
which has at most (operations + workers) non-zero shares — a tidy plan. The hard, combinatorial
part is who sits at which machine; a first-improvement local search moves or swaps workers between
types while the LP says the cycle gets shorter.
"""

from __future__ import annotations

import random
import time

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from seamline.planning.balance.data import BalanceProblem
from seamline.planning.balance.greedy import Shares


def lp_shares(
    p: BalanceProblem, elig: dict[tuple[str, str], float], types: dict[str, str | None]
) -> tuple[float, Shares] | None:
    """Shortest cycle and its shares for these machine types; None when some op is uncovered."""
    opmap = p.style.op_map()
    pairs = [
        (b, c) for (b, c) in elig if opmap[c].machine_type in p.flexible_types or types.get(b) == opmap[c].machine_type
    ]
    ops = [o.code for o in p.style.operations]
    badges = [w.badge for w in p.workers]
    if any(not any(c == code for _, c in pairs) for code in ops):
        return None
    n = len(pairs)
    oi = {c: i for i, c in enumerate(ops)}
    wi = {b: i for i, b in enumerate(badges)}
    cost = np.array([opmap[c].sam_min / elig[(b, c)] for b, c in pairs])
    a_eq = csr_matrix((np.ones(n), ([oi[c] for _, c in pairs], range(n))), shape=(len(ops), n + 1))
    rows = [wi[b] for b, _ in pairs] + list(range(len(badges)))
    cols = list(range(n)) + [n] * len(badges)
    vals = list(cost) + [-1.0] * len(badges)
    a_ub = csr_matrix((vals, (rows, cols)), shape=(len(badges), n + 1))
    obj = np.zeros(n + 1)
    obj[n] = 1.0
    res = linprog(
        obj,
        A_ub=a_ub,
        b_ub=np.zeros(len(badges)),
        A_eq=a_eq,
        b_eq=np.ones(len(ops)),
        bounds=[(0, 1)] * n + [(0, None)],
        method="highs",
    )
    if res.status != 0:
        return None
    shares: Shares = {}
    for k, v in zip(pairs, res.x[:n], strict=True):
        if v > 1e-7:
            shares[k] = float(v)
    # Normalise away solver round-off so each operation's shares sum to exactly one.
    totals: dict[str, float] = {}
    for (_, c), v in shares.items():
        totals[c] = totals.get(c, 0.0) + v
    shares = {k: v / totals[k[1]] for k, v in shares.items()}
    return float(res.x[n]), shares


def improve_types(
    p: BalanceProblem, elig: dict[tuple[str, str], float], types: dict[str, str | None], deadline: float, seed: int = 0
) -> tuple[dict[str, str | None], float, Shares] | None:
    """Local search on machine types (moves and swaps) under the LP cycle, until ``deadline``."""
    opmap = p.style.op_map()
    fixed_types = sorted({o.machine_type for o in p.style.operations if o.machine_type not in p.flexible_types})
    can = {
        w.badge: [
            t for t in fixed_types if any((w.badge, o.code) in elig for o in p.style.operations if o.machine_type == t)
        ]
        for w in p.workers
    }
    cur = dict(types)
    start = lp_shares(p, elig, cur)
    if start is None:
        return None
    best_c, best_s = start
    rng = random.Random(seed)

    def ok(ts: dict[str, str | None]) -> bool:
        return all(sum(1 for v in ts.values() if v == t) <= limit for t, limit in p.machines.items())

    def descend(
        cur: dict[str, str | None], best_c: float, best_s: Shares
    ) -> tuple[dict[str, str | None], float, Shares]:
        improved = True
        while improved and time.monotonic() < deadline:
            improved = False
            # Workers on the bottleneck's type are the first to relieve; then everyone else.
            loads: dict[str, float] = {}
            for (b, c), s in best_s.items():
                loads[b] = loads.get(b, 0.0) + s * opmap[c].sam_min / elig[(b, c)]
            badges = sorted(cur, key=lambda b: loads.get(b, 0.0))
            rng.shuffle(badges[len(badges) // 2 :])
            moves: list[dict[str, str | None]] = []
            for b in badges:
                for t in can[b]:
                    if t != cur[b]:
                        moves.append({b: t})
            for a_i, a in enumerate(badges[:8]):
                for b in badges[a_i + 1 :]:
                    if cur[a] != cur[b] and cur[b] in can[a] and cur[a] in can[b]:
                        moves.append({a: cur[b], b: cur[a]})
            for mv in moves:
                if time.monotonic() >= deadline:
                    break
                trial = {**cur, **mv}
                if not ok(trial):
                    continue
                r = lp_shares(p, elig, trial)
                if r is not None and r[0] < best_c - 1e-7:
                    cur, (best_c, best_s) = trial, r
                    improved = True
                    break
        return cur, best_c, best_s

    cur, best_c, best_s = descend(cur, best_c, best_s)
    # Iterated local search: kick two workers to other types they can run, descend, keep the best.
    movable = [b for b in cur if len(can[b]) > 1]
    while movable and time.monotonic() < deadline:
        trial = dict(cur)
        for b in rng.sample(movable, min(2, len(movable))):
            trial[b] = rng.choice([t for t in can[b] if t != cur[b]])
        r = lp_shares(p, elig, trial) if ok(trial) else None
        if r is None:
            continue
        t_cur, t_c, t_s = descend(trial, r[0], r[1])
        if t_c < best_c - 1e-7:
            cur, best_c, best_s = t_cur, t_c, t_s
    return cur, best_c, best_s
