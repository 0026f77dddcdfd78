"""Calibration of the pilot estimator (seamline.roi.did) on synthetic pilots with a known effect.

The data come from a documented statistical generator, not from the SimPy simulator: the
simulator models neither a before/after change nor day-to-day shocks common to all lines, and
200 trials × 4 lines × 60 days of simulated events would take hours on this machine. What the
generator makes is what a daily production report holds (per line and day: style, SAM, output,
workers present, hours), with

- a line level: each line's efficiency drawn from 40-55 %;
- a trend common to all lines (+0.08 points per workday: a season ramping up);
- an order-mix change at the pilot's start: the share of jeans (SAM 25 min, 4 points below a
  line's level) rises from 20 % to 70 % against T-shirts (SAM 6 min, 3 points above) — every line
  draws its own style per day from the same mix;
- a holiday inside the after-period: the three workdays after it run 6 points low on every line;
- a shock per day common to all lines (sd 2 points) and a per-line AR(1) residual (rho 0.5, sd 2.5);
- workers present 28-32, 8 h plus overtime that follows a common daily draw;
- the pilot line gains a known uplift (2-8 points, drawn per trial) from its first sensor day;
- output is whole garments (efficiency × attended minutes ÷ SAM, rounded), so earned minutes are
  output × SAM exactly as the daily report gives them.

Each trial estimates the uplift with the difference-in-differences and its 90 % block-bootstrap
interval, and the naive after-minus-before on the pilot alone. Reported: share of trials whose
90 % interval covers the true uplift (goal 0.85-0.95), and the mean error in points (goal |bias| <=
1 for the DiD; the naive is biased by the common shocks).

Usage: ``python bench/roi_calibration.py [--trials 200] [--quick] [--days 30]``; the last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import numpy as np

from seamline.roi.did import LineDay, estimate, panel

LINES = ("P1", "C1", "C2", "C3")
STYLES = {"TEE": (6.0, +3.0), "JEANS": (25.0, -4.0)}  # SAM min, efficiency offset (points)


def workdays(start: date, n: int) -> list[date]:
    out, d = [], start
    while len(out) < n:
        if d.weekday() != 6:  # six-day weeks
            out.append(d)
        d += timedelta(days=1)
    return out


def synth(rng: np.random.Generator, days_per_period: int, uplift: float) -> tuple[list[LineDay], list[LineDay]]:
    """One synthetic pilot: (before rows, after rows) of daily report figures for LINES."""
    days = workdays(date(2026, 3, 2), 2 * days_per_period)
    n = len(days)
    switch = days_per_period
    level = {ln: rng.uniform(40, 55) for ln in LINES}
    common = rng.normal(0, 2.0, n)
    holiday = np.zeros(n)
    h = switch + int(rng.integers(3, max(4, days_per_period - 6)))
    holiday[h : h + 3] = -6.0
    ot_common = np.clip(rng.normal(1.0, 0.6, n), 0, 3)
    before: list[LineDay] = []
    after: list[LineDay] = []
    for ln in LINES:
        resid = 0.0
        for t, d in enumerate(days):
            resid = 0.5 * resid + rng.normal(0, 2.5 * np.sqrt(1 - 0.25))
            jeans_share = 0.2 if t < switch else 0.7
            style = "JEANS" if rng.random() < jeans_share else "TEE"
            sam, offset = STYLES[style]
            eff = level[ln] + 0.08 * t + offset + common[t] + holiday[t] + resid
            if ln == "P1" and t >= switch:
                eff += uplift
            workers = int(rng.integers(28, 33))
            ot_h = max(0.0, ot_common[t] + rng.normal(0, 0.2))
            attended_min = workers * (8.0 + ot_h) * 60.0
            output = max(0, round(eff / 100.0 * attended_min / sam))
            row = LineDay(
                day=d,
                line=ln,
                earned_min=output * sam,
                attended_min=attended_min,
                overtime_h=workers * ot_h,
                worker_days=float(workers),
                output=float(output),
            )
            (before if t < switch else after).append(row)
    return before, after


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--days", type=int, default=30, help="workdays per period")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="40 trials, 400 resamples (same JSON shape)")
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    trials, resamples = (40, 400) if a.quick else (a.trials, a.resamples)
    rng = np.random.default_rng(a.seed)
    err = {"did": [], "naive": []}
    cover = {"did": 0, "naive": 0}
    t0 = time.perf_counter()
    for i in range(trials):
        uplift = float(rng.uniform(2, 8))
        before_rows, after_rows = synth(rng, a.days, uplift)
        pb = panel(before_rows, ["P1"], ["C1", "C2", "C3"])
        pa = panel(after_rows, ["P1"], ["C1", "C2", "C3"])
        r = estimate(pb, pa, resamples=resamples, seed=i, metrics=("efficiency_pct",), with_placebo=False)
        e = r.estimates["efficiency_pct"]
        for key, val, lo, hi in (("did", e.did, e.did_lo, e.did_hi), ("naive", e.naive, e.naive_lo, e.naive_hi)):
            assert val is not None and lo is not None and hi is not None
            err[key].append(val - uplift)
            cover[key] += int(lo <= uplift <= hi)
    elapsed = time.perf_counter() - t0
    out = {
        "trials": trials,
        "did": {"coverage_90": round(cover["did"] / trials, 3), "bias_pts": round(float(np.mean(err["did"])), 3)},
        "naive": {
            "coverage_90": round(cover["naive"] / trials, 3),
            "bias_pts": round(float(np.mean(err["naive"])), 3),
        },
    }
    print(
        f"# {trials} trials, {a.days} workdays per period, {resamples} resamples, {elapsed:.1f} s; "
        f"DiD rmse {float(np.sqrt(np.mean(np.square(err['did'])))):.2f} pts, "
        f"naive rmse {float(np.sqrt(np.mean(np.square(err['naive'])))):.2f} pts"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
