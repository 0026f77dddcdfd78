"""Payslips: piece pay per day and operation, overtime premiums, defect returns and the wage floor.

Piece-rate overtime (PRC practice, e.g. the Provisional Provisions on Wage Payment art. 13): pieces
made in overtime hours are paid at the premium x the piece rate - 150 % on a workday after the
regular hours, 200 % on a rest day, 300 % on a statutory holiday. A piece is "made in overtime" if its
timestamp is at or after the instant the worker's attended time that work day passed the regular
hours (``seamline.compliance.hours.overtime_starts``).

Defects: if the factory's rule says so, pieces sent back are deducted on the day the defect was
recorded, at the unit price and premium of the piece originally paid. The worker can check each
line (day, operation, pieces) against the count the tablet showed.

Money stays exact (Decimal) through the lines; totals are rounded ROUND_HALF_UP to 0.01 at the end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from seamline.compliance.attendance import WorkerDefect, WorkerPiece
from seamline.compliance.hours import DayHours
from seamline.compliance.rules import RuleSet
from seamline.domain.model import FactoryLayout
from seamline.pay.rates import RateCard
from seamline.pay.wage_floor import Basis, MinWage

CENT = Decimal("0.01")
CLASSES: tuple[str, ...] = ("regular", "overtime", "rest_day", "holiday")


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PayPolicy:
    rates: RateCard
    deduct_defects: bool = True
    min_wage: MinWage | None = None
    floor_basis: Basis = "monthly"


@dataclass(frozen=True, slots=True)
class PayLine:
    day: date
    style: str
    op: str
    pay_class: str  # regular | overtime | rest_day | holiday
    pieces: int
    returned: int
    unit_price: Decimal
    multiplier: Decimal

    @property
    def paid_pieces(self) -> int:
        return self.pieces - self.returned

    @property
    def amount(self) -> Decimal:
        return Decimal(self.paid_pieces) * self.unit_price * self.multiplier


@dataclass(frozen=True, slots=True)
class Payslip:
    worker: str
    period_start: date
    period_end: date
    lines: tuple[PayLine, ...]
    regular_h: float
    overtime_h: float
    pay_by_class: dict[str, Decimal]  # rounded
    floor: Decimal  # rounded
    top_up: Decimal  # rounded
    gross: Decimal  # rounded
    pieces: int
    returned: int

    @property
    def piece_pay(self) -> Decimal:
        return money(sum((ln.amount for ln in self.lines), Decimal(0)))


def piece_class(
    p: WorkerPiece, day_hours: Mapping[tuple[str, date], DayHours], ot_starts: Mapping[tuple[str, date], datetime]
) -> str:
    h = day_hours.get((p.worker, p.work_day))
    if h is not None and h.kind != "workday":
        return str(h.kind)
    start = ot_starts.get((p.worker, p.work_day))
    return "overtime" if start is not None and p.ts >= start else "regular"


def multiplier(cls: str, rules: RuleSet) -> Decimal:
    if cls == "regular":
        return Decimal(1)
    return rules.premium("workday" if cls == "overtime" else cls)


def compute_payslip(
    worker: str,
    period_start: date,
    period_end: date,
    *,
    pieces: Iterable[WorkerPiece],
    defects: Iterable[WorkerDefect],
    hours: Iterable[DayHours],
    ot_starts: Mapping[tuple[str, date], datetime],
    rules: RuleSet,
    layout: FactoryLayout,
    policy: PayPolicy,
) -> Payslip:
    """One worker's payslip for the work days ``period_start``..``period_end`` (inclusive).

    ``pieces`` may include pieces before the period: a defect returned in the period is priced from
    the original piece.
    """
    day_hours = {(h.worker, h.day): h for h in hours}
    in_period = lambda d: period_start <= d <= period_end  # noqa: E731
    by_id: dict[str, WorkerPiece] = {}
    made: dict[tuple[date, str, str, str], int] = defaultdict(int)
    price: dict[tuple[date, str, str, str], Decimal] = {}
    for p in pieces:
        if p.worker != worker:
            continue
        by_id[p.event_id] = p
        if not in_period(p.work_day):
            continue
        style = layout.style_of_bundle(p.bundle)
        key = (p.work_day, style.code if style else "", p.op, piece_class(p, day_hours, ot_starts))
        made[key] += p.qty
        price[key] = policy.rates.unit_price(style, p.op)
    returned: dict[tuple[date, str, str, str], int] = defaultdict(int)
    if policy.deduct_defects:
        for d in defects:
            if d.worker != worker or not in_period(d.day):
                continue
            orig = by_id.get(d.piece_event_id)
            style = layout.style_of_bundle(d.bundle)
            cls = piece_class(orig, day_hours, ot_starts) if orig else "regular"
            key = (d.day, style.code if style else "", d.op, cls)
            returned[key] += d.qty
            price.setdefault(key, policy.rates.unit_price(style, d.op))
    lines = tuple(
        PayLine(k[0], k[1], k[2], k[3], made.get(k, 0), returned.get(k, 0), price[k], multiplier(k[3], rules))
        for k in sorted(set(made) | set(returned), key=lambda k: (k[0], k[1], k[2], CLASSES.index(k[3])))
    )
    exact: dict[str, Decimal] = {c: Decimal(0) for c in CLASSES}
    for ln in lines:
        exact[ln.pay_class] += ln.amount
    mine = [h for h in day_hours.values() if h.worker == worker and in_period(h.day)]
    regular_h = sum(h.regular_s for h in mine) / 3600.0
    overtime_h = sum(h.overtime_s for h in mine) / 3600.0
    floor = Decimal(0)
    if policy.min_wage is not None:
        reg_h = Decimal(str(round(sum(h.regular_s for h in mine)))) / 3600
        floor = policy.min_wage.floor(reg_h, policy.floor_basis)
    top_up = max(floor - exact["regular"], Decimal(0))
    gross = sum(exact.values(), Decimal(0)) + top_up
    return Payslip(
        worker=worker,
        period_start=period_start,
        period_end=period_end,
        lines=lines,
        regular_h=regular_h,
        overtime_h=overtime_h,
        pay_by_class={c: money(v) for c, v in exact.items()},
        floor=money(floor),
        top_up=money(top_up),
        gross=money(gross),
        pieces=sum(ln.pieces for ln in lines),
        returned=sum(ln.returned for ln in lines),
    )
