"""Job shop / flexible job shop: rules, CP-SAT, LNS — every schedule checked independently."""

from __future__ import annotations

import dataclasses

from seamline.planning.readers import bench_dir, read_fjsp, read_index, read_jssp
from seamline.planning.shop.data import Mode, ShopInstance
from seamline.planning.shop.lns import lns
from seamline.planning.shop.model import build_shop_model
from seamline.planning.shop.rules import RULES, greedy_schedule
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule, check_schedule
from seamline.planning.shop.solver import solve_plain, solve_shop

BENCH = bench_dir()


def _all_instances() -> list[ShopInstance]:
    out = []
    for r in read_index("jssp"):
        out.append(read_jssp(BENCH / "jssp" / f"{r['name']}.txt"))
    for r in read_index("fjsp"):
        out.append(read_fjsp(BENCH / "fjsp" / f"{r['name']}.fjs"))
    return out


def test_every_rule_gives_a_feasible_schedule_on_every_instance() -> None:
    for inst in _all_instances():
        for rule in RULES:
            s = greedy_schedule(inst, rule)
            assert check_schedule(inst, s) == [], (inst.name, rule)
            assert s.makespan >= inst.lower_bound()


def test_checker_catches_overlap_precedence_duration_and_missing_ops() -> None:
    inst = ShopInstance("t", 2, (((Mode(0, 3),), (Mode(1, 2),)), ((Mode(0, 2),), (Mode(1, 4),))))
    good = ShopSchedule(
        (ScheduledOp(0, 0, 0, 0, 3), ScheduledOp(0, 1, 1, 3, 5), ScheduledOp(1, 0, 0, 3, 5), ScheduledOp(1, 1, 1, 5, 9))
    )
    assert check_schedule(inst, good) == []
    overlap = dataclasses.replace(good, ops=(*good.ops[:2], ScheduledOp(1, 0, 0, 2, 4), good.ops[3]))
    assert any("overlaps" in e for e in check_schedule(inst, overlap))
    early = dataclasses.replace(good, ops=(*good.ops[:3], ScheduledOp(1, 1, 1, 4, 8)))
    assert any("before op 0 ends" in e for e in check_schedule(inst, early))
    short = dataclasses.replace(good, ops=(*good.ops[:3], ScheduledOp(1, 1, 1, 5, 8)))
    assert any("needs 4" in e for e in check_schedule(inst, short))
    assert any("missing" in e for e in check_schedule(inst, ShopSchedule(good.ops[:3])))
    wrong_machine = dataclasses.replace(good, ops=(ScheduledOp(0, 0, 1, 0, 3), *good.ops[1:]))
    assert any("ineligible" in e for e in check_schedule(inst, wrong_machine))


def test_ft06_is_solved_to_its_optimum() -> None:
    inst = read_jssp(BENCH / "jssp" / "ft06.txt")
    s = solve_shop(inst, 3.0)
    assert check_schedule(inst, s) == []
    assert s.makespan == 55


def test_flexible_solve_beats_the_rule_and_stays_feasible() -> None:
    inst = read_fjsp(BENCH / "fjsp" / "mk01.fjs")
    rule = greedy_schedule(inst, "mwkr")
    s = solve_shop(inst, 3.0)
    assert check_schedule(inst, s) == []
    assert s.makespan <= rule.makespan
    assert s.makespan <= 42  # best known 40; the rule alone gives well above


def test_lns_improves_a_poor_incumbent_and_never_worsens_it() -> None:
    import time

    inst = read_jssp(BENCH / "jssp" / "ft20.txt")
    start = greedy_schedule(inst, "lwkr")  # deliberately weak start
    better = lns(inst, start, time.monotonic() + 3.0, lower_bound=inst.lower_bound())
    assert check_schedule(inst, better) == []
    assert better.makespan < start.makespan


def test_plain_model_is_feasible_too() -> None:
    inst = read_jssp(BENCH / "jssp" / "la01.txt")
    s = solve_plain(inst, 2.0)
    assert s is not None and check_schedule(inst, s) == []


def test_json_output_is_zero_based_and_sorted() -> None:
    inst = read_fjsp(BENCH / "fjsp" / "mk01.fjs")
    js = greedy_schedule(inst).to_json()
    assert js["makespan"] == max(o["end"] for o in js["schedule"])
    keys = [(o["job"], o["op"]) for o in js["schedule"]]
    assert keys == sorted(keys) and keys[0] == (0, 0)
    assert min(o["machine"] for o in js["schedule"]) == 0


def test_phase_plan_gives_classic_shops_the_whole_budget_unhinted() -> None:
    """The split is chosen by shape: classic job shops → all to the unhinted, bounded full model."""
    from seamline.planning.shop.solver import GREEDY_MAX_S, plan_phases

    ft10 = read_jssp(BENCH / "jssp" / "ft10.txt")
    p = plan_phases(ft10, 5.0)
    assert p.full_frac == 1.0 and not p.hint_full
    assert p.greedy_s == 0.0  # one dispatch rule only: the rest of the time is CP-SAT's
    big_flexible = max(
        (read_fjsp(BENCH / "fjsp" / f"{r['name']}.fjs") for r in read_index("fjsp")), key=lambda i: i.num_ops
    )
    assert big_flexible.num_ops >= 150
    q = plan_phases(big_flexible, 10.0)
    assert q.full_frac == 0.5 and q.hint_full
    assert 0.0 < q.greedy_s <= GREEDY_MAX_S and q.greedy_s <= 0.03 * 10.0 + 1e-9
    assert plan_phases(ft10, 5.0, full_frac=0.3).full_frac == 0.3


def test_first_model_of_a_classic_shop_is_the_plain_model_bounded_and_unhinted() -> None:
    from seamline.planning.shop.solver import first_model, plan_phases

    inst = read_jssp(BENCH / "jssp" / "ft10.txt")
    start = greedy_schedule(inst, "mwkr")
    lb = inst.lower_bound()
    sm = first_model(inst, plan_phases(inst, 5.0), start, lb)
    plain = build_shop_model(inst, inst.horizon())
    assert len(sm.model.proto.solution_hint.vars) == 0  # no anchoring on the dispatch-rule start
    assert len(sm.model.proto.constraints) == len(plain.model.proto.constraints)
    assert sm.makespan is not None
    dom = list(sm.model.proto.variables[sm.makespan.index].domain)
    assert dom == [lb, start.makespan]
    flex = read_fjsp(BENCH / "fjsp" / "mk01.fjs")
    fstart = greedy_schedule(flex, "mwkr")
    hinted = first_model(flex, plan_phases(flex, 5.0), fstart, flex.lower_bound())
    assert len(hinted.model.proto.solution_hint.vars) > 0


def test_classic_shop_gives_cpsat_nearly_all_the_limit_and_beats_its_start() -> None:
    """What the log says the full model got: the limit less the greedy start and the build."""
    import re

    inst = read_jssp(BENCH / "jssp" / "la16.txt")
    lines: list[str] = []
    s = solve_shop(inst, 3.0, log=lines.append)
    got = [re.search(r"full model: ([\d.]+) s of ([\d.]+) s, hinted=(\w+)", ln) for ln in lines]
    m = next(g for g in got if g)
    assert float(m.group(1)) >= 0.8 * float(m.group(2))
    assert m.group(3) == "False"
    assert check_schedule(inst, s) == []
    assert s.makespan < greedy_schedule(inst, "mwkr").makespan
