"""A fast greedy balance: the starting point hinted into CP-SAT, and a fallback answer.

Workers are shared out to machine types in proportion to each type's work content (D'Hondt
rounding, at least one per type), then a binary search on the cycle time fills operations into
workers in bulletin order, splitting an operation when a worker reaches the cycle — the way an
industrial engineer balances on paper, done a few dozen times.
"""

from __future__ import annotations

from collections import defaultdict

from seamline.planning.balance.data import BalanceProblem

Shares = dict[tuple[str, str], float]


def assign_types(p: BalanceProblem, elig: dict[tuple[str, str], float]) -> dict[str, str | None]:
    """Machine type per worker, roughly proportional to the minutes of work on each type."""
    ops = [o for o in p.style.operations if o.machine_type not in p.flexible_types]
    work: dict[str, float] = defaultdict(float)
    for o in ops:
        work[o.machine_type] += o.sam_min
    can: dict[str, list[str]] = defaultdict(list)  # type -> badges able to do any of its ops
    for w in p.workers:
        for t in work:
            if any((w.badge, o.code) in elig for o in ops if o.machine_type == t):
                can[t].append(w.badge)
    free = {w.badge for w in p.workers}
    out: dict[str, str | None] = {w.badge: None for w in p.workers}
    count: dict[str, int] = defaultdict(int)

    def score(badge: str, t: str) -> float:
        es = [elig.get((badge, o.code), 0.0) for o in ops if o.machine_type == t]
        # Cover all the type's operations first, then prefer high efficiency and few other skills.
        covered = sum(1 for e in es if e > 0) / len(es)
        others = sum(1 for tt in work if tt != t and badge in can[tt])
        return covered * 10 + sum(es) / len(es) - 0.05 * others

    def take(t: str) -> bool:
        limit = p.machines.get(t)
        if limit is not None and count[t] >= limit:
            return False
        pool = [b for b in can[t] if b in free]
        if not pool:
            return False
        b = max(pool, key=lambda b: (score(b, t), b))
        free.discard(b)
        out[b] = t
        count[t] += 1
        return True

    # Scarce types first so that their few capable workers are not taken elsewhere.
    for t in sorted(work, key=lambda t: len(can[t])):
        take(t)
    closed: set[str] = set()
    while free and len(closed) < len(work):
        t = max((t for t in work if t not in closed), key=lambda t: work[t] / (count[t] + 1))
        if not take(t):
            closed.add(t)
    return out


def fill(
    p: BalanceProblem, elig: dict[tuple[str, str], float], types: dict[str, str | None], cycle_min: float
) -> Shares | None:
    """Shares that keep every worker within ``cycle_min``, or None if this greedy cannot."""
    load: dict[str, float] = {w.badge: 0.0 for w in p.workers}
    shares: Shares = {}
    by_type: dict[str | None, list[str]] = defaultdict(list)
    for b, t in types.items():
        by_type[t].append(b)
    order = p.style.topological_order()
    opmap = p.style.op_map()
    flexible = [c for c in order if opmap[c].machine_type in p.flexible_types]
    fixed = [c for c in order if opmap[c].machine_type not in p.flexible_types]
    for code in fixed + flexible:
        op = opmap[code]
        if op.machine_type in p.flexible_types:
            pool = sorted((b for b in load if (b, code) in elig), key=lambda b: load[b])
        else:
            pool = [b for b in by_type[op.machine_type] if (b, code) in elig]
        left = 1.0
        for b in pool:
            if left <= 1e-9:
                break
            per_piece = op.sam_min / elig[(b, code)]
            cap = (cycle_min - load[b]) / per_piece
            if cap <= 1e-6:
                continue
            s = min(left, cap)
            shares[(b, code)] = shares.get((b, code), 0.0) + s
            load[b] += s * per_piece
            left -= s
        if left > 1e-9:
            return None
    return shares


def greedy_balance(
    p: BalanceProblem, elig: dict[tuple[str, str], float]
) -> tuple[dict[str, str | None], Shares] | None:
    """Types and shares with the smallest cycle this greedy finds (binary search on the cycle)."""
    types = assign_types(p, elig)
    total = sum(
        o.sam_min / max(e for (_, c), e in elig.items() if c == o.code)
        for o in p.style.operations
        if any(c == o.code for (_, c) in elig)
    )
    lo = total / max(1, len(p.workers))
    hi = sum(
        o.sam_min / min(e for (_, c), e in elig.items() if c == o.code)
        for o in p.style.operations
        if any(c == o.code for (_, c) in elig)
    )
    best = fill(p, elig, types, hi * 1.001)
    if best is None:
        return None
    for _ in range(40):
        mid = (lo + hi) / 2
        s = fill(p, elig, types, mid)
        if s is None:
            lo = mid
        else:
            hi, best = mid, s
        if hi - lo < 1e-4 * hi:
            break
    return types, best
