"""The iterated tabu search (tabu rounds, every other one from a fresh beam) and its hooks, which
the portfolio uses to trade plans between the engine and the search process."""

from __future__ import annotations

import time

from seamline.planning.balance.check import check_line
from seamline.planning.balance.construct import construct
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.iterated import iterated_tabu
from seamline.planning.readers import bench_dir, read_alwabp

BENCH = bench_dir() / "alwabp"


def _first_construction(p: LineProblem) -> LineSolution:
    c = p.lower_bound()
    while (sol := construct(p, c)) is None:
        c += 1
    return sol


def test_rounds_lower_the_cycle_and_call_the_hooks_between_them() -> None:
    p = read_alwabp(BENCH / "tonge-61.alwabp")
    start = _first_construction(p)
    seen: list[int] = []
    rounds: list[int] = []

    def before(sol: LineSolution) -> LineSolution:
        seen.append(sol.cycle_time(p))
        return sol

    def after(sol: LineSolution, rnd: int) -> LineSolution:
        rounds.append(rnd)
        return sol

    out = iterated_tabu(
        p, start, deadline=time.monotonic() + 3.0, lower=p.lower_bound(), seed=1, before=before, after=after
    )
    assert check_line(p, out) == []
    assert out.cycle_time(p) < start.cycle_time(p)
    assert seen and seen[0] == start.cycle_time(p)
    assert rounds == list(range(len(rounds))) and len(rounds) >= 1
    assert seen == sorted(seen, reverse=True)  # each round starts from the best plan so far


def test_a_better_plan_handed_in_becomes_the_incumbent() -> None:
    """The portfolio's trade: the plan ``before`` hands in is where the next round starts (the
    portfolio hands in only plans better than the search's own)."""
    p = read_alwabp(BENCH / "roszieg-41.alwabp")  # optimum 10 (index.csv), construction 11
    start = _first_construction(p)
    optimal = iterated_tabu(p, start, deadline=time.monotonic() + 10.0, lower=10, seed=0)  # stops at 10
    assert optimal.cycle_time(p) == 10
    handed: list[LineSolution] = []

    def before(sol: LineSolution) -> LineSolution:
        handed.append(sol)
        return optimal

    # Its lower bound is the optimum, so once the handed-in plan is taken the search stops.
    out = iterated_tabu(p, start, deadline=time.monotonic() + 2.0, lower=10, seed=0, before=before)
    assert out.cycle_time(p) == 10 and handed and handed[0] == start
