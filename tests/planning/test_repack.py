"""The station-oriented depth-first search at a target cycle (``balance/station_dfs.py``) and the
window repacking built on it (``balance/repack.py``): every line found is feasible (each task once,
by a worker able to do it, precedence and zones respected), within the target, exact on tiny lines
(checked by brute force), and repacking is never worse than the plan it starts from."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import random
import time

import pytest

from seamline.planning.balance import portfolio
from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.balance.ipbs import solve_ipbs
from seamline.planning.balance.polish import _key
from seamline.planning.balance.repack import RepackMemo, repack, repack_window
from seamline.planning.balance.station_dfs import station_dfs
from seamline.planning.readers import bench_dir, read_alwabp

BENCH = bench_dir() / "alwabp"


def _random_line(seed: int, n: int, k: int, forbid: float = 0.2, zones: bool = False) -> LineProblem:
    """A random ALWABP line (worker-dependent times, forbidden pairs, a random DAG), with random
    zones when ``zones``."""
    rng = random.Random(seed)
    times: list[tuple[int | None, ...]] = []
    for _ in range(n):
        base = rng.randint(1, 9)
        row: list[int | None] = [None if rng.random() < forbid else rng.randint(base, 3 * base) for _ in range(k)]
        if all(v is None for v in row):
            row[rng.randrange(k)] = base
        times.append(tuple(row))
    prec = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 2.0 / n]
    allowed = None
    if zones:
        # task i may go to the stations from about its place in the order onwards or before it
        allowed = tuple(frozenset(range(max(0, i * k // n - 1), k)) if rng.random() < 0.5 else None for i in range(n))
    return LineProblem(name=f"rand{seed}", times=tuple(times), precedence=tuple(prec), allowed=allowed)


def _brute_force_optimum(p: LineProblem) -> int:
    k, n = p.num_workers, p.num_tasks
    best = 10**9
    for order in itertools.permutations(range(k)):
        for st in itertools.product(range(k), repeat=n):
            if any(st[i] > st[j] for i, j in p.precedence) or any(not p.station_ok(t, s) for t, s in enumerate(st)):
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


def test_exhaustive_search_is_exact_on_tiny_lines() -> None:
    """At the brute-force optimum it finds a feasible line; one below it, it proves there is none."""
    for seed in range(8):
        p = _random_line(seed, 6, 3, zones=seed % 2 == 1)
        opt = _brute_force_optimum(p)
        for reverse in (False, True):
            at = station_dfs(p, opt, max_nodes=100_000, exhaustive=True, reverse=reverse)
            assert at.line is not None, (seed, reverse)
            assert check_line(p, at.line) == [] and at.line.cycle_time(p) <= opt
            below = station_dfs(p, opt - 1, max_nodes=100_000, exhaustive=True, load_cap=10**6, step_cap=10**6)
            assert below.line is None and below.proved, seed


def test_limited_discrepancy_search_finds_feasible_lines_within_the_target() -> None:
    p = read_alwabp(BENCH / "tonge-1.alwabp")  # optimum 87
    res = station_dfs(p, 130, max_nodes=2000, seed=3)
    assert res.line is not None and res.nodes <= 2000
    assert check_line(p, res.line) == [] and res.line.cycle_time(p) <= 130
    # a budget of nodes is a budget: at the optimum the heuristic search gives up without a claim
    tight = station_dfs(p, 87, max_nodes=50)
    assert tight.nodes <= 50 and not tight.proved


def test_a_window_is_repacked_within_its_stations() -> None:
    p = read_alwabp(BENCH / "tonge-21.alwabp")
    sol = solve_ipbs(p, 30.0, seed=0, max_searches=40)
    c = sol.cycle_time(p)
    s = sol.loads(p).index(c)
    lo, hi = max(0, s - 1), min(p.num_stations - 1, s + 1)
    same = repack_window(p, sol, lo, hi, c)  # the window's own packing is within c
    assert same is not None and check_line(p, same) == [] and same.cycle_time(p) <= c
    outside = [st for i, st in enumerate(sol.stations) if not lo <= i <= hi]
    assert [st for i, st in enumerate(same.stations) if not lo <= i <= hi] == outside
    inside = {t for i in range(lo, hi + 1) for t in sol.stations[i][1]}
    assert {t for i in range(lo, hi + 1) for t in same.stations[i][1]} == inside


def test_repack_is_never_worse_and_always_feasible() -> None:
    """On random lines with zones and on a published line: feasible, precedence respected (by the
    independent checker) and never worse than its seed by (cycle, soft cost, stations at the
    cycle); on tonge-21 the seed's beam plan (cycle well above the optimum 158) gets shorter."""
    for seed in range(6):
        # every worker able to do every task, zones that all reach the last station: a plan exists
        p = _random_line(100 + seed, 14, 4, forbid=0.0, zones=seed % 2 == 0)
        start = solve_ipbs(p, 30.0, seed=seed, max_searches=4)
        out = repack(p, start, deadline=time.monotonic() + 5.0)
        assert check_line(p, out) == [] and _key(p, out) <= _key(p, start)
    p = read_alwabp(BENCH / "tonge-21.alwabp")
    # 20 beam searches: a plan well above the optimum (227 with the compiled levels; 40 searches
    # reach 191-193, which no window of a few stations shortens)
    start = solve_ipbs(p, 30.0, seed=0, max_searches=20)
    out = repack(p, start, deadline=time.monotonic() + 5.0)
    assert check_line(p, out) == []
    assert _key(p, out) <= _key(p, start)
    assert out.cycle_time(p) < start.cycle_time(p), (start.cycle_time(p), out.cycle_time(p))


