"""Worker-order large neighbourhood: change who stands where along the line, then repartition.

The local searches of the portfolio (tabu moves and swaps, window repacking, CP-SAT windows) all
keep most of the line's *order of workers*: a swap trades two workers with their tasks fixed, a
window re-solves a few neighbouring stations. Near the best cycle a plan is often locally optimal
for all of them, while a line with the workers in another order — and every task shifted along
the line to fit it — is one unit better. This neighbourhood searches that order by alternating two
exact, fast halves:

(a) tasks fixed per station → the best assignment of workers to the stations' task groups, a
    *bottleneck assignment problem* (minimise the largest station time; a worker who cannot do a
    task of a group cannot take it): ``polish.reassign_workers``, a binary search on the
    threshold with a bipartite matching at each step, exact in milliseconds;
(b) the order of workers fixed → the tasks repartitioned over the whole line at ``C* − 1``: the
    station-oriented depth-first search (``station_dfs``) with every worker's seat fixed. With
    the workers fixed a station has one candidate instead of up to *k*, so the search that is
    hopeless on the whole line with free workers is narrow enough here to go deep in a few
    hundred nodes.

A "yes" of (b) is a plan at ``C* − 1``; (a) then places the workers best for its task groups,
which gives (b) a new order to start from, and so on. When the current order gives no "yes"
within the node budget, (b) runs on *perturbed* orders chosen by what the bottleneck needs: the
bottleneck's worker swapped with, or moved next to, another worker; two workers around a
bottleneck swapped; a segment through it reversed. The perturbed orders whose workers suit the
current task groups best (the least total time of the groups under the new order) are asked first.
The result is never worse than the seed by ``polish._key``: only a plan at ``C* − 1`` replaces it.

The work is counted in DFS nodes (``max_nodes`` per question), so with a seed the result is
repeatable; a deadline bounds it in time as well. Pure Python: the portfolio's search process runs
it between its tabu rounds.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.ipbs import applicable
from seamline.planning.balance.polish import _key, polish
from seamline.planning.balance.station_dfs import station_dfs

ORDER_NODES = 300  # DFS nodes of one repartition question (one order, one direction)
ORDER_TRIES = 12  # perturbed orders asked per pass once the current order said no


@dataclass
class OrderStats:
    """What the neighbourhood did: questions asked, "yes" answers, DFS nodes spent."""

    asked: int = 0
    yes: int = 0
    nodes: int = 0


def order_of(sol: LineSolution) -> list[int]:
    """The workers in line order."""
    return [w for w, _ in sol.stations]


def with_order(sol: LineSolution, order: list[int]) -> LineSolution:
    """``sol``'s task groups at their stations with the workers of ``order`` standing there."""
    return LineSolution(tuple((w, ts) for w, (_, ts) in zip(order, sol.stations, strict=True)))


def seated(p: LineProblem, order: list[int]) -> LineProblem:
    """``p`` with every worker's seat fixed at her position in ``order``."""
    seats = [0] * p.num_workers
    for s, w in enumerate(order):
        seats[w] = s
    return LineProblem(
        name=p.name,
        times=p.times,
        precedence=p.precedence,
        allowed=p.allowed,
        worker_station=tuple(seats),
        fixed_task=p.fixed_task,
    )


def order_ok(p: LineProblem, order: list[int]) -> bool:
    """Whether ``order`` keeps every fixed seat."""
    if p.worker_station is None:
        return True
    return all(p.worker_station[w] in (None, s) for s, w in enumerate(order))


def repartition(
    p: LineProblem,
    order: list[int],
    target: int,
    *,
    max_nodes: int = ORDER_NODES,
    deadline: float | None = None,
    seed: int | None = None,
    stats: OrderStats | None = None,
) -> LineSolution | None:
    """A plan with the workers in ``order`` and every load ≤ ``target``, or None when the station
    DFS (forward, then from the end of the line) finds none within ``max_nodes`` nodes each."""
    q = seated(p, order)
    for reverse in (False, True):
        if deadline is not None and time.monotonic() >= deadline:
            return None
        res = station_dfs(q, target, max_nodes=max_nodes, deadline=deadline, reverse=reverse, seed=seed)
        if stats is not None:
            stats.asked += 1
            stats.nodes += res.nodes
        if res.line is not None:
            if stats is not None:
                stats.yes += 1
            return res.line
        if res.proved:
            return None  # no plan at the target with this order, whichever direction
    return None


