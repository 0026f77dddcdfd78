"""Garment line balancing on a realistic jeans line, checked by an independent checker."""

from __future__ import annotations

import dataclasses
import time

import pytest

from seamline.domain.model import Operation, Style, Worker
from seamline.planning.balance.check import check_line, check_plan
from seamline.planning.balance.data import GRADE_EFFICIENCY, Assignment, BalanceProblem
from seamline.planning.balance.repair import repair_previous
from seamline.planning.balance.solver import balance_line, plan_from_solution, rebalance, to_line_problem
from tests.planning.fixtures import jeans_line, jeans_style


@pytest.fixture(scope="module")
def jeans_plan():
    p = jeans_line()
    t0 = time.monotonic()
    plan = balance_line(p, 4.5)
    return p, plan, time.monotonic() - t0


def test_jeans_bulletin_is_realistic() -> None:
    style = jeans_style()
    assert len(style.operations) >= 40
    assert 22 <= style.sam_min <= 30  # five-pocket jeans: 22-30 SAM
    assert len(jeans_line().workers) == 35


def test_jeans_line_balances_in_sequence_within_5_s(jeans_plan) -> None:
    p, plan, wall = jeans_plan
    assert wall <= 5.0
    assert check_plan(p, plan) == []  # includes precedence along the stations
    assert sorted(plan.stations) == sorted(w.badge for w in p.workers)
    # Stations in sequence, one machine type per worker: well above a paper balance's 60-70 %.
    assert plan.balance_efficiency >= 0.75
    assert plan.pieces_per_hour == pytest.approx(60.0 / plan.cycle_min)
    assert plan.loads_min[plan.bottleneck] == pytest.approx(plan.cycle_min)
    # Efficiencies differ, so the bottleneck is not simply work ÷ heads.
    assert len({round(v, 3) for v in plan.loads_min.values()}) > 3


def test_checker_rejects_tampered_plans(jeans_plan) -> None:
    p, plan, _ = jeans_plan
    a0 = plan.assignments[0]
    dropped = dataclasses.replace(plan, assignments=plan.assignments[1:])
    assert any("sum to" in e for e in check_plan(p, dropped))
    other = next(
        o
        for o in p.style.operations
        if o.machine_type not in {"MAN", p.style.op(a0.op_code).machine_type} and (a0.badge, o.code) not in p.efficiency
    )
    moved = dataclasses.replace(plan, assignments=(*plan.assignments, Assignment(a0.badge, other.code, 0.1, 0.0)))
    errs = check_plan(p, moved)
    assert errs and any(("cannot do" in e) or ("one type" in e) or ("sum to" in e) for e in errs)
    lied = dataclasses.replace(plan, cycle_min=plan.cycle_min * 0.9)
    assert any("cycle" in e for e in check_plan(p, lied))


# Two timed searches compared with each other: with another test process busy on the second core,
# the re-balance got less of its 4 s than when it was measured and lost to a lucky fresh plan (53
# moves against 46, CI 2026-12-07). So it runs alone, after the parallel tests (`make test`).
@pytest.mark.serial
def test_absent_worker_rebalance_changes_fewer_pairs_than_a_fresh_balance(jeans_plan) -> None:
    p, plan, _ = jeans_plan
    # Take away an SNLS operator (the biggest group): the line must re-spread her work.
    gone = next(b for b, t in plan.worker_machine.items() if t == "SNLS")
    p2 = dataclasses.replace(p, workers=tuple(w for w in p.workers if w.badge != gone))
    new = rebalance(p2, plan, 4.0)
    assert check_plan(p2, new) == []
    assert gone not in new.loads_min
    fresh = balance_line(p2, 4.0)
    fresh_changes = len(fresh.pairs() ^ plan.pairs())
    # Fewer moves than starting over — unless the re-balance found a shorter cycle than the fresh
    # balance did (both are timed searches; when her work fits only after someone walks into her
    # place, the search from the repaired plan may trade moves for a cycle the fresh one missed).
    assert new.changes < fresh_changes or new.cycle_min < fresh.cycle_min - 1e-9
    assert new.cycle_min <= fresh.cycle_min * 1.15


def test_rebalance_starts_from_the_previous_plan_with_only_the_absent_workers_work_moved(jeans_plan) -> None:
    # Few changes by construction, not by how far a timed search gets on a loaded machine: the
    # re-balance starts here, and its search only accepts a shorter cycle or fewer changes.
    p, plan, _ = jeans_plan
    gone = next(b for b, t in plan.worker_machine.items() if t == "SNLS")
    p2 = dataclasses.replace(p, workers=tuple(w for w in p.workers if w.badge != gone))
    lp, tasks, badges = to_line_problem(p2, plan, floating=frozenset(plan.floating_types))
    start = repair_previous(lp, tasks, badges, plan)
    assert start is not None and check_line(lp, start) == []
    repaired = plan_from_solution(p2, tasks, badges, start, plan)
    her_ops = {a.op_code for a in plan.assignments if a.badge == gone}
    # Her pairs go; the rest stay except where a split operation has fewer parts on a smaller line.
    assert len(her_ops) <= repaired.changes <= 2 * len(her_ops) + 10
    assert repaired.changes < len(plan.pairs()) // 4


