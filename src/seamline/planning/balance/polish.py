"""Pure-Python finishing of a line plan: the best placing of workers and the bottleneck descent.

Kept apart from ``solver`` (which imports CP-SAT) so that the portfolio's forked search process
can polish its plans without importing the solver library.
"""

from __future__ import annotations

from seamline.planning.balance.beam import relieve
from seamline.planning.balance.data import LineProblem, LineSolution


def _key(p: LineProblem, sol: LineSolution) -> tuple[int, int, int]:
    """Lexicographic quality: cycle, then soft cost, then how many stations sit at the cycle."""
    loads = sol.loads(p)
    c = max(loads, default=0)
    return c, sol.soft_cost(p), sum(1 for v in loads if v == c)


def reassign_workers(p: LineProblem, sol: LineSolution) -> LineSolution:
    """The best placing of workers onto the stations' task groups (tasks stay at their stations).

    A bottleneck assignment problem, solved exactly: the smallest threshold for which the
    (worker, station) pairs within it hold a perfect matching (augmenting paths). Precedence and
    zones do not depend on who stands where, so the result is feasible whenever ``sol`` is.
    """
    k = p.num_stations
    cost: list[list[int | None]] = []
    for _, ts in sol.stations:
        row: list[int | None] = []
        for w in range(k):
            c: int | None = 0
            for t in ts:
                tw = p.times[t][w]
                if tw is None or (p.fixed_task is not None and p.fixed_task[t] not in (None, w)):
                    c = None
                    break
                assert c is not None
                c += tw
            if p.worker_station is not None and p.worker_station[w] not in (None, len(cost)):
                c = None
            row.append(c)
        cost.append(row)
    current = [w for w, _ in sol.stations]

    def matching(limit: int) -> list[int] | None:
        owner: dict[int, int] = {}  # worker -> station

        def aug(s: int, seen: set[int]) -> bool:
            # the current worker first, so ties keep people where they are
            order = [current[s]] + [w for w in range(k) if w != current[s]]
            for w in order:
                c = cost[s][w]
                if c is None or c > limit or w in seen:
                    continue
                seen.add(w)
                if w not in owner or aug(owner[w], seen):
                    owner[w] = s
                    return True
            return False

        for s in range(k):
            if not aug(s, set()):
                return None
        at = [0] * k
        for w, s in owner.items():
            at[s] = w
        return at

    values = sorted({c for row in cost for c in row if c is not None})
    lo, hi = 0, len(values) - 1
    best_at: list[int] | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        at = matching(values[mid])
        if at is not None:
            best_at, hi = at, mid - 1
        else:
            lo = mid + 1
    if best_at is None:
        return sol
    return LineSolution(tuple((best_at[s], ts) for s, (_, ts) in enumerate(sol.stations)))


def polish(p: LineProblem, sol: LineSolution) -> LineSolution:
    """Local descent on the bottleneck and the best placing of workers, alternated until neither helps."""
    best = sol
    while True:
        cand = reassign_workers(p, relieve(p, best))
        if _key(p, cand) >= _key(p, best):
            return best
        best = cand
