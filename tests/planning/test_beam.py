"""The station-oriented beam search and the bottleneck descent of the line balancer (ALWABP-2)."""

from __future__ import annotations

import random
import time

import pytest

import seamline.planning.balance.beam as beam_mod
from seamline.planning.balance.beam import BEAM_RULES, INF, _Look, beam_construct, beam_search, relieve
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


def _look_from_scratch(
    st: _Static, unassigned: set[int], free: list[int], cycle: int, q: int
) -> tuple[int, float] | None:
    """What the look-ahead stands for, by its definition: None when a task has nobody free."""
    rest, rank = 0, 0.0
    for t in unassigned:
        times = [v for v, w in st.speed[t] if w in free]
        if not times or times[0] > cycle:
            return None
        rest += times[0]
        rank += sum(times[:q]) / len(times[:q])
    return rest, rank


def test_the_look_ahead_corrected_per_child_equals_its_definition() -> None:
    p = read_alwabp(BENCH / "tonge-41.alwabp")
    st = _Static(p)
    rng = random.Random(3)
    k = p.num_workers
    checked = 0
    for _ in range(40):
        unassigned = set(rng.sample(range(p.num_tasks), rng.randint(5, p.num_tasks)))
        free = sorted(rng.sample(range(k), rng.randint(2, k)))
        cycle = rng.randint(10, 60)
        q = rng.choice((1, 2, 3, 5))
        if _look_from_scratch(st, unassigned, free, cycle, q) is None:
            continue
        look = _Look(st.speed, unassigned, free, k, cycle, q)
        for w in free:
            taken = rng.sample(sorted(unassigned), rng.randint(0, min(6, len(unassigned))))
            want = _look_from_scratch(st, unassigned - set(taken), [x for x in free if x != w], cycle, q)
            rest, rank = look.child(w, taken)
            if want is None:
                assert rest == INF
            else:
                assert rest == want[0] and abs(rank - want[1]) < 1e-6
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("compiled", [False, True])
def test_every_fill_rule_builds_a_feasible_line(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    p = read_alwabp(BENCH / "roszieg-41.alwabp")
    monkeypatch.setattr(beam_mod, "COMPILED", compiled)
    for rule in BEAM_RULES:
        monkeypatch.setattr(beam_mod, "BEAM_RULES", (rule,))
        sol = beam_construct(_Static(p), 40, 4, random.Random(0), 0.0, float("inf"), rank_q=3)
        assert sol is not None, rule
        assert check_line(p, sol) == [] and sol.cycle_time(p) <= 40


@pytest.mark.parametrize("name", ["heskia-51", "roszieg-41", "tonge-61", "wee-mag-21", "wee-mag-61"])
def test_the_compiled_stations_build_what_the_python_beam_builds(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one fill per worker and no noise the beam is deterministic, so the compiled stations
    (``beam_kernel``) must give the Python beam's plan exactly — or fail where it fails. Ranks of
    q = 1 or 2 are exact in floating point (halves), so no tie can fall differently."""
    p = read_alwabp(BENCH / f"{name}.alwabp")
    st = _Static(p)
    lb = p.lower_bound()
    found = 0
    for cycle in (lb, lb + max(1, lb // 10), int(lb * 1.5), lb * 3):
        for q in (1, 2):
            for relaxed in (False, True):
                got = {}
                for compiled in (False, True):
                    monkeypatch.setattr(beam_mod, "COMPILED", compiled)
                    got[compiled] = beam_construct(
                        st, cycle, 8, random.Random(0), 0.0, float("inf"), fills=1, rank_q=q, relaxed=relaxed
                    )
                assert got[True] == got[False], (cycle, q, relaxed)
                found += got[True] is not None
    assert found >= 4  # the comparison covered real plans, not only failures


def test_the_compiled_beam_with_noise_keeps_every_station_within_the_cycle() -> None:
    p = read_alwabp(BENCH / "wee-mag-21.alwabp")
    st = _Static(p)
    assert beam_mod._use_compiled(st, float("inf"))
    lb = p.lower_bound()
    plans = []
    for seed in range(6):
        sol = beam_construct(st, 60, 16, random.Random(seed), 0.5, float("inf"), rank_q=2)  # best known 46
        if sol is not None:
            assert check_line(p, sol) == [] and sol.cycle_time(p) <= 60
            plans.append(sol)
        assert beam_construct(st, lb - 1, 16, random.Random(seed), 0.5, float("inf")) is None
    assert len(plans) >= 3 and len(set(plans)) >= 2  # the noise gives other plans, not one


def test_lines_with_zones_or_machines_keep_the_python_beam() -> None:
    base = parse_alwabp(TINY, "tiny")
    zoned = LineProblem("z", base.times, base.precedence, allowed=(None, None, None, frozenset({0})))
    assert beam_mod._use_compiled(_Static(base), float("inf"))
    assert not beam_mod._use_compiled(_Static(zoned), float("inf"))
    sol = beam_construct(_Static(zoned), 10, 4, random.Random(0), 0.0, float("inf"))
    assert sol is not None and check_line(zoned, sol) == []


@pytest.mark.parametrize("compiled", [False, True])
def test_a_beam_reports_how_many_stations_it_filled(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beam_mod, "COMPILED_MIN_S", 0.0 if compiled else 1e9)
    monkeypatch.setattr(beam_mod, "COMPILED", compiled)
    p = read_alwabp(BENCH / "wee-mag-61.alwabp")
    st = _Static(p)
    k = p.num_stations
    depth = [-1]
    ok = beam_construct(st, 40, 8, random.Random(0), 0.0, float("inf"), rank_q=2, filled=depth)
    assert ok is not None and depth == [k - 1]  # the last station was being filled when it succeeded
    # Well below the optimum (15) the beam dies part-way: neither at the first station nor the last.
    gone = beam_construct(st, 12, 8, random.Random(0), 0.0, float("inf"), rank_q=2, filled=depth)
    assert gone is None and 0 < depth[0] < k - 1


def test_the_beam_learns_which_ranking_fills_more_of_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(beam_mod, "RANK_LEARN", True)
    monkeypatch.setattr(beam_mod, "RANK_EXPLORE", 0.25)
    ranks = beam_mod._RankChooser(19, random.Random(0))
    # Failed tries that got further with q = 1 (as on wee-mag-61 at 15): it becomes the usual pick.
    for _ in range(3):
        for q in ranks.qs:
            ranks.tell(q, False, 15 if q == 1 else 13)
    picks = [ranks.pick() for _ in range(400)]
    assert picks.count(1) > 0.7 * len(picks)
    assert set(picks) == set(ranks.qs)  # the others are still tried now and then
    # A success outweighs depth: q = 3 succeeds twice and takes over.
    ranks.tell(3, True, 19)
    ranks.tell(3, True, 19)
    assert max(ranks.qs, key=lambda q: ranks.score[q]) == 3
    # With learning off the draw is the fixed one of ``RANK_QS``.
    monkeypatch.setattr(beam_mod, "RANK_LEARN", False)
    fixed = [ranks.pick() for _ in range(600)]
    assert abs(fixed.count(2) / len(fixed) - beam_mod.RANK_QS.count(2) / len(beam_mod.RANK_QS)) < 0.08
