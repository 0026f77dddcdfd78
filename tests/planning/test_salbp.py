"""SALBP-1: bounds, heuristics, CP-SAT, and the independent checker."""

from __future__ import annotations

from seamline.planning.readers import bench_dir, parse_alb, read_alb, read_index
from seamline.planning.salbp.data import SalbpSolution, check_salbp
from seamline.planning.salbp.heuristics import best_greedy, dispatch_rule, lower_bound, station_bounds
from seamline.planning.salbp.solver import solve_plain, solve_salbp

BENCH = bench_dir() / "salbp"
ROWS = read_index("salbp")


def test_heuristics_are_feasible_and_bounds_valid_on_every_instance() -> None:
    for r in ROWS:
        inst = read_alb(BENCH / f"{r['name']}.alb")
        lb = lower_bound(inst)
        assert lb <= int(r["optimal_stations"]) or r["optimal"] == "no"
        for sol in (dispatch_rule(inst), best_greedy(inst, 0.05)):
            assert check_salbp(inst, sol) == [], r["name"]
            assert sol.num_stations >= lb


def test_station_windows_contain_a_known_optimal_assignment() -> None:
    inst = read_alb(BENCH / "instance_n=20_1.alb")
    sol = solve_salbp(inst, 3.0)
    e, late = station_bounds(inst, sol.num_stations)
    for s, tasks in enumerate(sol.stations, start=1):
        for t in tasks:
            assert e[t - 1] <= s <= late[t - 1]


def test_twenty_task_instances_solve_to_their_optimum() -> None:
    for r in ROWS[:8]:
        inst = read_alb(BENCH / f"{r['name']}.alb")
        sol = solve_salbp(inst, 2.0)
        assert check_salbp(inst, sol) == []
        assert sol.num_stations == int(r["optimal_stations"]), r["name"]


def test_cycle_time_override_changes_the_answer() -> None:
    inst = read_alb(BENCH / "instance_n=20_100.alb")
    tight = solve_salbp(inst, 2.0)
    loose_inst = inst.with_cycle_time(inst.cycle_time * 2)
    loose = solve_salbp(loose_inst, 2.0)
    assert check_salbp(loose_inst, loose) == []
    assert loose.num_stations < tight.num_stations


def test_checker_catches_overload_precedence_and_missing_tasks() -> None:
    inst = parse_alb(
        "<number of tasks>\n3\n<cycle time>\n10\n<task times>\n1 4\n2 6\n3 5\n<precedence relations>\n1,2\n<end>\n"
    )
    assert check_salbp(inst, SalbpSolution(((1, 2), (3,)))) == []
    assert any("exceeds" in e for e in check_salbp(inst, SalbpSolution(((1, 2, 3),))))
    assert any("after task 2" in e for e in check_salbp(inst, SalbpSolution(((2, 3), (1,)))))
    assert any("unassigned" in e for e in check_salbp(inst, SalbpSolution(((1, 2),))))


def test_plain_model_finds_a_feasible_balance() -> None:
    inst = read_alb(BENCH / "instance_n=20_2.alb")
    sol = solve_plain(inst, 2.0)
    assert sol is not None and check_salbp(inst, sol) == []
