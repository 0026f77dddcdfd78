"""Greedy SALBP-1 constructions and bounds.

Station-oriented priority rules (open a station, fill it with the highest-priority task whose
predecessors are placed and that still fits, repeat) are the classic constructive method; with
several rules, both directions (on the reversed precedence graph) and randomised priorities they
give a tight upper bound in milliseconds. The bounds are the textbook ones (Scholl 1999).
"""

from __future__ import annotations

import math
import random
import time

from seamline.planning.salbp.data import SalbpInstance, SalbpSolution

RULES = ("positional_weight", "time", "successors", "slack")


def _closure(n: int, adj: list[list[int]]) -> list[set[int]]:
    """All tasks reachable from each task (transitive successors when ``adj`` is successors)."""
    order = _topo(n, adj)
    reach: list[set[int]] = [set() for _ in range(n)]
    for v in reversed(order):
        for w in adj[v]:
            reach[v].add(w)
            reach[v] |= reach[w]
    return reach


def _topo(n: int, adj: list[list[int]]) -> list[int]:
    indeg = [0] * n
    for v in range(n):
        for w in adj[v]:
            indeg[w] += 1
    ready = [v for v in range(n) if indeg[v] == 0]
    out = []
    while ready:
        v = ready.pop()
        out.append(v)
        for w in adj[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    if len(out) != n:
        raise ValueError("precedence graph has a cycle")
    return out


def station_bounds(inst: SalbpInstance, upper: int) -> tuple[list[int], list[int]]:
    """Earliest and latest 1-based station of each task given at most ``upper`` stations."""
    c = inst.cycle_time
    all_succ = _closure(inst.n, inst.succs)
    all_pred = _closure(inst.n, inst.preds)
    t = inst.times
    earliest = [math.ceil((t[j] + sum(t[i] for i in all_pred[j])) / c) for j in range(inst.n)]
    latest = [upper + 1 - math.ceil((t[j] + sum(t[i] for i in all_succ[j])) / c) for j in range(inst.n)]
    return [max(1, e) for e in earliest], latest


def lower_bound(inst: SalbpInstance) -> int:
    """max(LB1, LB2, LB3): total time, and counting big tasks that cannot share a station."""
    c = inst.cycle_time
    t = inst.times
    lb1 = math.ceil(sum(t) / c)
    lb2 = sum(1 for x in t if x > c / 2) + math.ceil(sum(1 for x in t if x == c / 2) / 2)

    def w3(x: int) -> float:
        if x > 2 * c / 3:
            return 1.0
        if x == 2 * c / 3:
            return 2 / 3
        if x > c / 3:
            return 0.5
        if x == c / 3:
            return 1 / 3
        return 0.0

    lb3 = math.ceil(sum(w3(x) for x in t) - 1e-9)
    return max(lb1, lb2, lb3, 1)


def _priorities(inst: SalbpInstance, rule: str, reverse: bool) -> list[float]:
    succ = inst.preds if reverse else inst.succs
    reach = _closure(inst.n, succ)
    t = inst.times
    if rule == "positional_weight":
        return [t[j] + sum(t[i] for i in reach[j]) for j in range(inst.n)]
    if rule == "time":
        return [float(x) for x in t]
    if rule == "successors":
        return [len(reach[j]) + t[j] / (inst.cycle_time + 1) for j in range(inst.n)]
    # slack: fewer feasible stations first (tight by earliest/latest from the total bound)
    e, late = station_bounds(inst, inst.n)
    return [-(late[j] - e[j]) + t[j] / (inst.cycle_time + 1) for j in range(inst.n)]


def station_oriented(inst: SalbpInstance, prio: list[float], reverse: bool = False) -> SalbpSolution:
    """Fill stations one by one with the best-priority available task that fits."""
    c = inst.cycle_time
    preds = inst.succs if reverse else inst.preds
    succs = inst.preds if reverse else inst.succs
    remaining_preds = [len(p) for p in preds]
    available = {j for j in range(inst.n) if remaining_preds[j] == 0}
    stations: list[list[int]] = []
    placed = 0
    while placed < inst.n:
        load = 0
        current: list[int] = []
        while True:
            fits = [j for j in available if load + inst.times[j] <= c]
            if not fits:
                break
            j = max(fits, key=lambda x: (prio[x], -x))
            available.discard(j)
            current.append(j)
            load += inst.times[j]
            placed += 1
            for s in succs[j]:
                remaining_preds[s] -= 1
                if remaining_preds[s] == 0:
                    available.add(s)
        if not current:
            raise ValueError(f"{inst.name}: a task is longer than the cycle time {c}")
        stations.append(current)
    if reverse:
        stations.reverse()
    return SalbpSolution(tuple(tuple(sorted(j + 1 for j in s)) for s in stations))


def dispatch_rule(inst: SalbpInstance) -> SalbpSolution:
    """The single textbook rule (largest ranked positional weight), forward: the bench baseline."""
    return station_oriented(inst, _priorities(inst, "positional_weight", False))


def best_greedy(inst: SalbpInstance, budget_s: float, seed: int = 0) -> SalbpSolution:
    """Best over all rules, both directions, then randomised priorities until ``budget_s``."""
    t_end = time.monotonic() + budget_s
    lb = lower_bound(inst)
    best: SalbpSolution | None = None
    base: list[tuple[list[float], bool]] = []
    for rule in RULES:
        for reverse in (False, True):
            prio = _priorities(inst, rule, reverse)
            base.append((prio, reverse))
            s = station_oriented(inst, prio, reverse)
            if best is None or s.num_stations < best.num_stations:
                best = s
    assert best is not None
    rng = random.Random(seed)
    while best.num_stations > lb and time.monotonic() < t_end:
        prio, reverse = rng.choice(base)
        scale = max(abs(p) for p in prio) or 1.0
        noisy = [p + rng.random() * 0.3 * scale for p in prio]
        s = station_oriented(inst, noisy, reverse)
        if s.num_stations < best.num_stations:
            best = s
    return best
