"""Order loading: plans checked independently; lateness, overtime and changeovers; the what-if."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from seamline.planning.loading.check import check_loading
from seamline.planning.loading.data import HoursPolicy, LoadingProblem, LoadLine, LoadOrder
from seamline.planning.loading.solver import can_accept, solve_loading

MON = date(2026, 3, 2)  # a Monday
SAM = {"TEE": 6.0, "JEANS": 24.0}


def _order(oid: str, style: str, qty: int, due_days: int, **kw) -> LoadOrder:
    return LoadOrder(oid, style, qty, MON + timedelta(days=due_days), SAM[style], **kw)


def _problem(orders: tuple[LoadOrder, ...], **kw) -> LoadingProblem:
    # 20 operators at 50 %: 600 std min per hour, 4800 per regular day (800 tees or 200 jeans).
    lines = kw.pop("lines", (LoadLine("L1", 20, 0.5, "TEE"), LoadLine("L2", 20, 0.5, "JEANS")))
    return LoadingProblem(MON, kw.pop("days", 14), lines, orders, **kw)


def test_ample_capacity_means_no_lateness_no_overtime_no_changeover() -> None:
    pb = _problem((_order("T1", "TEE", 1600, 5), _order("J1", "JEANS", 400, 5)))
    plan = solve_loading(pb, 3.0)
    assert plan is not None and check_loading(pb, plan) == []
    assert (plan.total_late_days, plan.total_overtime_h, plan.total_changeovers) == (0, 0, 0)
    assert plan.orders["T1"].line_id == "L1" and plan.orders["J1"].line_id == "L2"


def test_overtime_is_used_to_be_on_time_but_within_the_caps() -> None:
    # 1000 jeans by Wednesday on one line: 3 regular days make 600; overtime needed.
    pb = _problem(
        (_order("J1", "JEANS", 700, 2),),
        lines=(LoadLine("L2", 20, 0.5, "JEANS"),),
        policy=HoursPolicy(max_ot_h_per_day=3, max_ot_h_per_week=12),
    )
    plan = solve_loading(pb, 3.0)
    assert check_loading(pb, plan) == []
    assert plan.orders["J1"].late_days == 0
    assert 0 < plan.total_overtime_h <= 9
    # The minimum: 100 extra jeans = 2400 std min = 4 line-hours.
    assert plan.total_overtime_h == 4


def test_lateness_beats_overtime_caps_never_bend() -> None:
    pol = HoursPolicy(max_ot_h_per_day=1, max_ot_h_per_week=2, max_ot_h_per_month=36)
    pb = _problem((_order("J1", "JEANS", 1000, 2),), lines=(LoadLine("L2", 20, 0.5, "JEANS"),), policy=pol)
    plan = solve_loading(pb, 3.0)
    assert check_loading(pb, plan) == []
    assert plan.orders["J1"].late_days > 0
    assert plan.total_overtime_h <= 2


def test_rest_days_are_not_worked_and_switch_costs_capacity() -> None:
    pb = _problem((_order("J1", "JEANS", 180, 1),), lines=(LoadLine("L1", 20, 0.5, "TEE"),))
    plan = solve_loading(pb, 3.0)
    assert check_loading(pb, plan) == []
    assert plan.total_changeovers == 1
    # 180 jeans fit one regular day (200) but not after a changeover (2 h + 30 % learning).
    assert plan.orders["J1"].finish == MON + timedelta(days=1) or plan.total_overtime_h > 0
    assert all(ld.day.weekday() != 6 for ld in plan.days)


def test_checker_catches_an_overloaded_day() -> None:
    pb = _problem((_order("T1", "TEE", 800, 5),))
    plan = solve_loading(pb, 2.0)
    day = next(ld for ld in plan.days if ld.pieces)
    bad_day = dataclasses.replace(day, pieces={"T1": 5000})
    bad = dataclasses.replace(plan, days=tuple(bad_day if ld is day else ld for ld in plan.days))
    errs = check_loading(pb, bad)
    assert any("capacity" in e for e in errs) and any("ordered" in e for e in errs)


def test_what_if_yes_when_it_fits_no_with_displacement_when_it_does_not() -> None:
    book = (_order("J1", "JEANS", 600, 4), _order("T1", "TEE", 2400, 6))
    pb = _problem(book)
    yes = can_accept(pb, _order("NEW", "JEANS", 300, 9), 6.0)
    assert yes.accept and yes.on_time and yes.displaced == ()
    assert check_loading(dataclasses.replace(pb, orders=(*book, _order("NEW", "JEANS", 300, 9))), yes.plan) == []
    # One jeans line, 700 booked for Friday; 700 more by Wednesday fits only with overtime and
    # then the week's 12 h overtime cap leaves Friday's order short: it is displaced.
    one = _problem((_order("J1", "JEANS", 700, 4),), lines=(LoadLine("L2", 20, 0.5, "JEANS"),))
    tight = can_accept(one, _order("RUSH", "JEANS", 700, 2), 6.0)
    assert tight.on_time and not tight.accept
    assert tight.displaced == ("J1",)
    impossible = can_accept(pb, _order("HUGE", "JEANS", 20000, 3), 6.0)
    assert not impossible.accept and not impossible.on_time
    assert "cannot make" in impossible.reason


@pytest.mark.parametrize("used", [0, 10])
def test_overtime_already_used_this_week_counts(used: int) -> None:
    pol = HoursPolicy(max_ot_h_per_day=3, max_ot_h_per_week=12, ot_h_used_week=used)
    pb = _problem((_order("J1", "JEANS", 1200, 4),), lines=(LoadLine("L2", 20, 0.5, "JEANS"),), policy=pol)
    plan = solve_loading(pb, 3.0)
    assert check_loading(pb, plan) == []
    week1 = sum(ld.overtime_h for ld in plan.days if ld.day.isocalendar()[1] == MON.isocalendar()[1])
    assert week1 <= 12 - used
