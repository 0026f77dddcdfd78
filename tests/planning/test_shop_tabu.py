"""The job shop's critical-path tabu search and the portfolio that runs it beside CP-SAT."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from seamline.planning.readers import bench_dir, read_jssp
from seamline.planning.shop import portfolio, tabu
from seamline.planning.shop.data import Mode, ShopInstance
from seamline.planning.shop.rules import greedy_schedule
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule, check_schedule
from seamline.planning.shop.tabu import _Graph, _sequences, tabu_search

BENCH = bench_dir()
REPO = Path(__file__).resolve().parents[2]


def _random_shop(jobs: int, machines: int, seed: int) -> ShopInstance:
    """A Taillard-style instance: each job visits every machine once, in random order, 1-99."""
    rng = random.Random(seed)
    rows = []
    for _ in range(jobs):
        order = list(range(machines))
        rng.shuffle(order)
        rows.append(tuple((Mode(m, rng.randint(1, 99)),) for m in order))
    return ShopInstance(f"random-{jobs}x{machines}-{seed}", machines, tuple(rows))


def test_estimate_is_the_longest_path_through_the_swapped_pair() -> None:
    # After swapping u, v the new makespan is at least the estimate, and equal to it whenever the
    # estimate is no shorter than the old makespan (no other path changed length).
    checked = 0
    for seed in range(3):
        inst = _random_shop(8, 6, seed)
        g = _Graph(inst, _sequences(inst, greedy_schedule(inst, "spt")))
        assert g.evaluate()
        rng = random.Random(seed)
        for _ in range(60):
            moves = g.moves(g.blocks(rng))
            if not moves:
                break
            u, v = rng.choice(moves)
            est, old = g.estimate(u, v), g.cmax
            g.swap(u, v)
            assert g.evaluate(), "an N5 swap on the critical path made the graph cyclic"
            assert g.cmax >= est
            if est >= old:
                assert g.cmax == est
            checked += 1
    assert checked > 100


def test_search_improves_a_weak_start_repeatably_and_never_loses_it() -> None:
    inst = read_jssp(BENCH / "jssp" / "ft10.txt")
    start = greedy_schedule(inst, "lwkr")  # deliberately weak: far above 930
    a = tabu_search(inst, start, max_iters=4000, seed=3)
    b = tabu_search(inst, start, max_iters=4000, seed=3)
    assert check_schedule(inst, a) == []
    assert a.makespan == b.makespan  # counted in iterations: the same seed gives the same schedule
    assert a.makespan <= 1000 < start.makespan
    # started from a good schedule it never returns a worse one
    assert tabu_search(inst, a, max_iters=500, seed=1).makespan <= a.makespan


def test_a_better_schedule_traded_in_is_continued_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabu, "TRADE_S", 0.0)  # trade at every 32nd iteration, improved or not
    inst = read_jssp(BENCH / "jssp" / "ft06.txt")
    weak = greedy_schedule(inst, "lwkr")
    good = tabu_search(inst, weak, max_iters=3000, seed=0)
    assert good.makespan < weak.makespan
    offered: list[int] = []

    def trade(best: ShopSchedule) -> ShopSchedule | None:
        offered.append(best.makespan)
        return good if good.makespan < best.makespan else None

    got = tabu_search(inst, weak, max_iters=64, seed=5, trade=trade, lower=good.makespan)
    assert offered, "trade was never called"
    assert got.makespan <= good.makespan
    assert check_schedule(inst, got) == []


def _seamline(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("seamline") or str(REPO / ".venv" / "bin" / "seamline")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=REPO, timeout=120)


def test_cli_answers_with_the_shorter_of_cp_sat_and_the_tabu_search(tmp_path: Path) -> None:
    inst = _random_shop(30, 10, 7)
    path = tmp_path / "big.txt"
    path.write_text(
        f"{inst.num_jobs} {inst.num_machines}\n"
        + "".join(" ".join(f"{m[0].machine} {m[0].duration}" for m in ops) + "\n" for ops in inst.jobs)
    )
    out = _seamline("solve", "jssp", str(path), "--time-limit", "3", "-v")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    sched = ShopSchedule(
        tuple(ScheduledOp(o["job"], o["op"], o["machine"], o["start"], o["end"]) for o in res["schedule"])
    )
    assert check_schedule(inst, sched) == []
    cpsat = re.search(r"full model makespan (\d+)", out.stderr)
    port = re.search(r"portfolio: (\d+) schedules from the tabu search, best (\d+)", out.stderr)
    assert cpsat and port, out.stderr
    assert int(port.group(1)) >= 1  # the search process reported
    assert res["makespan"] == int(port.group(2)) <= int(cpsat.group(1))
    assert res["makespan"] < greedy_schedule(inst, "mwkr").makespan


def test_small_shops_keep_cp_sat_on_both_cores() -> None:
    # Under FROM_OPS operations CP-SAT's own two workers are the stronger pair: no fork, no search.
    inst = read_jssp(BENCH / "jssp" / "ft06.txt")
    assert inst.num_ops < portfolio.FROM_OPS
    lines: list[str] = []
    s = portfolio.solve_shop_portfolio(inst, 2.0, log=lines.append)
    assert check_schedule(inst, s) == [] and s.makespan == 55
    assert not any("portfolio" in ln for ln in lines)


def test_a_job_visiting_a_machine_twice_keeps_its_order() -> None:
    # Not in the classic sets, but the reader accepts it: the two visits may never swap.
    jobs = (
        ((Mode(0, 5),), (Mode(0, 4),), (Mode(1, 3),)),
        ((Mode(1, 2),), (Mode(0, 6),), (Mode(1, 1),)),
        ((Mode(0, 3),), (Mode(1, 5),), (Mode(0, 2),)),
    )
    inst = ShopInstance("twice", 2, jobs)
    for seed in range(5):
        s = tabu_search(inst, greedy_schedule(inst, "lwkr"), max_iters=300, seed=seed)
        assert check_schedule(inst, s) == []