def test_slow_worker_sheds_work() -> None:
    p = jeans_line()
    plan = balance_line(p, 2.0)
    slow = plan.bottleneck
    eff = {k: (v * 0.6 if k[0] == slow else v) for k, v in p.efficiency.items()}
    p2 = dataclasses.replace(p, efficiency=eff)
    new = rebalance(p2, plan, 3.0)
    assert check_plan(p2, new) == []
    assert new.loads_min[slow] <= new.cycle_min + 1e-9


def test_grades_give_default_efficiency_and_nobody_able_is_an_error() -> None:
    ops = (Operation("A", "甲", "a", 1.0, "SNLS", 3), Operation("B", "乙", "b", 0.5, "OL4", 1, ("A",)))
    style = Style("S", "款", "s", ops)
    w1 = Worker("W1", "one", skills={"SNLS": 4})
    w2 = Worker("W2", "two", skills={"OL4": 3, "SNLS": 1})
    p = BalanceProblem(style=style, workers=(w1, w2))
    assert p.efficiency_of(w1, ops[0]) == GRADE_EFFICIENCY[4]
    assert p.efficiency_of(w2, ops[0]) == 0.0  # grade 1 < the op's grade 3 - 1
    plan = balance_line(p, 1.0)
    assert check_plan(p, plan) == []
    assert plan.worker_machine == {"W1": "SNLS", "W2": "OL4"}
    lonely = BalanceProblem(style=style, workers=(w1,))
    with pytest.raises(ValueError, match="OL4"):
        balance_line(lonely, 1.0)


def test_machine_limits_are_respected() -> None:
    ops = tuple(Operation(f"O{i}", "工", "op", 1.0, "SNLS") for i in range(4))
    style = Style("S", "款", "s", ops)
    workers = tuple(Worker(f"W{i}", "w", skills={"SNLS": 3}) for i in range(4))
    p = BalanceProblem(style=style, workers=workers, machines={"SNLS": 2})
    plan = balance_line(p, 1.0)
    assert check_plan(p, plan) == []
    assert sum(1 for t in plan.worker_machine.values() if t == "SNLS") == 2
    assert plan.cycle_min == pytest.approx(2.0 / GRADE_EFFICIENCY[3], rel=1e-3)


def _small_style() -> Style:
    ops = (
        Operation("A", "甲", "a", 1.0, "SNLS"),
        Operation("B", "乙", "trim", 0.1, "MAN", 1, ("A",)),
        Operation("C", "丙", "c", 1.2, "SNLS", 1, ("B",)),
    )
    return Style("S", "款", "s", ops)


def test_helpers_get_the_manual_work() -> None:
    style = _small_style()
    sewers = tuple(Worker(f"S{i}", "w", skills={"SNLS": 4, "MAN": 3}) for i in (1, 2))
    helper = Worker("H1", "helper", skills={"MAN": 4})
    p = BalanceProblem(style=style, workers=(*sewers, helper), max_workers_per_op=1)
    assert p.helpers() == {"H1"}
    plan = balance_line(p, 2.0)
    assert check_plan(p, plan) == []
    # A sewer could trim within the cycle too; the helper takes it instead.
    assert {a.op_code for a in plan.assignments if a.badge == "H1"} == {"B"}


def test_precedence_and_zones_hold() -> None:
    style = _small_style()
    workers = tuple(Worker(f"W{i}", "w", skills={"SNLS": 4, "MAN": 4}) for i in range(3))
    p = BalanceProblem(style=style, workers=workers, max_workers_per_op=1, zones={"C": frozenset({2})})
    plan = balance_line(p, 2.0)
    assert check_plan(p, plan) == []
    pos = {b: i for i, b in enumerate(plan.stations)}
    where = {a.op_code: pos[a.badge] for a in plan.assignments}
    assert where["A"] <= where["B"] <= where["C"] == 2
    # The checker sees a plan that walks a bundle back.
    back = dataclasses.replace(plan, stations=tuple(reversed(plan.stations)))
    assert any("comes after" in e or "zone" in e for e in check_plan(p, back))


def test_measured_efficiency_is_not_capped_and_grades_are_a_prior() -> None:
    style = _small_style()
    w = Worker("W1", "w", skills={"SNLS": 5, "MAN": 5})
    a = style.op("A")
    p = BalanceProblem(style=style, workers=(w,), efficiency={("W1", "A"): 1.2})
    assert p.efficiency_of(w, a) == pytest.approx(1.2)  # faster than standard, and the grade says 0.95
    shrunk = dataclasses.replace(p, prior_weight={("W1", "A"): 0.5})
    assert shrunk.efficiency_of(w, a) == pytest.approx(0.5 * 1.2 + 0.5 * GRADE_EFFICIENCY[5])


def test_evaluate_a_given_allocation_reports_idle_overloaded_and_violations() -> None:
    style = _small_style()
    workers = tuple(Worker(f"W{i}", "w", skills={"SNLS": 4, "MAN": 4}) for i in range(3))
    p = BalanceProblem(style=style, workers=workers, target_pieces_per_hour=50.0)
    from seamline.planning.balance.solver import evaluate_allocation

    plan = evaluate_allocation(p, [("W0", {"C": 1.0}), ("W1", {"A": 1.0, "B": 1.0})])
    errs = check_plan(p, plan)
    assert any("comes after" in e for e in errs)  # C sewn before A and B: bundles walk back
    assert plan.idle == ("W2",) and plan.stations[-1] == "W2"
    assert plan.cycle_min == pytest.approx(1.2 / GRADE_EFFICIENCY[4])
    assert plan.meets_target is False and set(plan.overloaded) == {"W0", "W1"}  # takt 1.2 min
