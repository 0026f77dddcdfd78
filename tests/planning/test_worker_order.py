"""The worker-order neighbourhood (``balance/worker_order.py``): its half (a), the bottleneck
assignment of workers to fixed task groups, is exact (checked against every permutation); its half
(b), the whole-line question with the order fixed or every worker within a band of her place, is
exact (checked against brute force) and keeps the workers where the band allows; the ladder is
never worse than its seed and returns feasible plans; the portfolio's search process gives it
turns."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import random
import time
from typing import Any

import pytest

from seamline.planning.balance import cpsat_window, portfolio, worker_order
from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.ipbs import solve_ipbs
from seamline.planning.balance.polish import _key, reassign_workers
from seamline.planning.balance.worker_order import OrderStats, ask_order, improve_order, order_of
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


def _best_with_order(p: LineProblem, order: list[int]) -> int:
    """The smallest cycle of any plan with the workers in ``order``, by brute force over the
    task-to-station maps."""
    k = len(order)
    best = 10**9
    for st in itertools.product(range(k), repeat=p.num_tasks):
        if any(st[i] > st[j] for i, j in p.precedence):
            continue
        loads = [0] * k
        for t, s in enumerate(st):
            v = p.times[t][order[s]]
            if v is None:
                break
            loads[s] += v
        else:
            best = min(best, max(loads))
    return best


def test_fixed_order_question_is_exact() -> None:
    """Half (b) at band 0: at the brute-force best cycle for the order it finds a plan with that
    order within the target; one below, it proves there is none."""
    checked = 0
    for seed in range(12):
        p = _random_line(seed, 7, 3)
        order = random.Random(seed).sample(range(3), 3)
        best = _best_with_order(p, order)
        if best >= 10**9:
            continue
        hint = LineSolution(tuple((w, tuple(range(p.num_tasks)) if s == 0 else ()) for s, w in enumerate(order)))
        answer, got = ask_order(p, hint, best, 0, det_time=10.0)
        assert answer == "yes" and got is not None
        assert not check_line(p, got)
        assert order_of(got) == order
        assert got.cycle_time(p) <= best
        assert ask_order(p, hint, best - 1, 0, det_time=10.0)[0] == "no"
        checked += 1
    assert checked >= 6


def test_band_keeps_workers_near_their_places() -> None:
    """At band 1 each worker of a "yes" stands at most one station from where the hint has her,
    and a band as wide as the line finds the line's optimum (brute force over all orders)."""
    for seed in range(6):
        p = _random_line(200 + seed, 6, 3, forbid=0.1)
        opt = min(_best_with_order(p, list(o)) for o in itertools.permutations(range(3)))
        if opt >= 10**9:
            continue
        hint = LineSolution(tuple((w, tuple(range(p.num_tasks)) if w == 0 else ()) for w in range(3)))
        answer, got = ask_order(p, hint, opt, 2, det_time=10.0)
        assert answer == "yes" and got is not None and got.cycle_time(p) <= opt
        assert ask_order(p, hint, opt - 1, 2, det_time=10.0)[0] == "no"
        near = _best_with_order(p, [0, 1, 2])
        for o in itertools.permutations(range(3)):
            if all(abs(o.index(w) - w) <= 1 for w in range(3)):
                near = min(near, _best_with_order(p, list(o)))
        answer, got = ask_order(p, hint, near, 1, det_time=10.0)
        assert answer == "yes" and got is not None
        assert all(abs(s - w) <= 1 for s, w in enumerate(order_of(got)))
        assert ask_order(p, hint, near - 1, 1, det_time=10.0)[0] == "no"


def test_ladder_never_worse_and_feasible() -> None:
    """From weak seeds (tasks cut into groups in a topological order, workers in index order),
    the result is feasible and its key is at most the seed's, and on some lines strictly better;
    the ladder's state says what it asked."""
    better = 0
    for seed in range(6):
        p = _random_line(100 + seed, 10, 4, forbid=0.0)
        groups = _groups(p, random.Random(seed))
        start = LineSolution(tuple(enumerate(groups)))
        stats = OrderStats()
        got = improve_order(p, start, deadline=time.monotonic() + 30, seed=seed, stats=stats, max_questions=8)
        assert not check_line(p, got)
        assert _key(p, got) <= _key(p, start)
        assert stats.asked == stats.yes + stats.no + stats.unknown >= 1
        better += _key(p, got) < _key(p, start)
    assert better >= 1


def test_ladder_on_a_benchmark_line() -> None:
    """On tonge-1 from a short IPBS plan: feasible, never worse, and a refuted band moves the
    ladder up (a "no" on the same plan is never asked twice)."""
    p = read_alwabp(BENCH / "tonge-1.alwabp")
    start = solve_ipbs(p, 0.5, seed=0)
    stats = OrderStats()
    got = improve_order(p, start, deadline=time.monotonic() + 20, seed=0, stats=stats, max_questions=2)
    assert not check_line(p, got)
    assert _key(p, got) <= _key(p, start)
    assert 1 <= stats.asked <= 2
    if stats.yes == 0 and stats.unknown == 0:
        assert stats.band == stats.no


def test_the_portfolio_search_process_takes_worker_order_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked search's loop, run in this process: stalled rounds go to the worker-order ladder
    and the exact windows by turns, the ladder first; neither returns a worse plan, and what the
    search sends on is feasible and no worse than any turn's result."""
    p = read_alwabp(BENCH / "tonge-1.alwabp")
    calls: list[tuple[str, tuple[int, int, int], tuple[int, int, int]]] = []
    real_order, real_exact = worker_order.improve_order, cpsat_window.improve_exact

    def order(q: LineProblem, sol: LineSolution, **kw: Any) -> LineSolution:
        out = real_order(q, sol, **kw)
        calls.append(("order", _key(q, sol), _key(q, out)))
        return out

    def exact(q: LineProblem, sol: LineSolution, deadline: float, **kw: Any) -> LineSolution:
        out = real_exact(q, sol, deadline, **kw)
        calls.append(("exact", _key(q, sol), _key(q, out)))
        return out

    monkeypatch.setattr(worker_order, "improve_order", order)
    monkeypatch.setattr(cpsat_window, "improve_exact", exact)
    monkeypatch.setattr(portfolio, "REPACK_S", 0.2)
    mine, theirs = mp.Pipe(duplex=True)
    portfolio._child(theirs, p, 6.0, 2.0, 0, 0.3, 0.3)
    sent: list[LineSolution] = []
    while mine.poll(0):
        try:
            got = mine.recv()
        except EOFError:  # the search closed its end after its last plan
            break
        assert got is not None
        sent.append(got)
    assert calls and calls[0][0] == "order"
    assert all(after <= before for _, before, after in calls)
    assert sent and check_line(p, sent[-1]) == []
    assert _key(p, sent[-1]) <= min(after for _, _, after in calls)
