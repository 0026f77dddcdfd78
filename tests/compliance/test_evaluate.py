"""Every limit of the shipped rule sets, hand-computed, with month and week boundaries."""

from __future__ import annotations

from datetime import date, timedelta

from seamline.compliance.days import DayCalendar
from seamline.compliance.evaluate import check_plan, evaluate
from seamline.compliance.hours import classify
from seamline.compliance.rules import active_rules, load_ruleset

PRC = load_ruleset("prc_labour_law")
SIX_DAY = DayCalendar.of(range(6))


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


def days(first: date, last: date, hours: float, weekdays: range = range(7)) -> dict[date, float]:
    out, x = {}, first
    while x <= last:
        if x.weekday() in weekdays:
            out[x] = hours
        x += timedelta(days=1)
    return out


def found(plan: dict[date, float], rules=PRC, **kw):  # type: ignore[no-untyped-def]
    return {(v.rule_id, v.severity, v.start, v.end, v.value) for v in check_plan({"W1": plan}, rules, **kw)}


def test_daily_overtime_notice_warning_and_violation() -> None:
    # Monday: 8 + 1 h -> nothing; Tuesday 8 + 2.5 -> notice (> 1 h) and warning (>= 80 % of 3 h);
    # Wednesday 8 + 3.5 -> notice and violation
    got = found({d(2): 9, d(3): 10.5, d(4): 11.5})
    assert got == {
        ("prc_ot_day_normal", "notice", d(3), d(3), 2.5),
        ("prc_ot_day", "warning", d(3), d(3), 2.5),
        ("prc_ot_day_normal", "notice", d(4), d(4), 3.5),
        ("prc_ot_day", "violation", d(4), d(4), 3.5),
    }


def test_monthly_overtime_counts_each_day_in_its_own_month() -> None:
    # Mon-Fri 10 h from 2 March to 3 April: 22 weekdays in March -> 44 h overtime (> 36);
    # 1-3 April -> 6 h. The week of 30 March - 3 April straddles the month boundary.
    plan = days(d(2), d(3, 4), 10, range(5))
    got = {x for x in found(plan) if x[0] == "prc_ot_month"}
    assert got == {("prc_ot_month", "violation", d(1), d(31), 44.0)}


def test_monthly_overtime_warning_before_the_breach() -> None:
    # 15 weekdays x 2 h = 30 h >= 80 % of 36 h: warning, not yet a violation
    plan = days(d(2), d(20), 10, range(5))
    got = {x for x in found(plan) if x[0] == "prc_ot_month"}
    assert got == {("prc_ot_month", "warning", d(1), d(31), 30.0)}
    # a stricter warning threshold from the caller: 20 h >= 50 % of 36 after 10 days
    got50 = {x for x in found(days(d(2), d(13), 10, range(5)), warn_pct=50) if x[0] == "prc_ot_month"}
    assert got50 == {("prc_ot_month", "warning", d(1), d(31), 20.0)}


def test_seven_days_in_a_row_across_the_week_boundary_breaks_the_rest_day_rule() -> None:
    # Thu 5 .. Wed 11 March: each calendar week has days off, but no rolling 7 days does
    plan = days(d(5), d(11), 8)
    assert {x for x in found(plan, days=SIX_DAY) if x[0] == "prc_rest_day"} == {
        ("prc_rest_day", "violation", d(5), d(11), 7.0)
    }
    # six days on, one off, six on: never seven in a row
    ok = {**days(d(2), d(7), 8), **days(d(9), d(14), 8)}
    assert not [x for x in found(ok, days=SIX_DAY) if x[0] == "prc_rest_day"]


def test_a_long_streak_is_one_finding_at_its_worst_window() -> None:
    plan = days(d(2), d(15), 8)  # 14 days in a row
    rest = [v for v in check_plan({"W1": plan}, PRC, days=SIX_DAY) if v.rule_id == "prc_rest_day"]
    assert [(v.start, v.end, v.value) for v in rest] == [(d(2), d(8), 7.0)]


def test_eti_sixty_hours_in_any_seven_days_across_weeks() -> None:
    eti = load_ruleset("eti_base_code")
    # Wed 4 .. Tue 10 March, 11 h a day except Sunday 8: 6 x 11 = 66 h in one 7-day window,
    # though the calendar weeks hold only 44 and 22 h
    plan = {x: 11.0 for x in days(d(4), d(10), 11) if x != d(8)}
    totals = {x for x in found(plan, eti, days=SIX_DAY) if x[0] == "eti_total_7d" and x[1] == "violation"}
    assert totals == {("eti_total_7d", "violation", d(4), d(10), 66.0)}


def test_eti_and_sa8000_weekly_overtime_cap() -> None:
    # 6 x 10 h Mon-Sat = 60 h: ETI/SA8000 regular is 48 h, so 12 h overtime -> warning, not breach
    plan = days(d(2), d(7), 10)
    for name, rule in (("eti_base_code", "eti_ot_7d"), ("sa8000", "sa8000_ot_week")):
        got = {x for x in found(plan, load_ruleset(name), days=SIX_DAY) if x[0] == rule}
        # the first window holding the worst value: Sun 1 .. Sat 7 March
        assert got == {(rule, "warning", d(1), d(7), 12.0)}
    # one more hour on Saturday breaks it
    plan[d(7)] = 11
    got = {x for x in found(plan, load_ruleset("sa8000"), days=SIX_DAY) if x[0] == "sa8000_ot_week"}
    # windows after the breach that still hold Saturday's 11 h of overtime stay at warning level
    assert got == {("sa8000_ot_week", "violation", d(1), d(7), 13.0), ("sa8000_ot_week", "warning", d(7), d(13), 11.0)}


def test_combined_rules_report_the_binding_limit() -> None:
    # PRC + ETI: 6 x 10 h Mon-Sat. Under PRC's 44 h week there are 16 h of overtime in 7 days,
    # which breaks the buyer's 12 h cap; PRC's own daily 3 h cap breaks on Saturday (6 h overtime).
    rules = active_rules(["prc_labour_law", "eti_base_code"])
    got = {(x[0], x[1], x[4]) for x in found(days(d(2), d(7), 10), rules, days=SIX_DAY) if x[1] == "violation"}
    assert got == {("eti_ot_7d", "violation", 16.0), ("prc_ot_day", "violation", 6.0)}


def test_evaluate_over_classified_hours_per_worker() -> None:
    att = {("W1", d(2)): 12 * 3600.0, ("W2", d(2)): 9 * 3600.0}
    findings = evaluate(classify(att, PRC, lambda _w, x: SIX_DAY.kind(x)), PRC)
    assert {(v.worker, v.rule_id, v.severity) for v in findings} == {
        ("W1", "prc_ot_day_normal", "notice"),
        ("W1", "prc_ot_day", "violation"),
    }
    assert findings[0].describe("zh").startswith("W1 2026-03-02: 4 h / 3 h")
