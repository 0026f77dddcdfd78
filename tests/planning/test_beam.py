"""The station-oriented beam search and the bottleneck descent of the line balancer (ALWABP-2)."""

from __future__ import annotations

import random
import time

from seamline.planning.balance.beam import beam_construct, beam_search, relieve
from seamline.planning.balance.check import check_line
from seamline.planning.balance.construct import _Static, best_construction
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.solver import polish
from seamline.planning.readers import bench_dir, parse_alwabp, read_alwabp

BENCH = bench_dir() / "alwabp"
# 4 tasks in a chain-ish order, 3 workers; worker 2 cannot do task 1, worker 1 cannot do task 0.
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


def test_beam_beats_or_matches_the_construction_and_is_feasible() -> None:
    p = read_alwabp(BENCH / "tonge-41.alwabp")
    first = best_construction(p, 0.3, 0)
    assert first is not None
    found = beam_search(p, 1.0, 0, incumbent=first, polish=lambda s: polish(p, s))
    assert found is not None
    assert check_line(p, found) == []
    assert found.cycle_time(p) <= first.cycle_time(p)
    assert found.cycle_time(p) >= p.lower_bound()


def test_beam_construct_keeps_every_station_within_the_cycle_or_gives_up() -> None:
    p = read_alwabp(BENCH / "heskia-41.alwabp")
    st = _Static(p)
    rng = random.Random(0)
    ok = beam_construct(st, 60, 4, rng, 0.0, float("inf"))
    assert ok is not None and check_line(p, ok) == [] and ok.cycle_time(p) <= 60
    # Below the lower bound no plan exists: the look-ahead must say so, not return an overload.
    assert beam_construct(st, p.lower_bound() - 1, 4, rng, 0.3, float("inf")) is None
    # The relaxed form completes the line: every station but the last within the cycle.
    relaxed = beam_construct(st, 60, 4, rng, 0.0, float("inf"), relaxed=True)
    assert relaxed is not None
    assert check_line(p, relaxed) == []
    assert max(relaxed.loads(p)[:-1]) <= 60 and relaxed.cycle_time(p) <= 60


def test_relieve_moves_work_off_the_bottleneck_and_respects_precedence() -> None:
    p = parse_alwabp(TINY, "tiny")
    # Worker 2 at station 0 does tasks 0, 2 (2 + 1); worker 0 at station 1 does task 1 (2);
    # worker 1 at station 2 does task 3 (2) — balanced at 3. Load everything onto station 0 instead.
    heavy = LineSolution(((2, (0, 2, 3)), (0, (1,)), (1, ())))
    assert heavy.cycle_time(p) == 6
    better = relieve(p, heavy)
    assert check_line(p, better) == []
    assert better.cycle_time(p) < heavy.cycle_time(p)


def test_relieve_keeps_tasks_in_their_zones() -> None:
    base = parse_alwabp(TINY, "tiny")
    zoned = LineProblem("z", base.times, base.precedence, allowed=(None, None, None, frozenset({0})))
    heavy = LineSolution(((2, (0, 2, 3)), (0, (1,)), (1, ())))
    out = relieve(zoned, heavy)
    assert check_line(zoned, out) == []
    assert 3 in out.stations[0][1]  # task 3 may only stand at station 0


def test_polish_never_worsens_a_plan() -> None:
    p = read_alwabp(BENCH / "wee-mag-41.alwabp")
    first = best_construction(p, 0.2, 1)
    assert first is not None
    out = polish(p, first)
    assert check_line(p, out) == []
    assert out.cycle_time(p) <= first.cycle_time(p)


def test_beam_hands_back_the_time_when_it_stalls() -> None:
    p = read_alwabp(BENCH / "tonge-41.alwabp")
    first = best_construction(p, 0.2, 0)
    assert first is not None
    t0 = time.monotonic()
    found = beam_search(p, 30.0, 0, incumbent=first, stall_s=0.0)
    # With no patience only the bisection on the cycle runs; the random descent below it does not.
    assert time.monotonic() - t0 < 15.0
    assert found is not None and check_line(p, found) == []
    assert found.cycle_time(p) <= first.cycle_time(p)
