"""Order loading obeys the active hours rules, and the compliance evaluator checks every plan."""

from __future__ import annotations

from datetime import date, timedelta

from seamline.compliance.rules import active_rules
from seamline.planning.loading.data import LoadingProblem, LoadLine, LoadOrder
from seamline.service_layer.loading import can_take, hours_policy, load_orders

MONDAY = date(2026, 12, 7)


def test_policy_from_rule_sets_takes_the_strictest_caps():
    prc = hours_policy(active_rules(["prc_labour_law"]))
    assert (prc.regular_h_per_day, prc.max_ot_h_per_day, prc.max_ot_h_per_month) == (8, 3, 36)
    both = hours_policy(active_rules(["prc_labour_law", "sa8000"]))
    assert both.max_ot_h_per_week == 12 and both.max_ot_h_per_day == 3 and both.max_ot_h_per_month == 36
    assert both.rest_days == (5, 6)  # 44 regular hours a week: five 8-hour days
    eti = hours_policy(active_rules(["eti_base_code"]))
    assert eti.rest_days == (6,) and eti.max_ot_h_per_week == 12  # 48 h: six days, one off in seven


def problem(qty: int) -> LoadingProblem:
    return LoadingProblem(
        start=MONDAY,
        horizon_days=12,
        lines=(LoadLine("L1", operators=30, efficiency=0.5, current_style="TEE"),),
        orders=(LoadOrder("O1", "TEE", qty, MONDAY + timedelta(days=4), sam_min=6.0),),
    )


def test_a_tight_order_gets_overtime_within_the_law_and_the_plan_passes_the_evaluator():
    rules = active_rules(["prc_labour_law", "eti_base_code"])
    # 30 operators x 8 h x 60 x 0.5 / 6 min = 1,200 pieces a regular day; Mon-Fri = 6,000.
    checked = load_orders(problem(6_600), rules, time_limit_s=5)
    assert checked.allowed, checked.violations
    days = [d for d in checked.plan.days if d.line_id == "L1"]
    assert max(d.overtime_h for d in days) <= 3
    assert sum(d.overtime_h for d in days if d.day < MONDAY + timedelta(days=7)) <= 12
    assert checked.plan.orders["O1"].late_days == 0  # 600 extra pieces = 4 h of overtime in the week


def test_what_if_refuses_an_order_the_rules_cannot_fit():
    rules = active_rules(["prc_labour_law", "sa8000"])
    verdict, checked = can_take(
        problem(1_000), LoadOrder("NEW", "TEE", 9_000, MONDAY + timedelta(days=4), sam_min=6.0), rules, 6
    )
    assert not verdict.accept
    assert checked.allowed  # whatever plan it shows stays within the rules
