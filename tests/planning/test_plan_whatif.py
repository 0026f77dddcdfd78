"""The planning board's what-if on the loading engine: a moved order changes lateness, overtime and
changeovers as the move implies; a move that cannot be planned is reported and applies nothing."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from seamline.planning.loading.check import check_loading
from seamline.planning.loading.data import LoadingProblem, LoadLine, LoadOrder
from seamline.planning.loading.whatif import Move, board_plan, pinned, starts, what_if

MONDAY = date(2026, 11, 23)


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


def problem(o3_qty: int = 300) -> LoadingProblem:
    """Two lines of 2400 std min a day (10 operators × 60 min × 50 % × 8 h); L1 sews style A, L2 style B."""
    return LoadingProblem(
        start=MONDAY,
        horizon_days=14,
        lines=(LoadLine("L1", 10, 0.5, "A"), LoadLine("L2", 10, 0.5, "B")),
        orders=(
            LoadOrder("O1", "A", 200, day(0), 10.0),  # 2000 std min: Monday's work on L1
            LoadOrder("O2", "A", 200, day(1), 10.0),
            LoadOrder("O3", "B", o3_qty, day(2), 10.0),
        ),
    )


HELD = {"O1": "L1", "O2": "L1", "O3": "L2"}


def test_the_board_holds_orders_to_their_lines_and_is_on_time() -> None:
    pb = problem()
    plan = board_plan(pb, HELD, {})
    assert {k: v.line_id for k, v in plan.orders.items()} == HELD
    assert plan.total_late_days == 0 and plan.total_changeovers == 0
    assert plan.optimal
    assert check_loading(pinned(pb, HELD, {}), plan) == []


def test_moving_an_order_to_a_line_sewing_another_style_costs_a_changeover_there() -> None:
    pb = problem()
    before = board_plan(pb, HELD, {})
    wi = what_if(pb, before, Move("O2", "L2", day(0)))
    assert wi.feasible, wi.reasons
    assert wi.after is not None
    assert wi.after.orders["O2"].line_id == "L2"
    assert wi.orders[0].order_id == "O2" and (wi.orders[0].line_before, wi.orders[0].line_after) == ("L1", "L2")
    lines = {c.line_id: c for c in wi.lines}
    assert lines["L2"].changeovers_after > lines["L2"].changeovers_before == 0
    assert wi.changeovers_delta > 0
    # the board's plan is what it was: a what-if changes nothing
    assert before.orders["O2"].line_id == "L1"


def test_moving_an_order_later_makes_it_late_by_the_days_it_lost() -> None:
    pb = problem()
    before = board_plan(pb, HELD, {})
    assert before.orders["O1"].late_days == 0
    wi = what_if(pb, before, Move("O1", "L1", day(3)))
    assert wi.feasible
    assert wi.after is not None
    assert starts(wi.after)["O1"] == day(3)
    (o1,) = [c for c in wi.orders if c.order_id == "O1"]
    assert (o1.late_days_before, o1.late_days_after) == (0, 3)
    assert wi.orders[0] == o1  # the moved order comes first
    assert wi.after.total_late_days - before.total_late_days >= 3


def test_a_move_onto_a_full_line_costs_overtime_or_makes_its_orders_late() -> None:
    pb = problem(o3_qty=700)  # 7000 of L2's 7200 std min until Wednesday
    before = board_plan(pb, HELD, {})
    assert before.total_late_days == 0 and before.total_overtime_h == 0
    wi = what_if(pb, before, Move("O2", "L2", day(0)))
    assert wi.feasible and wi.after is not None
    more_ot = wi.after.total_overtime_h > before.total_overtime_h
    later = wi.after.total_late_days > before.total_late_days
    assert more_ot or later
    l2 = {c.line_id: c for c in wi.lines}["L2"]
    assert l2.overtime_h_after >= l2.overtime_h_before
    # L1 keeps its plan exactly apart from losing O2
    assert [d for d in wi.after.days if d.line_id == "L1" and "O1" in d.pieces] == [
        d for d in before.days if d.line_id == "L1" and "O1" in d.pieces
    ]


def test_an_infeasible_move_is_reported_and_not_applied() -> None:
    pb = problem(o3_qty=700)
    before = board_plan(pb, HELD, {})
    last = pb.days()[-1]
    # nearly three days of work starting on the plan's last day cannot be finished in the horizon
    wi = what_if(pb, before, Move("O3", "L1", last))
    assert not wi.feasible
    assert any("cannot be finished" in r for r in wi.reasons)
    assert before.orders["O3"].line_id == "L2"
    # outside the horizon, unknown lines and lines the order may not use are refused unsolved
    for mv, words in (
        (Move("O1", "L1", last + timedelta(days=1)), "after the plan's last day"),
        (Move("O1", "L1", MONDAY - timedelta(days=1)), "before the plan's first day"),
        (Move("O1", "L9", MONDAY), "unknown line"),
    ):
        wi = what_if(pb, before, mv)
        assert not wi.feasible and wi.after is None
        assert any(words in r for r in wi.reasons), wi.reasons
    only_l1 = dataclasses.replace(
        pb, orders=tuple(dataclasses.replace(o, lines=("L1",)) if o.order_id == "O1" else o for o in pb.orders)
    )
    wi = what_if(only_l1, board_plan(only_l1, HELD, {}), Move("O1", "L2", MONDAY))
    assert not wi.feasible and any("may not be made on L2" in r for r in wi.reasons)


def test_a_release_day_holds_the_order_back_in_model_greedy_and_check() -> None:
    pb = problem()
    moved = {"O1": Move("O1", "L1", day(2))}
    plan = board_plan(pb, HELD, moved)
    assert starts(plan)["O1"] == day(2)
    pb1 = pinned(pb, HELD, moved)
    assert check_loading(pb1, plan) == []
    # the independent check catches pieces made before the release day
    early = dataclasses.replace(pb1, orders=tuple(dataclasses.replace(o, release=day(5)) for o in pb1.orders))
    assert any("before its release day" in e for e in check_loading(early, plan))
