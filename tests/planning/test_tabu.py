"""The tabu search on the overload (ALWABP-2 local search) and the re-balance's repaired start."""

from __future__ import annotations

import pytest

from seamline.planning.balance import tabu
from seamline.planning.balance.check import check_line
from seamline.planning.balance.construct import construct
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.tabu import tabu_search
from seamline.planning.readers import bench_dir, parse_alwabp, read_alwabp

BENCH = bench_dir() / "alwabp"
TINY = """4
3 Inf 2
2 4 Inf
5 5 1
1 2 3
1 2
1 3
3 4
-1 -1
"""


@pytest.fixture(autouse=True, params=[True, False], ids=["compiled", "python"])
def compiled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every test runs the compiled kernel (``tabu_kernel``) and the pure-Python search."""
    monkeypatch.setattr(tabu, "COMPILED", request.param)
    return bool(request.param)


def _first_construction(p: LineProblem) -> LineSolution:
    """The plain construction at the smallest cycle it manages (deterministic: no clock)."""
    c = p.lower_bound()
    while (sol := construct(p, c)) is None:
        c += 1
    return sol


def test_tabu_lowers_the_cycle_and_counts_work_not_seconds() -> None:
    p = read_alwabp(BENCH / "tonge-61.alwabp")
    start = _first_construction(p)
    a = tabu_search(p, start, max_iters=1500, lower=p.lower_bound(), seed=3)
    b = tabu_search(p, start, max_iters=1500, lower=p.lower_bound(), seed=3)
    assert check_line(p, a) == []
    assert a.cycle_time(p) < start.cycle_time(p)
    assert a == b  # an iteration budget, not a clock: the same seed gives the same plan


def test_tabu_reaches_the_known_optimum_of_a_small_instance() -> None:
    p = read_alwabp(BENCH / "roszieg-41.alwabp")  # optimum 10 (index.csv), construction 11
    start = _first_construction(p)
    out = tabu_search(p, start, max_iters=3000, lower=p.lower_bound())
    assert check_line(p, out) == []
    assert out.cycle_time(p) == 10


def test_tabu_keeps_zones_and_fixed_seats() -> None:
    base = parse_alwabp(TINY, "tiny")
    zoned = LineProblem(
        "z",
        base.times,
        base.precedence,
        allowed=(None, None, None, frozenset({0})),
        worker_station=(None, None, 2),
    )
    # Task 3 (and so its predecessors 0 and 2) may only stand at station 0; worker 2 is seated
    # at station 2. Everything starts at station 0 (cycle 11); task 1 can go to worker 1 (9).
    heavy = LineSolution(((0, (0, 1, 2, 3)), (1, ()), (2, ())))
    assert check_line(zoned, heavy) == []
    out = tabu_search(zoned, heavy, max_iters=500)
    assert check_line(zoned, out) == []
    assert out.cycle_time(zoned) == 9
    assert 3 in out.stations[0][1] and out.stations[2][0] == 2


def test_tabu_leaves_lines_with_machine_types_to_cp_sat() -> None:
    base = parse_alwabp(TINY, "tiny")
    typed = LineProblem("m", base.times, base.precedence, task_type=("A", None, None, None))
    sol = LineSolution(((2, (0, 2, 3)), (0, (1,)), (1, ())))
    assert tabu_search(typed, sol, max_iters=100) is sol


def test_tabu_gives_the_turn_back_when_restarts_stop_paying() -> None:
    p = read_alwabp(BENCH / "roszieg-41.alwabp")
    start = _first_construction(p)
    stats: dict[str, int] = {}
    # A target below the optimum can never be met: with no patience the search stops at the
    # first fruitless restart instead of spending its whole iteration budget.
    out = tabu_search(p, start, max_iters=50_000, lower=0, stall_iters=200, patience=0, stats=stats)
    assert check_line(p, out) == []
    assert stats["iterations"] < 50_000


def test_the_compiled_search_goes_on_exactly_where_a_chunk_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel runs in chunks between looks at the clock; all its state is in arrays, so the
    # same seed gives the same plan in chunks of 7 iterations as in one chunk of all of them.
    p = read_alwabp(BENCH / "tonge-61.alwabp")
    start = _first_construction(p)
    monkeypatch.setattr(tabu, "COMPILED", True)
    whole = tabu_search(p, start, max_iters=3000, lower=p.lower_bound(), seed=5, stall_iters=300)
    monkeypatch.setattr(tabu, "CHUNK_ITERS", 7)
    stats: dict[str, int] = {}
    chunked = tabu_search(p, start, max_iters=3000, lower=p.lower_bound(), seed=5, stall_iters=300, stats=stats)
    assert check_line(p, whole) == []
    assert whole.cycle_time(p) < start.cycle_time(p)
    assert chunked == whole
    assert stats["restarts"] > 0  # the chunks crossed restarts, not only plain moves


def test_a_caller_running_compiled_code_may_ask_for_the_compiled_search_on_a_short_budget(
    compiled_tabu_calls: list[bool], compiled: bool
) -> None:
    # Under COMPILED_FROM_S the search stays in Python (numba's start-up would cost more), unless
    # the caller says its process already runs compiled code (the interval beam's rounds).
    import time

    p = read_alwabp(BENCH / "tonge-61.alwabp")
    start = _first_construction(p)
    calls = compiled_tabu_calls
    short = time.monotonic() + 0.5 * tabu.COMPILED_FROM_S
    auto = tabu_search(p, start, deadline=short, max_iters=500, lower=p.lower_bound(), seed=1)
    assert calls == []
    asked = tabu_search(p, start, deadline=short, max_iters=500, lower=p.lower_bound(), seed=1, compiled=True)
    assert calls == ([True] if compiled else [])  # tabu.COMPILED=False still means Python
    for out in (auto, asked):
        assert check_line(p, out) == []
        assert out.cycle_time(p) <= start.cycle_time(p)
