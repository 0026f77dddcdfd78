"""Order loading under the factory's active working-hours rules.

Planning and compliance are separate features; this use-case joins them. The rule set in force
(PRC law, a buyer's code, or both — the strictest wins) becomes the numeric ``HoursPolicy`` the
loading model obeys, and every plan is checked again by the compliance evaluator before it is
offered: a plan with a violation is refused, one with warnings is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from ..compliance.days import DayCalendar
from ..compliance.evaluate import Violation, check_plan
from ..compliance.rules import RuleSet
from ..planning.loading.data import HoursPolicy, LoadingPlan, LoadingProblem, LoadOrder, Verdict
from ..planning.loading.solver import can_accept, solve_loading


def hours_policy(rules: RuleSet, base: HoursPolicy | None = None) -> HoursPolicy:
    """The loading model's limits from a rule set: the tightest cap per period wins."""
    base = base or HoursPolicy()
    caps: dict[str, float] = {}
    days_worked_7: float | None = None
    for lim in rules.limits:
        if lim.severity != "violation":
            continue
        period = "week" if lim.period == "rolling7" else lim.period  # the model's week is any 7 days
        if lim.metric == "overtime_h" and period in ("day", "week", "month"):
            caps[period] = min(caps.get(period, lim.max), lim.max)
        elif lim.metric == "total_h" and period == "week":
            ot = lim.max - (rules.week_regular_h or base.regular_h_per_day * 6)
            caps["week"] = min(caps.get("week", ot), ot)
        elif lim.metric == "days_worked" and lim.period == "rolling7":
            days_worked_7 = lim.max
    day_h = rules.day_regular_h or base.regular_h_per_day
    rest_days = base.rest_days
    if days_worked_7 is not None and days_worked_7 < 7 and not rest_days:
        rest_days = (6,)
    if rules.week_regular_h:
        # Regular days may not add up to more than the regular week (PRC: 44 h = five 8-hour days
        # and hours beyond; the evaluator counts a sixth day's hours as overtime), so plan the week
        # with as many regular days as fit and leave the rest as rest days.
        n_workdays = max(1, min(7 - len(rest_days), int(rules.week_regular_h // day_h)))
        rest_days = tuple(range(n_workdays, 7))
    return replace(
        base,
        regular_h_per_day=day_h,
        max_ot_h_per_day=int(caps.get("day", base.max_ot_h_per_day)),
        max_ot_h_per_week=int(caps["week"]) if "week" in caps else base.max_ot_h_per_week,
        max_ot_h_per_month=int(caps["month"]) if "month" in caps else base.max_ot_h_per_month,
        rest_days=rest_days,
    )


def plan_hours_by_line(plan: LoadingPlan) -> dict[str, dict[date, float]]:
    """Hours each line's operators would work per day under the plan (they all work the line's day)."""
    out: dict[str, dict[date, float]] = defaultdict(dict)
    for d in plan.days:
        hours = d.regular_h + d.overtime_h
        if hours > 0:
            out[d.line_id][d.day] = hours
    return out


@dataclass(frozen=True)
class CheckedPlan:
    plan: LoadingPlan
    violations: tuple[Violation, ...]  # refuse
    warnings: tuple[Violation, ...]  # flag

    @property
    def allowed(self) -> bool:
        return not self.violations


def check(plan: LoadingPlan, rules: RuleSet, policy: HoursPolicy) -> CheckedPlan:
    """The compliance evaluator's findings on the plan's hours, with the plan's own rest days."""
    calendar = DayCalendar.of(d for d in range(7) if d not in policy.rest_days)
    findings = check_plan(plan_hours_by_line(plan), rules, days=calendar)
    return CheckedPlan(
        plan,
        tuple(v for v in findings if v.severity == "violation"),
        tuple(v for v in findings if v.severity != "violation"),
    )


def load_orders(problem: LoadingProblem, rules: RuleSet, time_limit_s: float = 10.0) -> CheckedPlan:
    """Plan the order book within the rules, and say what the evaluator finds in the plan."""
    pb = replace(problem, policy=hours_policy(rules, problem.policy))
    plan = solve_loading(pb, time_limit_s)
    if plan is None:
        raise RuntimeError("the loading model found no plan in the time limit")
    return check(plan, rules, pb.policy)


def can_take(
    problem: LoadingProblem, new_order: LoadOrder, rules: RuleSet, time_limit_s: float = 10.0
) -> tuple[Verdict, CheckedPlan]:
    """ "Can we take 800 pieces of style X due Friday?" within the active hours rules."""
    pb = replace(problem, policy=hours_policy(rules, problem.policy))
    verdict = can_accept(pb, new_order, time_limit_s)
    checked = check(verdict.plan, rules, pb.policy)
    if not checked.allowed and verdict.accept:
        verdict = replace(verdict, accept=False, reason=f"the plan breaks {checked.violations[0].rule_id}")
    return verdict, checked