def test_a_plan_at_the_lower_bound_is_left_alone() -> None:
    """Nothing below a cycle every window proves infeasible: the seed comes back unchanged."""
    p = LineProblem(name="pair", times=((4, 4), (4, 4)), precedence=((0, 1),))
    sol = LineSolution(((0, (0,)), (1, (1,))))
    assert repack(p, sol, deadline=time.monotonic() + 1.0) == sol


def test_a_memo_skips_proven_windows_and_deepens_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Iterative deepening across calls: a window proven to have no packing is not searched again;
    one that ran out of nodes comes back with twice the nodes, so a window needing 400 nodes is
    reached; the next call with the same memo starts at the budget where the last one stopped."""
    p = LineProblem(name="three", times=((5, 5, 5), (5, 5, 5), (5, 5, 5)), precedence=())
    sol = LineSolution(((0, (0, 1)), (1, (2,)), (2, ())))  # cycle 10 at station 0
    asked: list[tuple[int, int, int]] = []

    def fake(
        q: LineProblem, s: LineSolution, lo: int, hi: int, target: int, deadline: float | None, nodes: int
    ) -> tuple[LineSolution | None, bool]:
        if target == 9:  # the questions about this plan (not those about the plan found)
            asked.append((lo, hi, nodes))
        if (lo, hi) == (0, 1):
            return None, True  # proven: no packing of stations 0-1 within 9
        if (lo, hi) == (0, 2) and nodes >= 400 and target == 9:
            return LineSolution(((0, (0,)), (1, (1,)), (2, (2,)))), False
        return None, False

    monkeypatch.setattr("seamline.planning.balance.repack._search_window", fake)
    memo = RepackMemo()
    out = repack(p, sol, deadline=time.monotonic() + 5.0, memo=memo)
    assert out.cycle_time(p) == 5
    assert [a for a in asked if a[:2] == (0, 1)] == [(0, 1, 50)]  # proven once, then skipped
    assert [n for lo, hi, n in asked if (lo, hi) == (0, 2)] == [50, 100, 200, 400]
    # the next pass on the same plan starts where this one stopped
    asked.clear()
    repack(p, sol, deadline=time.monotonic() + 5.0, memo=memo)
    assert asked[0] == (0, 2, 400) and all(a[:2] != (0, 1) for a in asked)


def test_the_portfolio_search_process_repacks_between_its_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked search's loop, run in this process: after IPBS and after each tabu round the
    plan goes through ``repack``, whose result is what the search sends on (never worse)."""
    p = read_alwabp(BENCH / "tonge-21.alwabp")
    calls: list[tuple[tuple[int, int, int], tuple[int, int, int]]] = []

    def recording(
        q: LineProblem, sol: LineSolution, *, deadline: float, memo: RepackMemo | None = None
    ) -> LineSolution:
        out = repack(q, sol, deadline=deadline, memo=memo)
        calls.append((_key(q, sol), _key(q, out)))
        return out

    monkeypatch.setattr(portfolio, "repack", recording)
    mine, theirs = mp.Pipe(duplex=True)
    portfolio._child(theirs, p, 3.0, 1.0, 0)
    sent: list[LineSolution] = []
    while mine.poll(0):
        try:
            got = mine.recv()
        except EOFError:  # the search closed its end after its last plan
            break
        assert got is not None
        sent.append(got)
    assert calls and all(after <= before for before, after in calls)
    assert sent and check_line(p, sent[-1]) == []
    assert _key(p, sent[-1]) <= min(after for _, after in calls)
