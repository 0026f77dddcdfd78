"""``seamline solve`` end to end: one JSON object on stdout, feasible, on time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from seamline.adapters.layout_files import load_factory
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


def _seamline(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``seamline`` executable, as a user runs it."""
    exe = shutil.which("seamline") or str(Path(sys.executable).with_name("seamline"))
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=REPO, timeout=120)


FACTORY = REPO / "examples" / "factory"


def _stations_of(res: dict) -> dict[str, list[int]]:
    pos = {b: i for i, b in enumerate(res["stations"])}
    at: dict[str, list[int]] = {}
    for b, w in res["workers"].items():
        for op in w["ops"]:
            at.setdefault(op, []).append(pos[b])
    return at


def test_balance_tee_shirt_keeps_bundles_moving_forward_and_meets_a_target(tmp_path: Path) -> None:
    out = _seamline(
        "balance", str(FACTORY), "--style", "TEE-BASIC", "--line", "L1", "--time-limit", "2", "--target", "60"
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["style"] == "TEE-BASIC" and res["pieces_per_hour"] > 0
    shares: dict[str, float] = {}
    for w in res["workers"].values():
        for op, s in w["ops"].items():
            shares[op] = shares.get(op, 0.0) + s
    assert shares and all(abs(v - 1.0) < 0.01 for v in shares.values())
    # Precedence along the line: no worker sews an operation before its predecessors' stations.
    style = load_factory(FACTORY).styles["TEE-BASIC"]
    at = _stations_of(res)
    assert res["floating_types"] == []
    for o in style.operations:
        for q in o.predecessors:
            assert max(at[q]) <= min(at[o.code]), (q, o.code)
    assert res["target_pieces_per_hour"] == 60 and res["takt_min"] == 1.0
    assert res["meets_target"] is True and res["overloaded"] == []
    assert res["idle"] == [b for b in res["stations"] if res["workers"][b]["load_min"] < 0.8 * res["cycle_min"]]
    # Someone is absent: re-balance against this plan, changing few (worker, operation) pairs.
    prev = tmp_path / "plan.json"
    prev.write_text(out.stdout)
    gone = next(b for b in res["stations"] if res["workers"][b]["ops"])
    out2 = _seamline(
        "balance",
        str(FACTORY),
        "--style",
        "TEE-BASIC",
        "--line",
        "L1",
        "--time-limit",
        "2",
        "--absent",
        gone,
        "--previous",
        str(prev),
    )
    assert out2.returncode == 0, out2.stderr
    res2 = json.loads(out2.stdout)
    assert gone not in res2["stations"] and len(res2["stations"]) == len(res["stations"]) - 1
    lost = len(res["workers"][gone]["ops"])
    pairs = sum(len(w["ops"]) for w in res["workers"].values())
    assert lost <= res2["changes"] < 2 * pairs  # her pairs had to move; not everything was redone


def test_balance_evaluate_scores_a_given_allocation(tmp_path: Path) -> None:
    style = load_factory(FACTORY).styles["TEE-BASIC"]
    codes = [o.code for o in style.operations]
    # The factory's paper layout: one worker per operation in bulletin order, except that the
    # label (T06) is sewn at the very start — its bundle then walks back up the line.
    workers = ["B1001", "B1002", "B1003", "B1004", "B1005", "B1006", "B1007", "B1008", "B1009", "B1010", "B1011"]
    order = ["T06"] + [c for c in codes if c not in ("T06", "T12", "T13")]
    stations = [{"worker": w, "ops": [c]} for w, c in zip(workers, order, strict=True)]
    stations.append({"worker": "B1016", "ops": {"T12": 1.0, "T13": 1.0}})
    alloc = tmp_path / "alloc.json"
    alloc.write_text(json.dumps({"stations": stations}))
    out = _seamline(
        "balance", str(FACTORY), "--style", "TEE-BASIC", "--line", "L1", "--evaluate", str(alloc), "--target", "200"
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["stations"][:12] == [*workers, "B1016"]
    assert any("T04" in e and "comes after" in e for e in res["violations"])
    assert res["meets_target"] is False and res["bottleneck"] in res["overloaded"]
    assert "B1017" in res["idle"]  # present, given nothing
    loads = {b: w["load_min"] for b, w in res["workers"].items()}
    assert res["cycle_min"] == max(loads.values())
    bad = tmp_path / "bad.json"
    bad.write_text('{"stations": [{"worker": "NOBODY", "ops": ["T01"]}]}')
    out2 = _seamline("balance", str(FACTORY), "--style", "TEE-BASIC", "--line", "L1", "--evaluate", str(bad))
    assert out2.returncode == 2 and "NOBODY" in out2.stderr and out2.stdout == ""


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