def repartition_cpsat(
    p: LineProblem,
    sol: LineSolution,
    order: list[int],
    target: int,
    *,
    det_time: float,
    limit_s: float,
    seed: int = 0,
    stats: OrderStats | None = None,
) -> LineSolution | None:
    """(b) by CP-SAT instead of the DFS: the whole-line model of ``cpsat_window`` with every worker
    kept at her station of ``order`` (tasks free), hinted with ``sol``'s task groups; at most
    ``det_time`` deterministic units and ``limit_s`` seconds."""
    from ortools.sat.python import cp_model

    from seamline.planning.balance.cpsat_window import build_window_model, extract_window

    wm = build_window_model(p, with_order(sol, order), target, None, movable=set())
    if stats is not None:
        stats.asked += 1
    if wm is None:
        return None
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_time_in_seconds = max(0.01, limit_s)
    prm.max_deterministic_time = det_time
    prm.num_workers = 1
    prm.random_seed = seed
    prm.stop_after_first_solution = True
    try:
        status = solver.solve(wm.model)
    except (IndexError, RuntimeError):
        return None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if stats is not None:
            stats.yes += 1
        return extract_window(p, wm, solver)
    return None


def _moves(order: list[int], loads: list[int], rng: random.Random) -> list[list[int]]:
    """Orders near ``order`` aimed at its bottlenecks: the bottleneck's worker swapped with any
    other, moved to any other position, and a segment through the bottleneck reversed."""
    k = len(order)
    c = max(loads)
    hot = [s for s in range(k) if loads[s] == c]
    out: list[list[int]] = []
    for b in hot:
        for j in range(k):
            if j == b:
                continue
            sw = list(order)
            sw[b], sw[j] = sw[j], sw[b]
            out.append(sw)
            mv = list(order)
            w = mv.pop(b)
            mv.insert(j, w)
            out.append(mv)
        for lo in range(max(0, b - 3), b + 1):
            for hi in range(b, min(k, lo + 6)):
                if hi - lo >= 2:
                    rv = list(order)
                    rv[lo : hi + 1] = reversed(rv[lo : hi + 1])
                    out.append(rv)
    rng.shuffle(out)
    seen: set[tuple[int, ...]] = {tuple(order)}
    uniq: list[list[int]] = []
    for o in out:
        if tuple(o) not in seen:
            seen.add(tuple(o))
            uniq.append(o)
    return uniq


def _misfit(p: LineProblem, sol: LineSolution, order: list[int]) -> int:
    """How far ``sol``'s task groups are from fitting under ``order`` (Σ of each station's load
    for its new worker; a group the worker cannot do counts as a large load): the perturbed
    orders whose workers suit the current groups best are asked first."""
    big = 10**9
    total = 0
    for w, (_, ts) in zip(order, sol.stations, strict=True):
        load = 0
        for t in ts:
            v = p.times[t][w]
            load += big if v is None else v
        total += load
    return total


def improve_order(
    p: LineProblem,
    sol: LineSolution,
    *,
    deadline: float,
    seed: int = 0,
    max_nodes: int = ORDER_NODES,
    tries: int = ORDER_TRIES,
    lower: int | None = None,
    stats: OrderStats | None = None,
    cpsat_det: float = 0.0,
) -> LineSolution:
    """The best plan reached from ``sol`` by the worker-order neighbourhood by ``deadline`` (a
    ``time.monotonic()`` instant); never worse than ``sol``. Each pass asks for a plan at one below
    the best cycle with the current order, then with up to ``tries`` perturbed orders; a "yes"
    is polished (which includes the bottleneck assignment of the workers) and starts the next pass."""
    if not applicable(p) or not sol.stations:
        return sol
    rng = random.Random(seed)
    lb = p.lower_bound() if lower is None else lower
    best = polish(p, sol)
    if _key(p, best) > _key(p, sol):
        best = sol
    while time.monotonic() < deadline:
        loads = best.loads(p)
        c = max(loads)
        if c <= lb:
            break
        target = c - 1
        order = order_of(best)
        cands = [order] + sorted(_moves(order, loads, rng), key=lambda o: _misfit(p, best, o))[:tries]
        found: LineSolution | None = None
        for o in cands:
            if time.monotonic() >= deadline:
                break
            if not order_ok(p, o):
                continue
            if cpsat_det > 0:
                found = repartition_cpsat(
                    p,
                    best,
                    o,
                    target,
                    det_time=cpsat_det,
                    limit_s=deadline - time.monotonic(),
                    seed=rng.randrange(1 << 30),
                    stats=stats,
                )
            else:
                found = repartition(
                    p, o, target, max_nodes=max_nodes, deadline=deadline, seed=rng.randrange(1 << 30), stats=stats
                )
            if found is not None:
                break
        if found is None:
            break
        found = polish(p, found)
        if _key(p, found) >= _key(p, best):
            break
        best = found
    return best
