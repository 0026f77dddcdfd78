"""The worker-order neighbourhood (``balance/worker_order.py``): its half (a), the bottleneck
assignment of workers to fixed task groups, is exact (checked against every permutation); its half
(b), the repartition with the order of workers fixed, keeps the order and meets the target; and the
alternation is never worse than its seed and returns feasible plans."""

from __future__ import annotations

import itertools
import random
import time

from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.ipbs import solve_ipbs
from seamline.planning.balance.polish import _key, reassign_workers
from seamline.planning.balance.worker_order import OrderStats, improve_order, order_of, repartition
from seamline.planning.readers import bench_dir, read_alwabp

BENCH = bench_dir() / "alwabp"


def _random_line(seed: int, n: int, k: int, forbid: float = 0.25) -> LineProblem:
    rng = random.Random(seed)
    times: list[tuple[int | None, ...]] = []
    for _ in range(n):
        base = rng.randint(1, 9)
        row: list[int | None] = [None if rng.random() < forbid else rng.randint(base, 3 * base) for _ in range(k)]
        if all(v is None for v in row):
            row[rng.randrange(k)] = base
        times.append(tuple(row))
    prec = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 2.0 / n]
    return LineProblem(name=f"rand{seed}", times=tuple(times), precedence=tuple(prec))


def _groups(p: LineProblem, rng: random.Random) -> list[tuple[int, ...]]:
    """Task groups per station in a topological order (precedence holds whoever stands where)."""
    k = p.num_workers
    cuts = sorted(rng.sample(range(1, p.num_tasks), k - 1))
    order = list(p.topo_order)
    bounds = [0, *cuts, p.num_tasks]
    return [tuple(sorted(order[bounds[s] : bounds[s + 1]])) for s in range(k)]


def test_bottleneck_assignment_equals_brute_force() -> None:
    """Half (a): the smallest largest station time over all placings of the workers."""
    checked = 0
    for seed in range(40):
        rng = random.Random(seed)
        k = 3 + seed % 3
        p = _random_line(seed, 2 * k, k, forbid=0.15)
        groups = _groups(p, rng)
        best: int | None = None
        start: list[int] | None = None
        for perm in itertools.permutations(range(k)):
            loads = []
            for w, ts in zip(perm, groups, strict=True):
                vals = [p.times[t][w] for t in ts]
                if any(v is None for v in vals):
                    break
                loads.append(sum(v for v in vals if v is not None))
            else:
                if start is None:
                    start = list(perm)
                if best is None or max(loads) < best:
                    best = max(loads)
        if start is None:
            continue  # no placing at all can take these groups
        sol = LineSolution(tuple(zip(start, groups, strict=True)))
        got = reassign_workers(p, sol)
        assert not check_line(p, got)
        assert [ts for _, ts in got.stations] == groups
        assert got.cycle_time(p) == best
        checked += 1
    assert checked >= 20


def test_repartition_keeps_the_order_and_meets_the_target() -> None:
    """Half (b): a plan found has the given order of workers and every load within the target;
    at a target below every plan's cycle for that order, nothing is found."""
    for seed in range(12):
        p = _random_line(seed, 7, 3)
        order = list(random.Random(seed).sample(range(3), 3))
        # the best cycle with this order, by brute force over the task-to-station maps
        best = 10**9
        for st in itertools.product(range(3), repeat=p.num_tasks):
            if any(st[i] > st[j] for i, j in p.precedence):
                continue
            loads = [0, 0, 0]
            for t, s in enumerate(st):
                v = p.times[t][order[s]]
                if v is None:
                    break
                loads[s] += v
            else:
                best = min(best, max(loads))
        if best >= 10**9:
            continue
        got = repartition(p, order, best, max_nodes=100_000)
        assert got is not None
        assert not check_line(p, got)
        assert order_of(got) == order
        assert got.cycle_time(p) <= best
        assert repartition(p, order, best - 1, max_nodes=100_000) is None


def test_alternation_never_worse_and_feasible() -> None:
    """From weak seeds (tasks cut into groups in a topological order, workers in index order),
    the result is feasible and its key is at most the seed's, and on some lines strictly better."""
    better = 0
    for seed in range(10):
        p = _random_line(100 + seed, 14, 4, forbid=0.0)
        groups = _groups(p, random.Random(seed))
        start = LineSolution(tuple(enumerate(groups)))
        got = improve_order(p, start, deadline=time.monotonic() + 5, seed=seed, max_nodes=200, tries=6)
        assert not check_line(p, got)
        assert _key(p, got) <= _key(p, start)
        better += _key(p, got) < _key(p, start)
    assert better >= 1


def test_alternation_on_a_benchmark_line_counts_its_work() -> None:
    """On tonge-1 from a plain IPBS plan the neighbourhood asks questions within its node budget
    and returns a feasible plan never worse than its seed."""
    p = read_alwabp(BENCH / "tonge-1.alwabp")
    start = solve_ipbs(p, 1.0, seed=0)
    stats = OrderStats()
    got = improve_order(p, start, deadline=time.monotonic() + 20, seed=0, max_nodes=50, tries=3, stats=stats)
    assert not check_line(p, got)
    assert _key(p, got) <= _key(p, start)
    assert stats.asked >= 1
    assert stats.nodes <= 50 * stats.asked
