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
is never worse than the plan it starts from by ``polish._key``. No CP-SAT: the portfolio's search
process runs it between its tabu rounds (the engine's CP-SAT windows play this part there), its
windows searched compiled (``dfs_kernel``) since numba is loaded there for the beam's levels.

Which windows, and how hard each is searched, is what decides whether a pass finds anything
(session 13): a window's search costs from a tenth of a millisecond to several milliseconds a
node, and the window that helps is often one of six or seven stations that a first search of a
few dozen nodes answers. So the windows are searched by iterative deepening — a sweep over all of
them with a small node budget, widest first, then again with twice the budget for those that
neither found a packing nor proved there is none — and a ``RepackMemo`` keeps the budgets and the
proofs from one pass to the next. Before, each pass went smallest first with a fixed budget and
spent its second on the same few small windows every time: on wee-mag-21 the window that
relieves cycle 49 (stations 4-9, 39 tasks, found in 0.01 s) was never reached.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.station_dfs import station_dfs

MAX_WIDTH = 8  # stations in a window at most
MAX_TASKS = 64  # tasks in a window at most (40 before the deepening: wee-mag-1's helping windows hold 42-70)
WINDOW_NODES = 50  # node budget of a window's first search; each retry doubles it
MAX_TRIES = 6  # doublings at most (3,200 nodes)
WINDOW_STEPS = 20_000  # load-enumeration steps per (partial window, worker)
WINDOW_LOADS = 10_000  # loads per (partial window, worker): in practice no cap
WIDEST_FIRST = True  # within a sweep: wider windows hold more ways to relieve a station


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
    p: LineProblem,
    sol: LineSolution,
    lo: int,
    hi: int,
    target: int,
    deadline: float | None = None,
    max_nodes: int = WINDOW_NODES,
) -> LineSolution | None:
    """``sol`` with stations lo..hi re-solved so that each of their loads is ≤ ``target``, or None
    when the window's search finds no such packing within ``max_nodes`` (or by ``deadline``)."""
    got, _ = _search_window(p, sol, lo, hi, target, deadline, max_nodes)
    return got


def _search_window(
    p: LineProblem, sol: LineSolution, lo: int, hi: int, target: int, deadline: float | None, max_nodes: int
) -> tuple[LineSolution | None, bool]:
    """(the repacked plan or None, whether None is proven: no packing of the window exists)."""
    sub, tasks, workers = _window_problem(p, sol, lo, hi)
    res = station_dfs(
        sub,
        target,
        max_nodes=max_nodes,
        deadline=deadline,
        exhaustive=True,
        load_cap=WINDOW_LOADS,
        step_cap=WINDOW_STEPS,
    )
    if res.line is None:
        return None, res.proved
    out = list(sol.stations)
    for j, (w, ts) in enumerate(res.line.stations):
        out[lo + j] = (workers[w], tuple(sorted(tasks[t] for t in ts)))
    return LineSolution(tuple(out)), False


# A window's question depends only on its stations (worker and tasks, in order) and the target.
WindowKey = tuple[int, tuple[tuple[int, tuple[int, ...]], ...]]


@dataclass
class RepackMemo:
    """What earlier passes learnt about windows, kept across the calls of one search: the
    windows proven to have no packing, and how often each other one ran out of its budget (its
    next try gets twice the nodes). Between tabu rounds the plan is often the same best plan, and
    without this every pass re-asks the same small windows first and spends its time before the
    wider ones (wee-mag-21: the one window that relieves 49, six stations, came after two
    five-station windows that each took the whole pass's second)."""

    proven: set[WindowKey] = field(default_factory=set)
    tries: dict[WindowKey, int] = field(default_factory=dict)


def _windows(p: LineProblem, sol: LineSolution, c: int, max_width: int, max_tasks: int) -> list[tuple[int, int]]:
    """Every window (lo, hi) of 2..``max_width`` consecutive stations around a station at the
    cycle ``c`` holding at most ``max_tasks`` tasks, widest first (smallest first when not
    ``WIDEST_FIRST``)."""
    loads = sol.loads(p)
    k = len(sol.stations)
    counts = [len(ts) for _, ts in sol.stations]
    out: list[tuple[int, int]] = []
    for s in [x for x in range(k) if loads[x] == c]:
        for width in range(2, min(max_width, k) + 1):
            for lo in range(max(0, s - width + 1), min(s, k - width) + 1):
                if sum(counts[lo : lo + width]) <= max_tasks and (lo, lo + width - 1) not in out:
                    out.append((lo, lo + width - 1))
    out.sort(key=lambda w: w[1] - w[0], reverse=WIDEST_FIRST)
    return out


def repack(
    p: LineProblem,
    sol: LineSolution,
    *,
    deadline: float,
    max_width: int = MAX_WIDTH,
    max_tasks: int = MAX_TASKS,
    memo: RepackMemo | None = None,
) -> LineSolution:
    """Relieve stations at the cycle one at a time by window repacking until no window can help
    (or ``deadline``, a ``time.monotonic()`` instant, passes). Windows of 2 to ``max_width``
    stations holding at most ``max_tasks`` tasks, by iterative deepening: every window first
    gets ``WINDOW_NODES`` nodes, a window that neither found a packing nor proved there is none
    gets twice as many in the next sweep (up to ``MAX_TRIES`` doublings), widest first within
    a sweep (``WIDEST_FIRST``). A ``memo`` carries this across calls (the portfolio's passes
    between tabu rounds), so a pass goes on where the last one stopped. Never worse than ``sol``."""
    memo = memo if memo is not None else RepackMemo()
    best = sol
    while time.monotonic() < deadline:
        c = max(best.loads(p), default=0)
        if c <= 0:
            break
        cands = []
        for lo, hi in _windows(p, best, c, max_width, max_tasks):
            key: WindowKey = (c - 1, tuple(best.stations[lo : hi + 1]))
            tries = memo.tries.get(key, 0)
            if key not in memo.proven and tries <= MAX_TRIES:
                cands.append((tries, lo, hi, key))
        if not cands:
            break
        level = min(x[0] for x in cands)
        improved = False
        for tries, lo, hi, key in cands:
            if tries > level:
                continue
            if time.monotonic() >= deadline:
                return best
            got, proven = _search_window(p, best, lo, hi, c - 1, deadline, WINDOW_NODES << tries)
            if got is not None:
                best = got
                improved = True
                break
            if proven:
                memo.proven.add(key)
            else:  # out of nodes or of time: more nodes next sweep
                memo.tries[key] = tries + 1
        if not improved and level >= MAX_TRIES:
            break
    return best
