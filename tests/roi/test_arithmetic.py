"""Hand-computed cases for every money formula, the payback and the sensitivity cases.

The numbers in the comments were worked out on paper from docs/roi.md; the code must agree to
the cent.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from seamline.roi.inputs import (
    METRICS,
    Baseline,
    Figure,
    Investment,
    Rates,
    RoiInputs,
    inputs_from_dict,
    scaled_investment,
)
from seamline.roi.labels import LABELS
from seamline.roi.measure import BlockFacts, measure
from seamline.roi.money import effects, gross_monthly, net_monthly, payback_months
from seamline.roi.spread import assess

RATES = Rates(
    wage_per_hour=Decimal("20"),
    overtime_premium=Decimal("1.5"),
    net_margin_pct=Decimal("8"),
    price_per_garment=Decimal("15"),
    wip_value_per_piece=Decimal("25"),
    carrying_pct_per_month=Decimal("1.5"),
    rework_min_per_defect=Decimal("3"),
    late_cost_pct=Decimal("5"),
    workdays_per_month=Decimal("25"),
)
BASE = Baseline(
    {
        "efficiency_pct": Figure(Decimal("40"), "hand"),
        "overtime_h_per_worker_month": Figure(Decimal("20"), "hand"),
        "wip_pieces": Figure(Decimal("1000"), "hand"),
        "dhu_pct": Figure(Decimal("5"), "hand"),
        "on_time_pct": Figure(Decimal("80"), "hand"),
        "small_orders_per_month": Figure(Decimal("0"), "hand"),
    }
)
# One worked day: E = 2400/4800 = 50 %; 10 workers, 2 h overtime; WIP 4000/8 = 500 pieces;
# DHU 20/1000 = 2 %; 2 orders due, both on time, 600 pieces; 1 small order of 200 started.
DAY = BlockFacts(
    label="2026-11-23",
    day_equiv=1.0,
    pieces=1000,
    earned_min=2400.0,
    attended_min=4800.0,
    output=80,
    defects=20,
    overtime_h=2.0,
    worker_days=10.0,
    wip_piece_samples=4000.0,
    wip_samples=8,
    orders_due=2,
    orders_on_time=2,
    order_qty_due=600,
    small_orders=1,
    small_order_qty=200,
)
INV = Investment(
    stations=30,
    sensor_cost_per_station=Decimal("1000"),
    tablets=2,
    tablet_cost=Decimal("1500"),
    installation=Decimal("5000"),
    software_per_month=Decimal("687.50"),
)


def by_metric() -> dict[str, Decimal | None]:
    meas = measure([DAY], RATES.workdays_per_month)
    return {e.metric: e.monthly for e in effects(BASE, meas, RATES)}


def test_measured_figures_of_the_hand_day() -> None:
    m = measure([DAY], RATES.workdays_per_month)
    assert m.metrics["efficiency_pct"] == Decimal("50.00")
    assert m.metrics["output_per_attended_h"] == Decimal("1.000")  # 80 garments / 80 h
    assert m.metrics["overtime_h_per_worker_month"] == Decimal("5.00")  # 2 / 10 × 25
    assert m.metrics["wip_pieces"] == Decimal("500.0")
    assert m.metrics["dhu_pct"] == Decimal("2.000")
    assert m.metrics["on_time_pct"] == Decimal("100.0")
    assert m.metrics["small_orders_per_month"] == Decimal("25.00")
    assert m.earned_h_month == Decimal("1000.00")  # 40 h a day × 25
    assert m.pieces_month == Decimal("25000.00")
    assert m.workers == Decimal("10.00")


def test_each_money_formula_by_hand() -> None:
    money = by_metric()
    # 1000 h × (100/40 − 100/50) = 500 h saved × 20 CNY
    assert money["efficiency_pct"] == Decimal("10000.00")
    # priced inside efficiency, never twice
    assert money["output_per_attended_h"] is None
    # (20 − 5) h × 10 workers × 20 CNY × 0.5 premium
    assert money["overtime_h_per_worker_month"] == Decimal("1500.00")
    # 500 pieces × 25 CNY × 1.5 %
    assert money["wip_pieces"] == Decimal("187.50")
    # 3 % of 25 000 pieces = 750 defects × 3 min = 37.5 h × 20 CNY
    assert money["dhu_pct"] == Decimal("750.00")
    # 20 points × 50 orders = 10 orders × (300 × 15 CNY) × 5 %
    assert money["on_time_pct"] == Decimal("2250.00")
    # 25 small orders × 200 pieces × 15 CNY × 8 %
    assert money["small_orders_per_month"] == Decimal("6000.00")


def test_payback_and_sensitivity_by_hand() -> None:
    assert INV.one_off == Decimal("38000")  # 30 × 1000 + 2 × 1500 + 5000
    meas = measure([DAY], RATES.workdays_per_month)
    gross = gross_monthly(effects(BASE, meas, RATES))
    assert gross == Decimal("20687.50")
    assert net_monthly(gross, INV) == Decimal("20000.00")
    assert payback_months(INV.one_off, net_monthly(gross, INV)) == Decimal("1.9")
    # orders −30 %: 20687.50 × 0.7 − 687.50 = 13793.75; 38000 / 13793.75 = 2.75
    assert net_monthly(gross, INV, volume=Decimal("0.7")) == Decimal("13793.75")
    assert payback_months(INV.one_off, Decimal("13793.75")) == Decimal("2.8")
    # half the lines: 15 sensors + 1 tablet + 2500 installation = 19000; net 10343.75 − 687.50
    half = scaled_investment(INV, Decimal("0.5"))
    assert half.one_off == Decimal("19000.00")
    assert net_monthly(gross, half, share=Decimal("0.5")) == Decimal("9656.25")
    assert payback_months(half.one_off, Decimal("9656.25")) == Decimal("2.0")


def test_no_payback_when_the_benefit_does_not_cover_running_costs() -> None:
    assert payback_months(Decimal("38000"), Decimal("0")) is None
    assert payback_months(Decimal("38000"), Decimal("-1")) is None
    worse = Baseline({"efficiency_pct": Figure(Decimal("60"), "hand")})  # after is 50 %: a loss
    res = assess([DAY] * 6, RoiInputs(INV, RATES, worse), "day", n=50)
    assert res.gross_monthly < 0
    assert res.scenarios[0].payback is None and res.scenarios[0].p10 is None
    assert res.scenarios[0].never_share == Decimal("1.000")


def test_a_metric_without_a_before_figure_is_not_counted() -> None:
    only_eff = Baseline({"efficiency_pct": Figure(Decimal("40"), "hand")})
    effs = effects(only_eff, measure([DAY], RATES.workdays_per_month), RATES)
    counted = {e.metric for e in effs if e.counted}
    assert counted == {"efficiency_pct"}
    assert all(e.note == "no_baseline" for e in effs if e.metric != "efficiency_pct" and e.metric in BASE.figures)


def test_range_of_identical_days_is_the_point_and_spread_days_bracket_it() -> None:
    inputs = RoiInputs(INV, RATES, BASE)
    same = assess([DAY] * 6, inputs, "day", n=200)
    sc = same.scenarios[0]
    assert sc.payback == sc.p10 == sc.p50 == sc.p90 == Decimal("1.9")

    from dataclasses import replace

    slow = replace(DAY, label="slow", earned_min=2000.0)  # 41.7 %: a poorer day
    fast = replace(DAY, label="fast", earned_min=2800.0)  # 58.3 %
    spread = assess([slow, fast, DAY, slow, fast, DAY], inputs, "day", n=400)
    s0 = spread.scenarios[0]
    assert s0.p10 is not None and s0.p90 is not None and s0.payback is not None
    assert s0.p10 < s0.payback < s0.p90
    # the bootstrap cannot go outside what all-fast or all-slow days would give
    lo = assess([fast] * 6, inputs, "day", n=10).scenarios[0].payback
    hi = assess([slow] * 6, inputs, "day", n=10).scenarios[0].payback
    assert lo is not None and hi is not None
    assert lo <= s0.p10 and s0.p90 <= hi


def test_range_is_reproducible() -> None:
    from dataclasses import replace

    inputs = RoiInputs(INV, RATES, BASE)
    blocks = [replace(DAY, label=str(i), earned_min=2000.0 + 100 * i) for i in range(8)]
    a = assess(blocks, inputs, "day", n=300).scenarios
    b = assess(blocks, inputs, "day", n=300).scenarios
    assert a == b


def test_settings_json_is_checked() -> None:
    inp = inputs_from_dict(
        {"investment": {"installation": "100.10"}, "baseline": {"dhu_pct": {"value": "4.5", "source": "QC log"}}}, 10
    )
    assert inp.investment.one_off == Decimal("10100.10")
    assert inp.baseline.get("dhu_pct") == Decimal("4.5")
    with pytest.raises(ValueError, match="source"):
        inputs_from_dict({"baseline": {"dhu_pct": {"value": "4.5"}}}, 10)
    with pytest.raises(ValueError, match="unknown"):
        inputs_from_dict({"rates": {"wage": "3"}}, 10)
    with pytest.raises(ValueError, match="unknown baseline"):
        inputs_from_dict({"baseline": {"happiness": {"value": "1", "source": "x"}}}, 10)


def test_every_label_in_both_languages() -> None:
    for key, entry in LABELS.items():
        assert entry.get("zh") and entry.get("en"), key
    for m in METRICS:
        assert m in LABELS
