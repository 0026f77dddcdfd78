"""Properties the money and payback arithmetic must keep for any inputs (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from seamline.roi.inputs import Baseline, Figure, Investment, Rates, RoiInputs, scaled_investment
from seamline.roi.measure import BlockFacts, measure
from seamline.roi.money import effects, gross_monthly, net_monthly, payback_months
from seamline.roi.spread import assess

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)
pct = st.decimals(min_value=Decimal("5"), max_value=Decimal("120"), places=2)


def day(earned_min: float, attended_min: float = 4800.0) -> BlockFacts:
    return BlockFacts(label="d", day_equiv=1.0, pieces=1000, earned_min=earned_min, attended_min=attended_min)


@given(one_off=money, net=money)
def test_payback_times_net_is_the_investment(one_off: Decimal, net: Decimal) -> None:
    pb = payback_months(one_off, net)
    assert pb is not None
    assert abs(pb * net - one_off) <= net * Decimal("0.05") + Decimal("0.01")


@given(before=pct, earned=st.floats(min_value=100, max_value=6000))
def test_efficiency_money_has_the_sign_of_the_gain(before: Decimal, earned: float) -> None:
    rates = Rates()
    meas = measure([day(earned)], rates.workdays_per_month)
    after = meas.metrics["efficiency_pct"]
    assert after is not None
    (eff,) = [e for e in effects(Baseline({"efficiency_pct": Figure(before, "h")}), meas, rates) if e.counted]
    assert eff.monthly is not None
    if after > before:
        assert eff.monthly > 0
    elif after < before:
        assert eff.monthly < 0
    else:
        assert eff.monthly == 0


@settings(max_examples=30, deadline=None)
@given(
    stations=st.integers(min_value=1, max_value=400),
    before=st.decimals(min_value=Decimal("10"), max_value=Decimal("40"), places=1),
)
def test_fewer_orders_never_pay_back_faster(stations: int, before: Decimal) -> None:
    inv = Investment(stations=stations, software_per_month=Decimal("300"))
    inputs = RoiInputs(inv, Rates(), Baseline({"efficiency_pct": Figure(before, "h")}))
    res = assess([day(2400.0), day(2600.0), day(2200.0)], inputs, "day", n=40)
    full, minus30 = res.scenarios[0], res.scenarios[1]
    if full.payback is None:
        assert minus30.payback is None
    elif minus30.payback is not None:
        assert minus30.payback >= full.payback


@given(stations=st.integers(min_value=0, max_value=1000), tablets=st.integers(min_value=0, max_value=50), inst=money)
def test_half_the_lines_costs_at_most_half_plus_one_unit(stations: int, tablets: int, inst: Decimal) -> None:
    inv = Investment(stations=stations, tablets=tablets, installation=inst)
    half = scaled_investment(inv, Decimal("0.5"))
    slack = inv.sensor_cost_per_station + inv.tablet_cost + Decimal("0.01")
    assert inv.one_off / 2 - Decimal("0.01") <= half.one_off <= inv.one_off / 2 + slack


def test_gross_is_the_sum_of_counted_effects() -> None:
    rates = Rates()
    base = Baseline({"efficiency_pct": Figure(Decimal("40"), "h"), "dhu_pct": Figure(Decimal("3"), "h")})
    meas = measure([replace(day(2400.0), defects=10)], rates.workdays_per_month)
    effs = effects(base, meas, rates)
    assert gross_monthly(effs) == sum(e.monthly for e in effs if e.monthly is not None)
    assert net_monthly(gross_monthly(effs), Investment(stations=1, software_per_month=Decimal("5"))) == (
        gross_monthly(effs) - 5
    )
