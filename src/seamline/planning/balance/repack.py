"""Window repacking: relieve a bottleneck station by re-solving a few stations around it exactly.

The tabu search moves one task or swaps one pair at a time; near the optimum the last unit of
cycle often needs several tasks and workers rearranged at once over neighbouring stations. This
large neighbourhood takes a window of consecutive stations around a station at the cycle C,
keeps everything outside it, and asks whether the window's tasks and workers fit its stations
with every load ≤ C − 1 — a small ALWABP-2 of its own, answered by the station-oriented depth-first
search (``station_dfs``, plain depth first with maximal loads, the slack bound and a memo), which
with caps that do not bind is exact for the window. Tasks of a window stay inside it, so
precedence with the stations outside holds by construction, and zones and fixed seats carry over
shifted to the window.

Every success removes one station at the cycle (the cycle drops when none is left), so the result
is never worse than the plan it starts from by ``polish._key``. Pure Python: the portfolio's search
process runs it between its tabu rounds (the engine's CP-SAT windows play this part there).
"""

from __future__ import annotations

import time

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.station_dfs import station_dfs

MAX_WIDTH = 8  # stations in a window at most; windows are tried smallest first (cheap and exact)
MAX_TASKS = 40  # tasks in a window at most: the search's cost grows with them, not with stations
WINDOW_NODES = 400  # node budget of one window's search
WINDOW_STEPS = 20_000  # load-enumeration steps per (partial window, worker)
WINDOW_LOADS = 10_000  # loads per (partial window, worker): in practice no cap


def _window_problem(p: LineProblem, sol: LineSolution, lo: int, hi: int) -> tuple[LineProblem, list[int], list[int]]:
    """The stations lo..hi of ``sol`` as a line of their own: (problem, its tasks, its workers)."""
    tasks = sorted(t for s in range(lo, hi + 1) for t in sol.stations[s][1])
    workers = [sol.stations[s][0] for s in range(lo, hi + 1)]
    ti = {t: i for i, t in enumerate(tasks)}
    wi = {w: j for j, w in enumerate(workers)}
    times = tuple(tuple(p.times[t][w] for w in workers) for t in tasks)
    prec = tuple((ti[i], ti[j]) for i, j in p.precedence if i in ti and j in ti)
    allowed = None
    if p.allowed is not None:
        allowed = tuple(
            None if p.allowed[t] is None else frozenset(s - lo for s in p.allowed[t] if lo <= s <= hi)  # type: ignore[union-attr]
            for t in tasks
        )
    seats = None
    if p.worker_station is not None:
        seats = tuple(None if p.worker_station[w] is None else p.worker_station[w] - lo for w in workers)  # type: ignore[operator]
    fixed = None
    if p.fixed_task is not None:
        fixed = tuple(None if p.fixed_task[t] is None else wi[p.fixed_task[t]] for t in tasks)  # type: ignore[index]
    sub = LineProblem(
        name=f"{p.name}[{lo}:{hi}]",
        times=times,
        precedence=prec,
        allowed=allowed,
        worker_station=seats,
        fixed_task=fixed,
    )
    return sub, tasks, workers


def repack_window(
    p: LineProblem, sol: LineSolution, lo: int, hi: int, target: int, deadline: float | None = None
) -> LineSolution | None:
    """``sol`` with stations lo..hi re-solved so that each of their loads is ≤ ``target``, or None
    when the window's search finds no such packing within its budget (or by ``deadline``)."""
    sub, tasks, workers = _window_problem(p, sol, lo, hi)
    res = station_dfs(
        sub,
        target,
        max_nodes=WINDOW_NODES,
        deadline=deadline,
        exhaustive=True,
        load_cap=WINDOW_LOADS,
        step_cap=WINDOW_STEPS,
    )
    if res.line is None:
        return None
    out = list(sol.stations)
    for j, (w, ts) in enumerate(res.line.stations):
        out[lo + j] = (workers[w], tuple(sorted(tasks[t] for t in ts)))
    return LineSolution(tuple(out))


def repack(
    p: LineProblem, sol: LineSolution, *, deadline: float, max_width: int = MAX_WIDTH, max_tasks: int = MAX_TASKS
) -> LineSolution:
    """Relieve stations at the cycle one at a time by window repacking until no window helps (or
    ``deadline``, a ``time.monotonic()`` instant, passes). Windows of 2 to ``max_width``
    stations holding at most ``max_tasks`` tasks, smallest first. Never worse than ``sol``."""
    k = len(sol.stations)
    best = sol
    while time.monotonic() < deadline:
        loads = best.loads(p)
        c = max(loads, default=0)
        if c <= 0:
            break
        improved = False
        for s in [x for x in range(k) if loads[x] == c]:
            counts = [len(ts) for _, ts in best.stations]
            for width in range(2, min(max_width, k) + 1):
                for lo in range(max(0, s - width + 1), min(s, k - width) + 1):
                    if sum(counts[lo : lo + width]) > max_tasks:
                        continue
                    if time.monotonic() >= deadline:
                        return best
                    got = repack_window(p, best, lo, lo + width - 1, c - 1, deadline)
                    if got is not None:
                        best = got
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
        if not improved:
            break
    return best
