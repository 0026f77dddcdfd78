"""The pilot as the trade runs it: one line with sensors, the other lines as controls.

Before the sensors (and, for the controls, throughout) the figures come from the factory's daily
production report; the pilot's days after the sensors come from the event store (earned standard
minutes and attended minutes as ``/api/v1/efficiency`` counts them). ``did`` estimates each
effect, this module prices it in CNY per month with the factory's own rates and gives the payback
with its range. The current day is never counted: a day is a unit only once it is over, which
is what stops the headline from swinging within hours.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from .daily_report import ReportRow
from .did import DID_METRICS, MIN_WORKDAYS, RESAMPLES, DidResult, LineDay, estimate, panel
from .inputs import D, RoiInputs
from .money import cny, payback_months
from .spread import SCENARIOS, scenario

HUNDRED = Decimal(100)
# Places shown per metric (points of efficiency, hours, DHU points, points of on-time delivery).
PLACES = {"efficiency_pct": "0.1", "overtime_h_per_worker_day": "0.01", "dhu_pct": "0.01", "on_time_pct": "0.1"}
NO_PAYBACK_WITHIN_MONTHS = 12


@dataclass(frozen=True, slots=True)
class PilotConfig:
    pilot_lines: tuple[str, ...]
    control_lines: tuple[str, ...]
    sensors_from: date  # first day the pilot line ran with sensors

    @staticmethod
    def from_settings(raw: Mapping[str, Any] | None) -> PilotConfig | None:
        """``{"pilot": {"lines": ["L1"], "controls": ["L2", "L3"], "sensors_from": "2026-11-02"}}``"""
        if not raw:
            return None
        lines = tuple(raw.get("lines") or ())
        controls = tuple(raw.get("controls") or ())
        if not lines or not controls or not raw.get("sensors_from"):
            raise ValueError(
                "pilot 设置需要 lines、controls 和 sensors_from / pilot settings need lines, controls and sensors_from"
            )
        if set(lines) & set(controls):
            raise ValueError("试点线不能同时是对照线 / a pilot line cannot also be a control")
        return PilotConfig(lines, controls, date.fromisoformat(str(raw["sensors_from"])))


def report_line_days(rows: Iterable[ReportRow]) -> list[LineDay]:
    """Daily report rows (one per line, day and style) summed to one LineDay per line and day."""
    acc: dict[tuple[str, date], list[float]] = defaultdict(lambda: [0.0] * 9)
    for r in rows:
        a = acc[(r.line, r.day)]
        a[0] += r.earned_min
        a[1] += r.attended_min
        a[2] += r.overtime_h * r.workers
        a[3] += r.workers
        if r.defects is not None:
            a[4] += r.defects
            a[5] += r.checked if r.checked is not None else r.output
        a[6] += r.orders_due or 0
        a[7] += r.orders_on_time or 0
        a[8] += r.output
    return [
        LineDay(d, line, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]) for (line, d), a in sorted(acc.items())
    ]


def quality_from_report(rows: Iterable[LineDay]) -> dict[tuple[str, date], LineDay]:
    return {(r.line, r.day): r for r in rows}


def split_periods(
    report: Sequence[LineDay],
    sensor_days: Sequence[LineDay],
    cfg: PilotConfig,
    today: date,
) -> tuple[list[LineDay], list[LineDay]]:
    """Before: report days before the sensors. After: the controls' report days and the pilot's
    sensor days from ``sensors_from`` to yesterday. For the pilot's overtime, defects and
    deliveries the report is used where it has them for the day (the same yardstick as before the
    sensors); efficiency always comes from the sensors."""
    pilot = set(cfg.pilot_lines)
    before = [r for r in report if r.day < cfg.sensors_from and r.day < today]
    after = [r for r in report if r.line not in pilot and cfg.sensors_from <= r.day < today]
    rep = quality_from_report(r for r in report if r.line in pilot)
    for s in sensor_days:
        if not cfg.sensors_from <= s.day < today:
            continue
        q = rep.get((s.line, s.day))
        if q is not None and q.worker_days > 0:  # overtime as payroll records it, like before
            s = LineDay(
                s.day, s.line, s.earned_min, s.attended_min, q.overtime_h, q.worker_days,
                s.defects, s.checked, s.orders_due, s.orders_on_time, s.output,
            )  # fmt: skip
        if q is not None and q.checked > 0:
            s = LineDay(
                s.day, s.line, s.earned_min, s.attended_min, s.overtime_h, s.worker_days,
                q.defects, q.checked, s.orders_due, s.orders_on_time, s.output,
            )  # fmt: skip
        if q is not None and q.orders_due > 0:
            s = LineDay(
                s.day, s.line, s.earned_min, s.attended_min, s.overtime_h, s.worker_days,
                s.defects, s.checked, q.orders_due, q.orders_on_time, s.output,
            )  # fmt: skip
        after.append(s)
    return before, after


# --- money -------------------------------------------------------------------------------------


def _monthly(
    metric: str, effect: float, res: DidResult, inputs: RoiInputs, efficiency_as: str | None = None
) -> Decimal | None:
    """CNY per month of one effect on the pilot line (docs/roi.md, "Pilot: money")."""
    r = inputs.rates
    w = r.workdays_per_month
    pd = res.pilot_after_per_day
    est = res.estimates[metric]
    how = efficiency_as or r.efficiency_as
    if not math.isfinite(effect):
        return None
    eff = D(round(effect, 6))
    if metric == "efficiency_pct":
        if est.pilot_after is None or pd["output"] <= 0:
            return None
        e_after = D(round(est.pilot_after, 6))
        e_without = e_after - eff  # what the pilot would have run at without sensors
        if e_without <= 0 or e_after <= 0:
            return None
        earned_month = D(round(pd["earned_min"], 6)) * w
        freed_min = earned_month * (HUNDRED / e_without - HUNDRED / e_after)
        if how == "wages":
            return cny(freed_min * r.wage_per_min)
        sam = D(round(pd["earned_min"] / pd["output"], 6))
        extra_garments = freed_min * e_after / HUNDRED / sam
        return cny(extra_garments * r.price_per_garment * r.net_margin_pct / HUNDRED)
    if metric == "overtime_h_per_worker_day":
        workers = D(round(pd["worker_days"], 6))
        premium = r.overtime_premium - 1 if how == "wages" else r.overtime_premium
        return cny(-eff * workers * w * r.wage_per_hour * premium)
    if metric == "dhu_pct":
        if pd["checked"] <= 0:
            return None
        garments_month = D(round(pd["output"], 6)) * w
        return cny(-eff / HUNDRED * garments_month * r.rework_min_per_defect * r.wage_per_min)
    if metric == "on_time_pct":
        if pd["orders_due"] <= 0:
            return None
        orders_month = D(round(pd["orders_due"], 6)) * w
        order_value = r.avg_order_qty * r.price_per_garment
        return cny(eff / HUNDRED * orders_month * order_value * r.late_cost_pct / HUNDRED)
    raise KeyError(metric)


def _q(x: float | None, places: str) -> str | None:
    return None if x is None else str(D(round(x, 6)).quantize(Decimal(places)))


def assess_pilot(
    report_rows: Sequence[ReportRow],
    sensor_days: Sequence[LineDay],
    cfg: PilotConfig,
    inputs: RoiInputs,
    today: date,
    forecasts: Mapping[str, Mapping[str, Any]] | None = None,
    resamples: int = RESAMPLES,
) -> dict[str, Any]:
    """Everything the owner page, the one-pager and the API show about the pilot, JSON-ready."""
    report = report_line_days(r for r in report_rows if r.line in cfg.pilot_lines + cfg.control_lines)
    before_rows, after_rows = split_periods(report, sensor_days, cfg, today)
    pb = panel(before_rows, cfg.pilot_lines, cfg.control_lines)
    pa = panel(after_rows, cfg.pilot_lines, cfg.control_lines)
    res = estimate(pb, pa, resamples=resamples)
    forecasts = forecasts or {}
    metrics: list[dict[str, Any]] = []
    gross_draws = np.zeros(resamples)
    gross = Decimal(0)
    counted_any = False
    for m in DID_METRICS:
        e = res.estimates[m]
        places = PLACES[m]
        monthly = _monthly(m, e.did, res, inputs) if e.did is not None else None
        lo = hi = None
        if monthly is not None:
            draws = res.draws[m]
            vals = [_monthly(m, float(x), res, inputs) for x in draws]
            fvals = np.array([float(v) if v is not None else np.nan for v in vals])
            gross_draws = gross_draws + np.nan_to_num(fvals, nan=0.0)
            gross += monthly
            counted_any = True
            lo_f, hi_f = np.nanquantile(fvals, [(1 - res.level) / 2, 1 - (1 - res.level) / 2])
            lo, hi = cny(D(float(lo_f))), cny(D(float(hi_f)))
        alt = None
        if m == "efficiency_pct" and e.did is not None:
            other = "orders" if inputs.rates.efficiency_as == "wages" else "wages"
            alt_v = _monthly(m, e.did, res, inputs, other)
            alt = {"as": other, "monthly_cny": None if alt_v is None else str(alt_v)}
        metrics.append(
            {
                "metric": m,
                "pilot_before": _q(e.pilot_before, places),
                "pilot_after": _q(e.pilot_after, places),
                "control_before": _q(e.control_before, places),
                "control_after": _q(e.control_after, places),
                "did": _q(e.did, places),
                "did_lo": _q(e.did_lo, places),
                "did_hi": _q(e.did_hi, places),
                "naive": _q(e.naive, places),
                "naive_lo": _q(e.naive_lo, places),
                "naive_hi": _q(e.naive_hi, places),
                "monthly_cny": None if monthly is None else str(monthly),
                "monthly_lo": None if lo is None else str(lo),
                "monthly_hi": None if hi is None else str(hi),
                "efficiency_alt": alt,
                "forecast": dict(forecasts[m]) if m in forecasts else None,
            }
        )
    samples = [cny(D(float(g))) for g in gross_draws] if counted_any else []
    scen = [scenario(k, v, s, gross, samples, inputs) for k, v, s in SCENARIOS] if counted_any else []
    inv = inputs.investment
    net = cny(gross - inv.software_per_month)
    never_12 = None
    if samples:
        late = 0
        for g in samples:
            pbk = payback_months(inv.one_off, cny(g - inv.software_per_month))
            late += int(pbk is None or pbk > NO_PAYBACK_WITHIN_MONTHS)
        never_12 = str((Decimal(late) / len(samples)).quantize(Decimal("0.001")))
    placebo = res.placebo
    # Same yardstick: where the factory kept filing the report for the pilot after the switch, the
    # efficiency effect with the pilot's after-days from the report too (hand counts on both sides).
    report_check = None
    rep_after = [x for x in report if cfg.sensors_from <= x.day < today]
    if any(x.line in cfg.pilot_lines for x in rep_after):
        pr = panel(rep_after, cfg.pilot_lines, cfg.control_lines)
        rc = estimate(pb, pr, resamples=resamples, metrics=("efficiency_pct",), with_placebo=False)
        e2 = rc.estimates["efficiency_pct"]
        if e2.did is not None:
            report_check = {
                "days_after": pr.n,
                "did": _q(e2.did, "0.1"),
                "lo": _q(e2.did_lo, "0.1"),
                "hi": _q(e2.did_hi, "0.1"),
            }
    return {
        "configured": True,
        "pilot_lines": list(cfg.pilot_lines),
        "control_lines": list(cfg.control_lines),
        "sensors_from": cfg.sensors_from.isoformat(),
        "today_excluded": today.isoformat(),
        "days_before": res.days_before,
        "days_after": res.days_after,
        "first_day": pb.days[0].isoformat() if pb.n else None,
        "last_day": pa.days[-1].isoformat() if pa.n else None,
        "last_before_day": pb.days[-1].isoformat() if pb.n else None,
        "min_workdays": MIN_WORKDAYS,
        "preliminary": res.preliminary,
        "level_pct": round(res.level * 100),
        "resamples": res.resamples,
        "metrics": metrics,
        "report_check": report_check,
        "placebo": None
        if placebo is None or placebo.did is None
        else {"did": _q(placebo.did, "0.1"), "lo": _q(placebo.did_lo, "0.1"), "hi": _q(placebo.did_hi, "0.1")},
        "money": {
            "counted": counted_any,
            "gross_monthly_cny": str(gross) if counted_any else None,
            "net_monthly_cny": str(net) if counted_any else None,
            "one_off_cny": str(inv.one_off),
            "stations": inv.stations,
            "software_per_month": str(inv.software_per_month),
            "payback_months": None if not counted_any else _s(payback_months(inv.one_off, net)),
            "payback_p10": _s(scen[0].p10) if scen else None,
            "payback_p90": _s(scen[0].p90) if scen else None,
            "p_no_payback_12": never_12,
            "scenarios": [
                {
                    "key": sc.key,
                    "one_off_cny": str(sc.one_off),
                    "net_monthly_cny": str(sc.net_monthly),
                    "payback_months": _s(sc.payback),
                    "p10": _s(sc.p10),
                    "p90": _s(sc.p90),
                    "never_share": str(sc.never_share),
                }
                for sc in scen
            ],
        },
        "rates": {
            "wage_per_min": str(inputs.rates.wage_per_min.quantize(Decimal("0.001"))),
            "overtime_premium": str(inputs.rates.overtime_premium),
            "net_margin_pct": str(inputs.rates.net_margin_pct),
            "price_per_garment": str(inputs.rates.price_per_garment),
            "rework_min_per_defect": str(inputs.rates.rework_min_per_defect),
            "late_cost_pct": str(inputs.rates.late_cost_pct),
            "avg_order_qty": inputs.rates.avg_order_qty,
            "workdays_per_month": str(inputs.rates.workdays_per_month),
            "efficiency_as": inputs.rates.efficiency_as,
        },
    }


def _s(x: Decimal | None) -> str | None:
    return None if x is None else str(x)


def sensor_line_days(blocks: Iterable[Any], line: str) -> list[LineDay]:
    """Day blocks of ``collect`` (label = ISO date) as the pilot's LineDays."""
    out = []
    for b in blocks:
        out.append(
            LineDay(
                day=date.fromisoformat(b.label[:10]),
                line=line,
                earned_min=b.earned_min,
                attended_min=b.attended_min,
                overtime_h=b.overtime_h,
                worker_days=b.worker_days,
                defects=float(b.defects),
                checked=float(b.output),
                orders_due=float(b.orders_due),
                orders_on_time=float(b.orders_on_time),
                output=float(b.output),
            )
        )
    return out


def local_midnight(d: date, tz: Any) -> datetime:
    return datetime.combine(d, time.min, tz)


def day_after(d: date) -> date:
    return d + timedelta(days=1)
