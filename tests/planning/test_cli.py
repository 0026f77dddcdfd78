"""``seamline solve`` end to end: one JSON object on stdout, feasible, on time."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from seamline.entrypoints.cli_planning import solve_budget_s
from seamline.planning.readers import bench_dir, read_alb, read_fjsp
from seamline.planning.salbp.data import SalbpSolution, check_salbp
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule, check_schedule

BENCH = bench_dir()
REPO = Path(__file__).resolve().parents[2]


def _solve(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "seamline.entrypoints.cli", "solve", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    return out, time.monotonic() - t0


def test_fjsp_prints_exactly_one_feasible_json_object() -> None:
    path = BENCH / "fjsp" / "mk01.fjs"
    out, wall = _solve("fjsp", str(path), "--time-limit", "2", "-v")
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    res = json.loads(lines[0])
    inst = read_fjsp(path)
    sched = ShopSchedule(
        tuple(ScheduledOp(o["job"], o["op"], o["machine"], o["start"], o["end"]) for o in res["schedule"])
    )
    assert check_schedule(inst, sched) == []
    assert res["makespan"] == sched.makespan
    assert "done" in out.stderr  # progress goes to stderr, never stdout
    # Limit + 2 s is the contract; leave room for a loaded CI runner's Python start-up.
    assert wall < 2 + 2 + 3


def test_salbp_uses_the_file_cycle_time_unless_given() -> None:
    path = BENCH / "salbp" / "instance_n=20_100.alb"
    out, _ = _solve("salbp", str(path), "--time-limit", "1")
    res = json.loads(out.stdout)
    inst = read_alb(path)
    sol = SalbpSolution(tuple(tuple(s) for s in res["assignment"]))
    assert check_salbp(inst, sol) == [] and res["stations"] == sol.num_stations
    out2, _ = _solve("salbp", str(path), "--time-limit", "1", "--cycle-time", str(inst.cycle_time * 3))
    res2 = json.loads(out2.stdout)
    sol2 = SalbpSolution(tuple(tuple(s) for s in res2["assignment"]))
    assert check_salbp(inst.with_cycle_time(inst.cycle_time * 3), sol2) == []
    assert res2["stations"] < res["stations"]
    assert sorted(t for s in res["assignment"] for t in s) == list(range(1, inst.n + 1))  # 1-based


def test_budget_counts_start_up_against_the_grace() -> None:
    assert solve_budget_s(5.0, 0.5) == 5.0  # quick start-up: the whole limit
    assert solve_budget_s(5.0, 3.0) == 5.0 + 1.5 - 3.0  # slow start-up eats the solver's time
    assert solve_budget_s(1.0, 10.0) == 0.05  # always leave time for the greedy answer


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seamline.entrypoints.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=120
    )


def test_balance_command_on_the_sample_factory() -> None:
    out = _cli(
        "balance", str(REPO / "examples" / "factory"), "--style", "TEE-BASIC", "--line", "L1", "--time-limit", "1"
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["style"] == "TEE-BASIC" and res["pieces_per_hour"] > 0
    shares: dict[str, float] = {}
    for w in res["workers"].values():
        for op, s in w["ops"].items():
            shares[op] = shares.get(op, 0.0) + s
    assert shares and all(abs(v - 1.0) < 0.01 for v in shares.values())


def test_load_command_what_if_answers_yes_or_no() -> None:
    out = _cli(
        "load",
        str(REPO / "examples" / "factory"),
        "--start",
        "2026-11-26",
        "--days",
        "14",
        "--what-if",
        "POLO:100000:2026-11-28",
        "--time-limit",
        "4",
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["accept"] is False and res["on_time"] is False and "cannot make" in res["reason"]
