"""The whole-line questions (``whole_line``): the unrelated-machines model, the question with the
order of workers fixed, and the walk over orders."""

from __future__ import annotations

import itertools
import random
import time

from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key
from seamline.planning.balance.whole_line import (
    UNPLACEABLE,
    WalkStats,
    decide_order,
    decide_order_dfs,
    order_deficit,
    order_walk,
    refuted,
    solve_whole,
)
from seamline.planning.readers import bench_dir, read_alwabp


def _tiny(seed: int, n: int = 5, k: int = 3) -> LineProblem:
    """A random line: times 1..9, about one pair in six forbidden, a random precedence DAG."""
    rng = random.Random(seed)
    times = []
    for _ in range(n):
        row = [None if rng.random() < 0.17 else rng.randint(1, 9) for _ in range(k)]
        if all(v is None for v in row):
            row[rng.randrange(k)] = rng.randint(1, 9)
        times.append(tuple(row))
    prec = tuple((i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.3)
    return LineProblem(name=f"tiny{seed}", times=tuple(times), precedence=prec)


def _best(p: LineProblem, orders: list[tuple[int, ...]]) -> int | None:
    """The best cycle by enumeration over the given worker orders and every station assignment."""
    n, k = p.num_tasks, p.num_workers
    best: int | None = None
    for order in orders:
        for st in itertools.product(range(k), repeat=n):
            if any(st[i] > st[j] for i, j in p.precedence):
                continue
            loads = [0] * k
            for t, s in enumerate(st):
                v = p.times[t][order[s]]
                if v is None:
                    break
                loads[s] += v
            else:
                if best is None or max(loads) < best:
                    best = max(loads)
    return best


def test_the_whole_line_model_finds_the_brute_force_optimum() -> None:
    for seed in range(8):
        p = _tiny(seed)
        optimum = _best(p, list(itertools.permutations(range(p.num_workers))))
        assert optimum is not None
        answer, sol, _ = solve_whole(p, 100, 10.0)
        assert answer == "optimal" and sol is not None
        assert check_line(p, sol, sol.cycle_time(p)) == []
        assert sol.cycle_time(p) == optimum, seed
        # one below the optimum the whole line says no
        assert solve_whole(p, optimum - 1, 10.0)[0] == "no"


def test_the_question_with_the_order_fixed_is_exact() -> None:
    for seed in range(6):
        p = _tiny(seed + 100)
        for order in itertools.permutations(range(p.num_workers)):
            best = _best(p, [order])
            if best is None:
                assert decide_order(p, order, 100)[0] == "no"
                continue
            answer, sol, _ = decide_order(p, order, best)
            assert answer == "yes" and sol is not None
            assert [w for w, _ in sol.stations] == list(order)
            assert check_line(p, sol) == [] and sol.cycle_time(p) <= best
            assert decide_order(p, order, best - 1)[0] == "no"


def test_the_order_walk_is_never_worse_and_its_plans_are_feasible() -> None:
    p = read_alwabp(bench_dir() / "alwabp" / "heskia-41.alwabp")
    # a poor seed: the tasks on the line in precedence order, each at the first station whose
    # worker can do it within the cycle that gives
    order = list(range(p.num_workers))
    answer, seed_plan, _ = decide_order(p, order, 10**6)
    assert answer == "yes" and seed_plan is not None
    stats = WalkStats()
    out = order_walk(p, seed_plan, time.monotonic() + 30.0, seed=3, max_steps=25, stats=stats)
    assert check_line(p, out) == []
    assert _key(p, out) <= _key(p, seed_plan)
    assert stats.steps == 25 and stats.yes >= 1  # a poor seed improves
    assert out.cycle_time(p) < seed_plan.cycle_time(p)
    # where the walk stands is kept: an order and its plan, feasible at the cycle it reached
    assert stats.cur is not None and stats.order == [w for w, _ in stats.cur.stations]
    assert check_line(p, stats.cur) == [] and stats.cur.cycle_time(p) <= out.cycle_time(p)
    # ... and the next call goes on from there, still never worse than what it is handed
    again = order_walk(p, out, time.monotonic() + 30.0, seed=4, max_steps=10, stats=stats)
    assert stats.steps == 35 and _key(p, again) <= _key(p, out) and check_line(p, again) == []


def test_the_walk_keeps_its_seed_when_out_of_time() -> None:
    p = _tiny(7)
    sol = LineSolution(tuple((w, ()) for w in range(p.num_workers)))
    seed_plan = decide_order(p, list(range(p.num_workers)), 100)[1]
    if seed_plan is None:  # this order cannot do every task: any feasible order will do
        for order in itertools.permutations(range(p.num_workers)):
            seed_plan = decide_order(p, order, 100)[1]
            if seed_plan is not None:
                break
    assert seed_plan is not None and sol is not None
    assert order_walk(p, seed_plan, time.monotonic() - 1.0) is seed_plan


def test_the_depth_first_question_with_the_order_fixed_is_exact() -> None:
    """``decide_order_dfs`` against brute force over every station assignment: a yes at the best
    cycle of the order (with a plan in that order, feasible), a proven no one below it."""
    yes = no = 0
    for seed in range(6):
        p = _tiny(seed + 200, n=6)
        for order in itertools.permutations(range(p.num_workers)):
            best = _best(p, [order])
            if best is None:
                assert decide_order_dfs(p, order, 100)[0] == "no"
                no += 1
                continue
            answer, sol, _ = decide_order_dfs(p, order, best)
            assert answer == "yes" and sol is not None
            assert [w for w, _ in sol.stations] == list(order)
            assert check_line(p, sol) == [] and sol.cycle_time(p) <= best
            yes += 1
            if best > 0:
                assert decide_order_dfs(p, order, best - 1)[0] == "no"
                no += 1
    assert yes > 10 and no > 10


def test_the_depth_first_question_agrees_with_cp_sat_on_a_real_line() -> None:
    """On heskia-41 (28 tasks) with random orders and targets: every decided answer of the search
    is CP-SAT's, and its plans are feasible in the order asked."""
    p = read_alwabp(bench_dir() / "alwabp" / "heskia-41.alwabp")
    rng = random.Random(5)
    decided = 0
    for _ in range(12):
        order = list(range(p.num_workers))
        rng.shuffle(order)
        target = rng.randint(p.lower_bound(), 3 * p.lower_bound())
        mine, sol, _ = decide_order_dfs(p, order, target, max_nodes=20000)
        theirs = decide_order(p, order, target, limit_s=20.0)[0]
        if mine == "unknown":
            continue
        decided += 1
        assert mine == theirs, (order, target)
        if sol is not None:
            assert [w for w, _ in sol.stations] == order
            assert check_line(p, sol, target) == []
    assert decided >= 6


def test_the_deficit_is_the_refutation_as_a_number() -> None:
    p = read_alwabp(bench_dir() / "alwabp" / "heskia-41.alwabp")
    rng = random.Random(1)
    for _ in range(20):
        order = list(range(p.num_workers))
        rng.shuffle(order)
        target = rng.randint(p.lower_bound(), 2 * p.lower_bound())
        d = order_deficit(p, order, target)
        assert refuted(p, order, target) == (d > 0)
        # more room never raises the deficit
        assert order_deficit(p, order, target + 5) <= d or d == UNPLACEABLE


def test_the_guided_walk_with_depth_first_questions_is_never_worse() -> None:
    p = read_alwabp(bench_dir() / "alwabp" / "heskia-41.alwabp")
    order = list(range(p.num_workers))
    answer, seed_plan, _ = decide_order(p, order, 10**6)
    assert answer == "yes" and seed_plan is not None
    for question in ("dfs", "both"):
        stats = WalkStats()
        out = order_walk(
            p, seed_plan, time.monotonic() + 30.0, seed=3, max_steps=25, stats=stats, question=question, guide=True
        )
        assert check_line(p, out) == []
        assert out.cycle_time(p) < seed_plan.cycle_time(p), question  # a poor seed improves
        assert stats.steps == 25 and stats.nodes > 0
