"""The exact step (``cpsat_window``): a plan at one below the best cycle, or a proof there is none."""

from __future__ import annotations

import itertools
import random
import time

from seamline.planning.balance.check import check_line
from seamline.planning.balance.construct import best_construction
from seamline.planning.balance.cpsat_window import ExactStats, ask, improve_exact, station_bounds
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.polish import _key
from seamline.planning.readers import bench_dir, parse_alwabp, read_alwabp

# 7 tasks, 3 workers: worker 2 is slow at the start and fast at the end, worker 0 the reverse.
SMALL = """7
2 4 9
3 3 Inf
4 2 6
5 4 3
Inf 3 2
6 5 2
2 Inf 1
1 2
1 3
2 4
3 5
4 6
5 6
6 7
-1 -1
"""


def _brute_force(p: LineProblem) -> int:
    """The optimal cycle by enumeration: every worker order × every monotone station assignment."""
    n, k = p.num_tasks, p.num_workers
    best = 10**9
    for order in itertools.permutations(range(k)):
        for st in itertools.product(range(k), repeat=n):
            if any(st[i] > st[j] for i, j in p.precedence):
                continue
            loads = [0] * k
            ok = True
            for t, s in enumerate(st):
                v = p.times[t][order[s]]
                if v is None:
                    ok = False
                    break
                loads[s] += v
            if ok:
                best = min(best, max(loads))
    return best


def _worst_feasible(p: LineProblem) -> LineSolution:
    """A poor but feasible plan: everything a worker can take piled on as few stations as possible."""
    sol = best_construction(p, 0.2, 0)
    assert sol is not None
    return sol


def test_whole_line_question_reaches_and_proves_the_optimum() -> None:
    p = parse_alwabp(SMALL, "small")
    optimum = _brute_force(p)
    start = LineSolution(((0, (0, 1, 2, 3)), (1, (4,)), (2, (5, 6))))
    assert check_line(p, start, start.cycle_time(p)) == []
    assert start.cycle_time(p) > optimum  # the search has work to do
    stats = ExactStats()
    sol = improve_exact(p, start, time.monotonic() + 10.0, lower=0, stats=stats)
    assert check_line(p, sol, sol.cycle_time(p)) == []
    assert sol.cycle_time(p) == optimum
    assert stats.proven and stats.no == 1 and stats.yes >= 1
    # ... and at the optimum minus one the whole line says no.
    assert ask(p, sol, optimum - 1, None, 5.0)[0] == "no"


def test_a_bench_line_is_proven_optimal_at_its_best_known_cycle() -> None:
    p = read_alwabp(bench_dir() / "alwabp" / "roszieg-41.alwabp")  # best known 10, proven
    stats = ExactStats()
    sol = improve_exact(p, _worst_feasible(p), time.monotonic() + 20.0, lower=0, stats=stats)
    assert check_line(p, sol, sol.cycle_time(p)) == []
    assert sol.cycle_time(p) == 10 and stats.proven


def test_station_bounds_hold_for_an_optimal_plan() -> None:
    p = parse_alwabp(SMALL, "small")
    sol = improve_exact(p, _worst_feasible(p), time.monotonic() + 10.0, lower=0)
    c = sol.cycle_time(p)
    tasks = list(range(p.num_tasks))
    fastest = {t: min(v for v in p.times[t] if v is not None and v <= c) for t in tasks}
    early, late = station_bounds(p, tasks, p.num_stations, c, fastest)
    for t, s in sol.station_of().items():
        assert early[t] <= s <= late[t], (t, s, early[t], late[t])
    # A bound that is too tight for some plan would make the model refute a plan that exists.
    assert ask(p, sol, c, None, 5.0)[0] == "yes"


def test_window_steps_never_return_a_worse_or_infeasible_plan() -> None:
    p = read_alwabp(bench_dir() / "alwabp" / "tonge-41.alwabp")  # 70 tasks × 17 workers: windows
    start = _worst_feasible(p)
    base = _key(p, start)
    rng = random.Random(3)
    stats = ExactStats()
    for _ in range(3):
        sol = improve_exact(p, start, time.monotonic() + 1.0, seed=rng.randrange(1000), stats=stats)
        assert check_line(p, sol, sol.cycle_time(p)) == []
        assert _key(p, sol) <= base
        start, base = sol, _key(p, sol)
    assert stats.asked >= 3 and not stats.proven
    # One window's "yes" changes only its own stations.
    loads = start.loads(p)
    hot = loads.index(max(loads))
    free = sorted({max(0, hot - 1), hot, min(p.num_stations - 1, hot + 1)})
    answer, found = ask(p, start, max(loads), free, 5.0)
    assert answer == "yes" and found is not None  # the plan itself is a yes at its own cycle
    assert check_line(p, found, max(loads)) == []
    for s in range(p.num_stations):
        if s not in free:
            assert found.stations[s] == start.stations[s]


def test_the_portfolio_child_exact_turns_improve_and_then_stop_once_proven() -> None:
    from seamline.planning.balance import portfolio

    p = read_alwabp(bench_dir() / "alwabp" / "roszieg-41.alwabp")
    poor = _worst_feasible(p)
    turn = portfolio._exact_turns(p, time.monotonic() + 30.0, seed=0, turn_s=10.0)
    sol = turn(poor, 0)
    assert check_line(p, sol, sol.cycle_time(p)) == []
    assert sol.cycle_time(p) == 10 <= poor.cycle_time(p)
    # Proven optimal: later turns hand the plan back at once, without asking again.
    t = time.monotonic()
    assert turn(sol, 1) is sol and time.monotonic() - t < 0.5
