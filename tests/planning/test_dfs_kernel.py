"""The windows' depth-first search compiled (``balance/dfs_kernel.py``) against the Python search.

The kernel must be the same search, not a similar one: the same line (worker and tasks of every
station, in order), the same node count and the same proof, on lines with zones and seats, both
directions, with and without limited discrepancies, and with caps that bind.
"""

from __future__ import annotations

import random
import sys

import pytest

from seamline.planning.balance import repack as rp
from seamline.planning.balance import station_dfs as sd
from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem
from seamline.planning.balance.ipbs import solve_ipbs
from seamline.planning.balance.station_dfs import station_dfs
from seamline.planning.readers import bench_dir, read_alwabp

BENCH = bench_dir() / "alwabp"


def _random_line(seed: int, n: int, k: int, zones: bool, seats: bool) -> LineProblem:
    rng = random.Random(seed)
    times: list[tuple[int | None, ...]] = []
    for _ in range(n):
        base = rng.randint(1, 9)
        row: list[int | None] = [None if rng.random() < 0.2 else rng.randint(base, 3 * base) for _ in range(k)]
        if all(v is None for v in row):
            row[rng.randrange(k)] = base
        times.append(tuple(row))
    prec = tuple((i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 2.0 / n)
    allowed = None
    if zones:
        allowed = tuple(frozenset(range(max(0, i * k // n - 1), k)) if rng.random() < 0.5 else None for i in range(n))
    seat = None
    if seats:
        w = rng.randrange(k)
        seat = tuple(rng.randrange(k) if x == w else None for x in range(k))
    return LineProblem(name=f"rand{seed}", times=tuple(times), precedence=prec, allowed=allowed, worker_station=seat)


def _same(p: LineProblem, target: int, **kw: object) -> sd.DfsResult:
    a = station_dfs(p, target, compiled=False, **kw)  # type: ignore[arg-type]
    b = station_dfs(p, target, compiled=True, **kw)  # type: ignore[arg-type]
    assert (b.line, b.nodes, b.proved) == (a.line, a.nodes, a.proved), (p.name, target, kw)
    if b.line is not None:
        assert check_line(p, b.line) == [] and b.line.cycle_time(p) <= target
    return b


def test_the_compiled_search_is_the_python_search_on_random_lines() -> None:
    outcomes = set()
    for seed in range(24):
        n, k = 8 + seed % 13, 3 + seed % 5
        p = _random_line(seed, n, k, zones=seed % 3 == 1, seats=seed % 4 == 2)
        lb = p.lower_bound()
        for target in (lb, lb + 3, lb + 10):
            for exhaustive in (True, False):
                for reverse in (False, True):
                    for nodes, caps in ((40, (48, 4000)), (600, (3, 30))):
                        got = _same(
                            p,
                            target,
                            max_nodes=nodes,
                            exhaustive=exhaustive,
                            reverse=reverse,
                            load_cap=caps[0],
                            step_cap=caps[1],
                        )
                        outcomes.add((got.line is not None, got.proved))
    # the comparison covered lines found, proofs and searches that ran out of nodes
    assert outcomes >= {(True, False), (False, True), (False, False)}


def test_the_compiled_search_is_the_python_search_on_repack_windows() -> None:
    p = read_alwabp(BENCH / "wee-mag-21.alwabp")
    sol = solve_ipbs(p, 30.0, seed=1, max_searches=20)
    c = sol.cycle_time(p)
    windows = rp._windows(p, sol, c, rp.MAX_WIDTH, rp.MAX_TASKS)
    assert windows
    for lo, hi in windows[::3][:12]:
        sub, _, _ = rp._window_problem(p, sol, lo, hi)
        for target in (c, c - 1):
            _same(
                sub,
                target,
                max_nodes=rp.WINDOW_NODES,
                exhaustive=True,
                load_cap=rp.WINDOW_LOADS,
                step_cap=rp.WINDOW_STEPS,
            )


def test_the_compiled_search_runs_only_where_it_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    small = _random_line(3, 10, 4, zones=False, seats=False)
    line = sd._Line(small, False)
    monkeypatch.setitem(sys.modules, "numba", sys.modules.get("numba") or object())  # type: ignore[arg-type]
    assert sd._use_compiled(line, None, None, None)
    assert not sd._use_compiled(line, 3, None, None)  # a seed's noise: Python
    assert not sd._use_compiled(line, None, {}, None)  # a memo carried between calls: Python
    assert not sd._use_compiled(line, None, None, False)
    monkeypatch.setattr(sd, "COMPILED", False)
    assert not sd._use_compiled(line, None, None, None)
    assert sd._use_compiled(line, None, None, True)
    long = read_alwabp(BENCH / "wee-mag-1.alwabp")  # 75 tasks: more than one 64-bit word
    assert not sd._use_compiled(sd._Line(long, False), None, None, True)
