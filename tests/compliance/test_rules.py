"""Rule sets as data, combining them (strictest wins), and the regular/overtime split."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seamline.compliance.days import DayCalendar, DayKind, load_holidays
from seamline.compliance.hours import classify
from seamline.compliance.rules import RuleError, active_rules, load_ruleset, parse_ruleset

H = 3600.0
MON = date(2026, 3, 2)
SIX_DAY = DayCalendar.of(range(6))


def _kinds(dc: DayCalendar = SIX_DAY):  # type: ignore[no-untyped-def]
    return lambda _w, d: dc.kind(d)


def _week(hours: list[float], start: date = MON) -> dict[tuple[str, date], float]:
    return {("W1", start + timedelta(days=i)): h * H for i, h in enumerate(hours) if h}


def test_shipped_rule_sets_hold_the_published_figures() -> None:
    prc = load_ruleset("prc_labour_law")
    assert (prc.day_regular_h, prc.week_regular_h) == (8, 44)
    assert (prc.premium_workday, prc.premium_rest_day, prc.premium_holiday) == (
        Decimal("1.5"),
        Decimal("2"),
        Decimal("3"),
    )
    caps = {(lim.metric, lim.period, lim.severity): lim.max for lim in prc.limits}
    assert caps == {
        ("overtime_h", "day", "notice"): 1,
        ("overtime_h", "day", "violation"): 3,
        ("overtime_h", "month", "violation"): 36,
        ("days_worked", "rolling7", "violation"): 6,
    }
    eti = load_ruleset("eti_base_code")
    assert (eti.day_regular_h, eti.week_regular_h) == (None, 48)
    assert {(lim.metric, lim.max) for lim in eti.limits if lim.period == "rolling7"} == {
        ("total_h", 60),
        ("overtime_h", 12),
        ("days_worked", 6),
    }
    sa = load_ruleset("sa8000")
    assert {(lim.metric, lim.max) for lim in sa.limits} == {("overtime_h", 12), ("total_h", 60), ("days_worked", 6)}


def test_combining_takes_the_strictest_of_each_field() -> None:
    both = active_rules(["eti_base_code", "prc_labour_law"])
    assert (both.day_regular_h, both.week_regular_h) == (8, 44)  # PRC's caps are lower
    assert both.premium_workday == Decimal("1.5")  # PRC's premium is higher than ETI's 125 %
    caps = {(lim.metric, lim.period, lim.severity): lim.max for lim in both.limits}
    assert caps[("overtime_h", "rolling7", "violation")] == 12  # only the buyer code has it
    assert caps[("overtime_h", "month", "violation")] == 36  # only the law has it
    assert caps[("days_worked", "rolling7", "violation")] == 6
    assert len(both.limits) == len(caps)  # duplicates folded into one


def test_combining_keeps_the_lower_cap_of_a_shared_limit() -> None:
    doc = {
        "id": "buyer_x",
        "regular": {"day_h": 10, "week_h": 40},
        "limits": [{"id": "x_ot_day", "metric": "overtime_h", "period": "day", "max": 2}],
    }
    from seamline.compliance.rules import combine

    c = combine([load_ruleset("prc_labour_law"), parse_ruleset(doc)])
    assert (c.day_regular_h, c.week_regular_h) == (8, 40)
    day_cap = [lim for lim in c.limits if lim.period == "day" and lim.severity == "violation"]
    assert [(lim.id, lim.max) for lim in day_cap] == [("x_ot_day", 2)]


def test_bad_rule_set_is_refused_with_its_location() -> None:
    with pytest.raises(RuleError, match="unknown metric 'hours'"):
        parse_ruleset({"id": "x", "limits": [{"id": "a", "metric": "hours", "period": "day", "max": 1}]})
    with pytest.raises(RuleError, match="expected a number"):
        parse_ruleset({"id": "x", "regular": {"day_h": -1}})
    with pytest.raises(RuleError, match="unknown rule set"):
        load_ruleset("nope")


def test_prc_split_daily_then_weekly() -> None:
    # Mon-Sat 9 h: Mon-Fri 8 regular + 1 overtime; Saturday only 4 h of the 44 h week left as regular
    hours = classify(_week([9, 9, 9, 9, 9, 9]), load_ruleset("prc_labour_law"), _kinds())
    assert [(h.regular_h, h.overtime_h) for h in hours] == [(8, 1)] * 5 + [(4, 5)]
    assert sum(h.overtime_h for h in hours) == 10


def test_week_cap_restarts_on_monday() -> None:
    # Sat 7 March and Mon 9 March are in different weeks: Monday gets a fresh 44 h
    att = {**_week([8, 8, 8, 8, 8, 8]), ("W1", date(2026, 3, 9)): 8 * H}
    hours = classify(att, load_ruleset("prc_labour_law"), _kinds())
    assert [(h.day.day, h.regular_h, h.overtime_h) for h in hours][-2:] == [(7, 4, 4), (9, 8, 0)]


def test_eti_alone_has_no_daily_cap() -> None:
    hours = classify(_week([9, 9, 9, 9, 9, 9]), load_ruleset("eti_base_code"), _kinds())
    assert [(h.regular_h, h.overtime_h) for h in hours] == [(9, 0)] * 5 + [(3, 6)]


def test_rest_day_and_holiday_hours_are_all_overtime() -> None:
    holidays = load_holidays()
    assert date(2026, 10, 1) in {h.day for h in holidays}
    dc = DayCalendar.of(range(6), holidays)
    # Sunday 8 March is a rest day; Thursday 1 October is National Day
    att = {("W1", date(2026, 3, 8)): 6 * H, ("W1", date(2026, 10, 1)): 5 * H}
    hours = classify(att, load_ruleset("prc_labour_law"), _kinds(dc))
    assert [(h.kind, h.regular_h, h.overtime_h) for h in hours] == [(DayKind.REST_DAY, 0, 6), (DayKind.HOLIDAY, 0, 5)]


def test_rest_day_hours_do_not_use_up_the_weekly_regular_hours() -> None:
    # 5-day calendar: Saturday is a rest day; the 44 h week is not reached by Mon-Fri 8 h
    att = _week([8, 8, 8, 8, 8, 8])
    hours = classify(att, load_ruleset("prc_labour_law"), _kinds(DayCalendar.of(range(5))))
    assert [(h.kind.value, h.regular_h, h.overtime_h) for h in hours][-1] == ("rest_day", 0, 8)
    assert sum(h.regular_h for h in hours) == 40


def test_weekly_and_monthly_totals() -> None:
    from seamline.compliance.hours import summarise

    # Mon 30 March .. Sat 4 April, 9 h a day: one week across two months
    att = _week([9, 9, 9, 9, 9, 9], start=date(2026, 3, 30))
    hours = classify(att, load_ruleset("prc_labour_law"), _kinds())
    weeks = summarise(hours, "week")
    assert [(w.start, w.days_worked, w.worked_h, w.regular_h, w.overtime_h) for w in weeks] == [
        (date(2026, 3, 30), 6, 54, 44, 10)
    ]
    months = summarise(hours, "month")
    # March: Mon 30 + Tue 31 = 16 regular + 2 overtime; April: 28 regular + 8 overtime (Saturday 4 + 5)
    assert [(m.start, m.days_worked, m.regular_h, m.overtime_h) for m in months] == [
        (date(2026, 3, 1), 2, 16, 2),
        (date(2026, 4, 1), 4, 28, 8),
    ]


@given(st.lists(st.floats(min_value=0, max_value=16), min_size=1, max_size=21))
@settings(max_examples=60, deadline=None)
def test_split_invariants(daily_h: list[float]) -> None:
    """Whatever the hours: regular + overtime = worked, caps hold, rest days have no regular hours."""
    att = {("W1", MON + timedelta(days=i)): h * H for i, h in enumerate(daily_h) if h > 0}
    hours = classify(att, load_ruleset("prc_labour_law"), _kinds())
    weekly: dict[date, float] = {}
    for h in hours:
        assert h.regular_s + h.overtime_s == pytest.approx(h.worked_s)
        assert 0 <= h.regular_s <= 8 * H + 1e-6
        if h.kind is not DayKind.WORKDAY:
            assert h.regular_s == 0
        ws = h.day - timedelta(days=h.day.weekday())
        weekly[ws] = weekly.get(ws, 0.0) + h.regular_s
    assert all(v <= 44 * H + 1e-6 for v in weekly.values())


def test_rules_per_factory_and_customer_from_config() -> None:
    from seamline.compliance.rules import resolve_rules

    config = {
        "default": ["prc_labour_law"],
        "factories": {"F2": ["eti_base_code"]},
        "customers": {"ACME": ["sa8000"], "STRICT": ["strict_buyer"]},
        "rulesets": {
            "strict_buyer": {
                "regular": {"day_h": 8, "week_h": 40},
                "limits": [{"id": "strict_ot_day", "metric": "overtime_h", "period": "day", "max": 2}],
            }
        },
    }
    assert resolve_rules(config, "F1").id == "prc_labour_law"
    assert resolve_rules(config, "F2").id == "eti_base_code"
    assert resolve_rules(config, "F1", "ACME").id == "prc_labour_law+sa8000"
    strict = resolve_rules(config, "F1", "STRICT")
    assert strict.week_regular_h == 40
    day_caps = {lim.id: lim.max for lim in strict.limits if lim.period == "day" and lim.severity == "violation"}
    assert day_caps == {"strict_ot_day": 2}
    with pytest.raises(RuleError, match="unknown rule set"):
        resolve_rules({"customers": {"X": ["nope"]}}, "F1", "X")
