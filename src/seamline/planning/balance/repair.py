"""The previous plan, repaired for today's line: the start of a re-balance.

A re-balance (someone absent, someone slower) should change few (worker, operation) pairs. Few
changes are made *by construction* here, not left to how far a timed search gets: every
operation part stays with the workers who held that operation before (in proportion to their
shares), stations keep their order, and only the work nobody present held (the absent worker's)
is placed anew — each part at the lightest station its precedence window, zone and machine type
allow. The search then starts from this plan and only ever accepts a shorter cycle, or the same
cycle with fewer changes, so a loaded machine gives a plan closer to the previous one, never a
scrambled one.
"""

from __future__ import annotations

from collections.abc import Sequence

from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import BalancePlan, LineProblem, LineSolution


def repair_previous(
    lp: LineProblem, tasks: Sequence[tuple[str, int, int]], badges: Sequence[str], previous: BalancePlan
) -> LineSolution | None:
    """The previous plan on ``lp`` (tasks = (op code, part, parts)), or None when it cannot be repaired.

    First with every present worker where she stood. When the absent worker's work fits nowhere
    between its predecessors and successors (e.g. the only stations able to take it stand after
    an operation that must follow it), one worker moves into the gap, nearest first, and her work
    is placed anew with the absent worker's: one person walks (the one giving the shortest cycle,
    the nearest among equals), the rest of the line stays.
    """
    k = lp.num_workers
    widx = {b: i for i, b in enumerate(badges)}
    order = [widx[b] for b in previous.stations if b in widx]
    order += [w for w in range(k) if w not in set(order)]
    if len(order) != k:
        return None
    sol = _repair(lp, tasks, widx, previous, order, None)
    if sol is not None:
        return sol
    absent = [i for i, b in enumerate(previous.stations) if b not in widx]
    if not absent:
        return None
    gap = sum(1 for b in previous.stations[: absent[0]] if b in widx)  # where the first absent stood
    best: tuple[int, int, LineSolution] | None = None  # (cycle, distance walked, plan)
    for w in range(k):
        moved = [x for x in order if x != w]
        moved.insert(min(gap, len(moved)), w)
        if moved == order:
            continue
        sol = _repair(lp, tasks, widx, previous, moved, w)
        if sol is not None:
            key = (sol.cycle_time(lp), abs(order.index(w) - gap))
            if best is None or key < best[:2]:
                best = (*key, sol)
    return None if best is None else best[2]


def _repair(
    lp: LineProblem,
    tasks: Sequence[tuple[str, int, int]],
    widx: dict[str, int],
    previous: BalancePlan,
    order: list[int],
    walker: int | None,
) -> LineSolution | None:
    """The previous plan with the stations in ``order``; the work of the absent and of ``walker``
    (the one who moved, if any) placed anew. None when it does not fit."""
    k = lp.num_workers
    station_of_worker = {w: s for s, w in enumerate(order)}
    holders: dict[str, list[tuple[int, float]]] = {}
    for a in previous.assignments:
        if a.badge in widx and a.share > 0 and widx[a.badge] != walker:
            holders.setdefault(a.op_code, []).append((widx[a.badge], a.share))
    at: dict[int, int] = {}  # task -> station
    by_op: dict[str, list[int]] = {}
    for t, (code, _, _) in enumerate(tasks):
        by_op.setdefault(code, []).append(t)
    for code, idx in by_op.items():
        hs = [(w, sh) for w, sh in holders.get(code, []) if all(lp.times[t][w] is not None for t in idx)]
        if not hs:
            continue
        hs.sort(key=lambda x: station_of_worker[x[0]])
        total = sum(sh for _, sh in hs)
        for i, t in enumerate(sorted(idx, key=lambda x: tasks[x][1])):
            mid = (i + 0.5) / len(idx) * total
            acc = 0.0
            holder = hs[-1][0]
            for w, sh in hs:
                acc += sh
                if mid <= acc + 1e-12:
                    holder = w
                    break
            at[t] = station_of_worker[holder]
    anc: list[set[int]] = [set() for _ in range(lp.num_tasks)]
    for t in lp.topo_order:
        for i in lp.preds[t]:
            anc[t] |= anc[i] | {i}
    loads = [0] * k
    wtype: list[str | None] = [None] * k
    for t, s in at.items():
        loads[s] += lp.times[t][order[s]] or 0
        ty = lp.type_of(t)
        if ty is not None:
            wtype[s] = ty
    for t in lp.topo_order:
        if t in at:
            continue
        lo = max((at[i] for i in anc[t] if i in at), default=0)
        hi = min((at[j] for j in lp.all_succs[t] if j in at), default=k - 1)
        ty = lp.type_of(t)

        best: tuple[int, int] | None = None
        for s in range(lo, hi + 1):
            v = _fits(lp, t, ty, s, order, wtype)
            if v is not None and (best is None or loads[s] + v < best[0]):
                best = (loads[s] + v, s)
        if best is None:
            # Nobody able between its placed predecessors and successors: the first able station
            # after the predecessors takes it, and the successors standing before it are lifted
            # and placed again in their turn (they come later in the topological order).
            later = [(s, v) for s in range(lo, k) if (v := _fits(lp, t, ty, s, order, wtype)) is not None]
            if not later:
                return None
            s, v = later[0]
            best = (loads[s] + v, s)
            for j in lp.all_succs[t]:
                if j in at and at[j] < s:
                    sj = at.pop(j)
                    loads[sj] -= lp.times[j][order[sj]] or 0
                    left = {lp.type_of(x) for x, y in at.items() if y == sj} - {None}
                    wtype[sj] = min(x for x in left if x is not None) if left else None
        s = best[1]
        at[t] = s
        loads[s] = best[0]
        if ty is not None:
            wtype[s] = ty
    sol = LineSolution(tuple((order[s], tuple(sorted(t for t, x in at.items() if x == s))) for s in range(k)))
    return sol if not check_line(lp, sol) else None


def _fits(lp: LineProblem, t: int, ty: str | None, s: int, order: list[int], wtype: list[str | None]) -> int | None:
    """Task ``t``'s time at station ``s`` when its worker may take it (ability, zone, machine), else None."""
    w = order[s]
    v = lp.times[t][w]
    if v is None or not lp.station_ok(t, s):
        return None
    if lp.fixed_task is not None and lp.fixed_task[t] not in (None, w):
        return None
    if ty is not None and wtype[s] not in (None, ty):
        return None
    if (
        ty is not None
        and wtype[s] is None
        and ty in lp.machines
        and sum(1 for x in wtype if x == ty) >= lp.machines[ty]
    ):
        return None
    return v
