"""The pilot estimator on constructed data whose effect is known.

Noiseless panels must give the effect exactly (DiD) while the naive before/after carries the
common shock; on noisy panels with common shocks the DiD is unbiased and the naive is not.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from seamline.roi.daily_report import ReportRow
from seamline.roi.did import MIN_WORKDAYS, LineDay, estimate, panel, small_sample_factor
from seamline.roi.inputs import inputs_from_dict
from seamline.roi.pilot import PilotConfig, assess_pilot, report_line_days, split_periods

START = date(2026, 11, 2)  # a Monday


def workdays(n: int, start: date = START) -> list[date]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() != 6:
            out.append(d)
        d += timedelta(days=1)
    return out


def day(d: date, line: str, eff: float, attended_min: float = 30 * 8 * 60.0, **kw: float) -> LineDay:
    return LineDay(d, line, earned_min=eff / 100 * attended_min, attended_min=attended_min, **kw)


def noiseless(effect: float, shock: float, n: int = 12) -> tuple[list[LineDay], list[LineDay]]:
    """Pilot at 40 %, controls at 50 % and 45 %; after the switch every line moves by ``shock``
    (an order-mix change) and the pilot gains ``effect`` on top."""
    days = workdays(2 * n)
    before, after = [], []
    for i, d in enumerate(days):
        post = i >= n
        s = shock if post else 0.0
        rows = [
            day(d, "P", 40 + s + (effect if post else 0.0)),
            day(d, "C1", 50 + s, attended_min=20 * 8 * 60.0),
            day(d, "C2", 45 + s),
        ]
        (after if post else before).extend(rows)
    return before, after


def test_noiseless_effect_is_exact_and_the_naive_carries_the_shock() -> None:
    before, after = noiseless(effect=6.0, shock=-4.0)
    r = estimate(panel(before, ["P"], ["C1", "C2"]), panel(after, ["P"], ["C1", "C2"]), resamples=200)
    e = r.estimates["efficiency_pct"]
    assert e.did == pytest.approx(6.0, abs=1e-9)
    assert e.naive == pytest.approx(2.0, abs=1e-9)  # 6 - 4: the common shock is in it
    assert e.pilot_before == pytest.approx(40.0) and e.pilot_after == pytest.approx(42.0)
    assert e.did_lo == pytest.approx(6.0, abs=1e-9) and e.did_hi == pytest.approx(6.0, abs=1e-9)
    assert not r.preliminary and r.days_before == r.days_after == 12


def test_style_mix_enters_through_sam_not_pieces() -> None:
    """The pilot switches from T-shirts (SAM 6) to jeans (SAM 25) at the same efficiency: pieces
    per hour drop fourfold, the efficiency effect is zero."""
    rows = []
    for i, d in enumerate(workdays(24)):
        sam = 6.0 if i < 12 else 25.0
        for line in ("P", "C"):
            out = round(0.45 * 30 * 8 * 60 / sam)
            rows.append(ReportRow(d, line, "X", sam, out, 30, 8.0, 0.0, None, None, None, None))
    ld = report_line_days(rows)
    b = panel([x for x in ld if x.day < workdays(24)[12]], ["P"], ["C"])
    a = panel([x for x in ld if x.day >= workdays(24)[12]], ["P"], ["C"])
    e = estimate(b, a, resamples=100).estimates["efficiency_pct"]
    assert e.did == pytest.approx(0.0, abs=1e-9)
    assert e.pilot_before == pytest.approx(e.pilot_after, abs=0.2)  # rounding to whole garments only


def test_overtime_dhu_and_on_time_effects_are_exact() -> None:
    days = workdays(24)
    rows = []
    for i, d in enumerate(days):
        post = i >= 12
        for line, ot, dhu, on_time in (("P", 1.5, 4.0, 6), ("C", 1.0, 3.0, 7)):
            # every line: +0.5 h overtime, +1 DHU after (a busy season); the pilot: -1 h, -2 DHU, +2 of 10 on time
            ot_d = ot + (0.5 if post else 0) + (-1.0 if post and line == "P" else 0)
            dhu_d = dhu + (1.0 if post else 0) + (-2.0 if post and line == "P" else 0)
            ot_n = on_time + (2 if post and line == "P" else 0)
            rows.append(
                day(
                    d,
                    line,
                    45,
                    worker_days=30,
                    overtime_h=30 * ot_d,
                    defects=dhu_d * 10,
                    checked=1000,
                    orders_due=10,
                    orders_on_time=ot_n,
                )
            )
    b, a = panel(rows[:24], ["P"], ["C"]), panel(rows[24:], ["P"], ["C"])
    est = estimate(b, a, resamples=100).estimates
    assert est["overtime_h_per_worker_day"].did == pytest.approx(-1.0)
    assert est["overtime_h_per_worker_day"].naive == pytest.approx(-0.5)
    assert est["dhu_pct"].did == pytest.approx(-2.0)
    assert est["on_time_pct"].did == pytest.approx(20.0)


def synth(rng: np.random.Generator, effect: float, n: int = 24) -> tuple[list[LineDay], list[LineDay]]:
    """Noisy panel: common trend, a common order-mix drop after the switch, a holiday dip after
    it, common and per-line day noise."""
    days = workdays(2 * n)
    common = rng.normal(0, 2.0, 2 * n)
    before, after = [], []
    for line, level in (("P", 42.0), ("C1", 50.0), ("C2", 46.0)):
        for i, d in enumerate(days):
            post = i >= n
            eff = level + 0.1 * i + (-4.0 if post else 0) + (-6.0 if i in (n + 5, n + 6) else 0) + common[i]
            eff += rng.normal(0, 2.0) + (effect if post and line == "P" else 0)
            (after if post else before).append(day(d, line, eff, attended_min=float(rng.integers(28, 32)) * 480))
    return before, after


def test_with_common_shocks_did_is_unbiased_and_naive_is_not() -> None:
    rng = np.random.default_rng(7)
    did_err, naive_err = [], []
    for k in range(60):
        before, after = synth(rng, effect=5.0)
        r = estimate(panel(before, ["P"], ["C1", "C2"]), panel(after, ["P"], ["C1", "C2"]), resamples=200, seed=k)
        e = r.estimates["efficiency_pct"]
        assert e.did is not None and e.naive is not None
        did_err.append(e.did - 5.0)
        naive_err.append(e.naive - 5.0)
    # trend +2.4, mix -4, holiday -0.5: the naive is about 2 points low; the DiD within noise of 0
    assert abs(float(np.mean(did_err))) < 0.4
    assert float(np.mean(naive_err)) < -1.5


def test_fewer_than_ten_workdays_is_preliminary() -> None:
    before, after = noiseless(effect=3.0, shock=0.0, n=MIN_WORKDAYS - 1)
    r = estimate(panel(before, ["P"], ["C1", "C2"]), panel(after, ["P"], ["C1", "C2"]), resamples=50)
    assert r.preliminary and r.days_after == MIN_WORKDAYS - 1


def test_a_day_counts_only_when_pilot_and_a_control_reported_it() -> None:
    before, _ = noiseless(effect=0.0, shock=0.0)
    p = panel([x for x in before if not (x.line == "P" and x.day == START)], ["P"], ["C1", "C2"])
    assert START not in p.days and len(p.days) == 11


def test_the_current_day_is_never_counted() -> None:
    cfg = PilotConfig(("P",), ("C1", "C2"), workdays(13)[12])
    before, after = noiseless(effect=6.0, shock=0.0, n=12)
    today = after[-1].day  # the last day is today: not over yet
    sensor = [x for x in after if x.line == "P"]
    report = before + [x for x in after if x.line != "P"]
    _b, a = split_periods(report, sensor, cfg, today)
    assert max(x.day for x in a) < today and len({x.day for x in a}) == 11


def test_small_sample_factor_widens_few_blocks_and_vanishes_with_many() -> None:
    assert small_sample_factor(4, 0.9) > 1.5
    assert 1.0 < small_sample_factor(400, 0.9) < 1.01


def test_money_of_the_efficiency_effect_with_the_factorys_rates() -> None:
    """Pilot after at 46 %, effect +6 (without sensors it would have run at 40 %): the month's
    earned minutes at 40 % would have needed 100/40 - 100/46 more attended minutes per earned one."""
    before, after = noiseless(effect=6.0, shock=0.0)
    report = [
        ReportRow(
            x.day,
            x.line,
            "X",
            10.0,
            round(x.earned_min / 10),
            30,
            x.attended_min / 30 / 60,
            0.0,
            None,
            None,
            None,
            None,
        )
        for x in before + [y for y in after if y.line != "P"]
    ]
    sensor = [x for x in after if x.line == "P"]
    sensor = [LineDay(x.day, x.line, x.earned_min, x.attended_min, output=x.earned_min / 10) for x in sensor]
    cfg = PilotConfig(("P",), ("C1", "C2"), after[0].day)
    inputs = inputs_from_dict(
        {"rates": {"wage_per_hour": "30", "workdays_per_month": "26"}, "investment": {"installation": "0"}},
        stations_default=30,
        tablets_default=1,
    )
    r = assess_pilot(report, sensor, cfg, inputs, today=after[-1].day + timedelta(days=2), resamples=200)
    eff = next(m for m in r["metrics"] if m["metric"] == "efficiency_pct")
    assert eff["did"] == "6.0" and eff["pilot_after"] == "46.0"
    earned_month = Decimal("0.46") * 30 * 8 * 60 * 26
    freed = earned_month * (Decimal(100) / Decimal(40) - Decimal(100) / Decimal(46))
    expected = (freed * Decimal(30) / 60).quantize(Decimal("0.01"))
    assert Decimal(eff["monthly_cny"]) == expected
    mo = r["money"]
    one_off = Decimal(30 * 1000 + 1500)
    assert Decimal(mo["one_off_cny"]) == one_off
    assert Decimal(mo["payback_months"]) == (one_off / expected).quantize(Decimal("0.1"))
    assert mo["p_no_payback_12"] == "0.000"  # noiseless: every resample pays back within a month
    assert eff["efficiency_alt"]["as"] == "orders"  # the other reading is shown, not added
    assert Decimal(mo["gross_monthly_cny"]) == expected


def test_where_the_pilot_kept_its_report_the_same_yardstick_check_is_shown() -> None:
    """Sensors read the pilot 2 points higher than hand counts would: the report-only check shows
    the effect on one yardstick (6), the headline carries the change of yardstick (8)."""
    before, after = noiseless(effect=6.0, shock=0.0)
    as_report = [
        ReportRow(
            x.day,
            x.line,
            "X",
            10.0,
            round(x.earned_min / 10),
            30,
            x.attended_min / 30 / 60,
            0.0,
            None,
            None,
            None,
            None,
        )
        for x in before + after
    ]
    sensor = [
        LineDay(
            x.day,
            x.line,
            x.earned_min + 0.02 * x.attended_min,
            x.attended_min,
            overtime_h=30.0,
            worker_days=30.0,
            output=x.earned_min / 10,
        )
        for x in after
        if x.line == "P"
    ]
    cfg = PilotConfig(("P",), ("C1", "C2"), after[0].day)
    inputs = inputs_from_dict({}, stations_default=30, tablets_default=1)
    r = assess_pilot(as_report, sensor, cfg, inputs, today=after[-1].day + timedelta(days=1), resamples=100)
    eff = next(m for m in r["metrics"] if m["metric"] == "efficiency_pct")
    assert eff["did"] == "8.0"
    assert r["report_check"] == {"days_after": 12, "did": "6.0", "lo": "6.0", "hi": "6.0"}
    # overtime as the report (payroll) has it, not the sensors' 1 h a day: no change
    assert next(m for m in r["metrics"] if m["metric"] == "overtime_h_per_worker_day")["did"] == "0.00"
    r2 = assess_pilot(
        [x for x in as_report if not (x.line == "P" and x.day >= cfg.sensors_from)],
        sensor,
        cfg,
        inputs,
        today=after[-1].day + timedelta(days=1),
        resamples=100,
    )
    assert r2["report_check"] is None


def test_the_parallel_check_flags_a_pilot_that_was_already_drifting() -> None:
    before, after = noiseless(effect=6.0, shock=-4.0)
    ok = estimate(panel(before, ["P"], ["C1", "C2"]), panel(after, ["P"], ["C1", "C2"]), resamples=100)
    assert ok.placebo is not None and ok.placebo.did == pytest.approx(0.0, abs=1e-9)
    days = sorted({x.day for x in before})
    drifting = [day(x.day, x.line, 40 + 0.5 * days.index(x.day)) if x.line == "P" else x for x in before]
    bad = estimate(panel(drifting, ["P"], ["C1", "C2"]), panel(after, ["P"], ["C1", "C2"]), resamples=100)
    assert bad.placebo is not None and bad.placebo.did == pytest.approx(3.0, abs=1e-9)  # 6 days × 0.5 apart


def test_before_any_sensor_the_forecast_stands_alone_and_nothing_is_measured() -> None:
    """Sensors planned for next month: the report's before-figures and the twin's forecast show,
    no effect and no money are claimed."""
    before, _ = noiseless(effect=0.0, shock=0.0)
    report = [
        ReportRow(x.day, x.line, "X", 10.0, round(x.earned_min / 10), 30, 8.0, 0.0, None, None, None, None)
        for x in before
    ]
    planned = before[-1].day + timedelta(days=30)
    cfg = PilotConfig(("P",), ("C1", "C2"), planned)
    fc = {"efficiency_pct": {"mean": 6.0, "low": 2.0, "high": 9.0, "source": "twin", "made_on": "2026-11-01"}}
    r = assess_pilot(report, [], cfg, inputs_from_dict({}, 30, 1), today=before[-1].day + timedelta(days=1),
                     forecasts=fc, resamples=50)  # fmt: skip
    eff = next(m for m in r["metrics"] if m["metric"] == "efficiency_pct")
    assert r["preliminary"] and r["days_after"] == 0 and eff["did"] is None and eff["monthly_cny"] is None
    assert eff["forecast"]["mean"] == 6.0 and not r["money"]["counted"] and r["money"]["payback_months"] is None
    import subprocess

    from seamline.roi.onepager import render_onepager_pdf

    text = subprocess.run(
        ["pdftotext", "-", "-"], input=render_onepager_pdf(r), capture_output=True, check=True
    ).stdout.decode()
    assert "初步" in text and "预测 +6.0" in text and "回本时间" not in text  # no headline
