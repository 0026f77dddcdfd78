"""Each measured difference turned into CNY per month, one explicit formula per effect.

The formulas are chosen so nothing is counted twice: the hours a better efficiency saves are
priced once (at the wage); the overtime line prices only the *premium* on overtime hours that
went away, because their base pay is already inside the hours saved; output per attended hour is
shown but not priced (it is the same gain as efficiency, seen in garments). An effect needs both a
before and an after figure; a missing one is shown as "not counted", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .inputs import METRICS, Baseline, Investment, Rates
from .measure import Measured

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
SIXTY = Decimal(60)


def cny(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Effect:
    metric: str
    before: Decimal | None
    after: Decimal | None
    monthly: Decimal | None  # CNY per month; None = not counted
    note: str  # why not counted, or which formula

    @property
    def counted(self) -> bool:
        return self.monthly is not None


def _diff_ok(before: Decimal | None, after: Decimal | None) -> bool:
    return before is not None and after is not None


def effects(baseline: Baseline, after: Measured, rates: Rates) -> list[Effect]:
    """One Effect per metric in METRICS order (docs/roi.md lists the formulas)."""
    out: list[Effect] = []
    for metric in METRICS:
        b = baseline.get(metric)
        a = after.metrics.get(metric)
        if not _diff_ok(b, a):
            note = "no_baseline" if b is None else "no_data"
            out.append(Effect(metric, b, a, None, note))
            continue
        assert b is not None and a is not None
        value: Decimal | None
        note = "formula"
        if metric == "efficiency_pct":
            if b <= 0 or a <= 0:
                value, note = None, "no_data"
            else:
                # hours the same output would have needed before, minus the hours it needed now
                saved_h = after.earned_h_month * (HUNDRED / b - HUNDRED / a)
                value = saved_h * rates.wage_per_hour
        elif metric == "output_per_attended_h":
            value, note = None, "priced_with_efficiency"
        elif metric == "overtime_h_per_worker_month":
            value = (b - a) * after.workers * rates.wage_per_hour * (rates.overtime_premium - 1)
        elif metric == "wip_pieces":
            value = (b - a) * rates.wip_value_per_piece * rates.carrying_pct_per_month / HUNDRED
        elif metric == "dhu_pct":
            value = (b - a) / HUNDRED * after.pieces_month * rates.rework_min_per_defect / SIXTY * rates.wage_per_hour
        elif metric == "on_time_pct":
            if after.avg_order_qty is None:
                value, note = None, "no_data"
            else:
                order_value = after.avg_order_qty * rates.price_per_garment
                value = (a - b) / HUNDRED * after.orders_due_month * order_value * rates.late_cost_pct / HUNDRED
        elif metric == "small_orders_per_month":
            qty = after.avg_small_order_qty
            if qty is None:
                qty = Decimal(rates.small_order_max_qty) / 2
            value = (a - b) * qty * rates.price_per_garment * rates.net_margin_pct / HUNDRED
        else:  # pragma: no cover - METRICS and this switch are kept in step by a test
            raise KeyError(metric)
        out.append(Effect(metric, b, a, None if value is None else cny(value), note))
    return out


def gross_monthly(effs: list[Effect]) -> Decimal:
    return sum((e.monthly for e in effs if e.monthly is not None), Decimal(0))


def net_monthly(gross: Decimal, inv: Investment, volume: Decimal = Decimal(1), share: Decimal = Decimal(1)) -> Decimal:
    """Benefit per month after the software's running cost, with orders scaled by ``volume`` and
    only ``share`` of the stations equipped (both scale the benefit; see docs/roi.md)."""
    return cny(gross * volume * share - inv.software_per_month)


def payback_months(one_off: Decimal, net: Decimal) -> Decimal | None:
    """Months to earn the one-off investment back; None when the net benefit is not positive."""
    if net <= 0:
        return None
    return (one_off / net).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
