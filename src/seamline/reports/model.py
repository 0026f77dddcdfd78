"""What a monthly report says, computed once and written as CSV or PDF.

Customer attribution: a worker's hours of a day are split over the orders she worked on that day in
proportion to the earned minutes (pieces x operation SAM) of each order's pieces; a customer's share is
the sum over its orders. Pay attributed to a customer is the piece pay (with premiums, minus returns)
of pieces on its bundles; the minimum-wage top-up is not attributed to any customer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from seamline.compliance.days import DayKind
from seamline.compliance.evaluate import Violation
from seamline.compliance.service import Period
from seamline.pay.payslip import PayPolicy, Payslip, compute_payslip, money, multiplier, piece_class


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    kind: str
    worked_h: float
    regular_h: float
    overtime_h: float
    pieces: int
    returned: int
    pay: Decimal | None


@dataclass(slots=True)
class WorkerReport:
    factory_id: str
    factory_name: str
    worker: str
    name: str
    first: date
    last: date
    rules_en: str
    rules_zh: str
    days: list[DayRow]
    payslip: Payslip | None
    findings: list[Violation]
    chain_head: str
    missing_logouts: int = 0

    @property
    def worked_h(self) -> float:
        return sum(d.worked_h for d in self.days)

    @property
    def regular_h(self) -> float:
        return sum(d.regular_h for d in self.days)

    @property
    def overtime_h(self) -> float:
        return sum(d.overtime_h for d in self.days)

    @property
    def pieces(self) -> int:
        return sum(d.pieces for d in self.days)

    @property
    def returned(self) -> int:
        return sum(d.returned for d in self.days)


@dataclass(frozen=True, slots=True)
class CustomerRow:
    worker: str
    name: str
    worked_h: float
    overtime_h: float
    pieces: int
    pay: Decimal | None


@dataclass(slots=True)
class CustomerReport:
    factory_id: str
    factory_name: str
    customer: str
    orders: list[str]
    first: date
    last: date
    rules_en: str
    rules_zh: str
    rows: list[CustomerRow]
    findings: list[Violation]
    chain_head: str
    totals: dict[str, float | int | Decimal | None] = field(default_factory=dict)


def worker_report(p: Period, worker: str, policy: PayPolicy | None) -> WorkerReport:
    c = p.computed
    lay = p.layout
    hours = {h.day: h for h in c.hours_in(p.first, p.last) if h.worker == worker}
    slip = None
    if policy is not None:
        slip = compute_payslip(
            worker,
            p.first,
            p.last,
            pieces=c.pieces,
            defects=c.defects,
            hours=c.hours,
            ot_starts=c.ot_starts,
            rules=p.rules,
            layout=lay,
            policy=policy,
        )
    pieces: dict[date, int] = defaultdict(int)
    returned: dict[date, int] = defaultdict(int)
    pay: dict[date, Decimal] = defaultdict(Decimal)
    if slip is not None:
        for ln in slip.lines:
            pieces[ln.day] += ln.pieces
            returned[ln.day] += ln.returned
            pay[ln.day] += ln.amount
    else:
        for wp in c.pieces:
            if wp.worker == worker and p.first <= wp.work_day <= p.last:
                pieces[wp.work_day] += wp.qty
        for wd in c.defects:
            if wd.worker == worker and p.first <= wd.day <= p.last:
                returned[wd.day] += wd.qty
    rows = []
    for d in sorted(set(hours) | set(pieces) | set(returned)):
        h = hours.get(d)
        rows.append(
            DayRow(
                day=d,
                kind=str(h.kind) if h else DayKind.WORKDAY.value,
                worked_h=h.worked_h if h else 0.0,
                regular_h=h.regular_h if h else 0.0,
                overtime_h=h.overtime_h if h else 0.0,
                pieces=pieces.get(d, 0),
                returned=returned.get(d, 0),
                pay=money(pay[d]) if slip is not None else None,
            )
        )
    w = lay.workers.get(worker)
    missing = sum(
        1 for s in c.sessions if s.worker == worker and p.first <= s.work_day <= p.last and "missing_logout" in s.flags
    )
    return WorkerReport(
        factory_id=lay.factory.id,
        factory_name=lay.factory.name,
        worker=worker,
        name=w.name if w else worker,
        first=p.first,
        last=p.last,
        rules_en=p.rules.name_en,
        rules_zh=p.rules.name_zh,
        days=rows,
        payslip=slip,
        findings=[v for v in c.findings_in(p.first, p.last) if v.worker == worker],
        chain_head=p.chain_head,
        missing_logouts=missing,
    )


def customer_report(p: Period, customer: str, policy: PayPolicy | None) -> CustomerReport:
    c = p.computed
    lay = p.layout
    orders = sorted(o.id for o in lay.orders.values() if o.customer == customer)
    mine = set(orders)

    def order_of(bundle: str) -> str | None:
        b = lay.bundles.get(bundle)
        return b.order_id if b else None

    def earned_min(bundle: str, op: str, qty: int) -> float:
        st = lay.style_of_bundle(bundle)
        try:
            return qty * (st.op(op).sam_min if st else 1.0)
        except KeyError:
            return float(qty)

    total_min: dict[tuple[str, date], float] = defaultdict(float)
    cust_min: dict[tuple[str, date], float] = defaultdict(float)
    pieces: dict[str, int] = defaultdict(int)
    pay: dict[str, Decimal] = defaultdict(Decimal)
    by_id = {wp.event_id: wp for wp in c.pieces}
    for wp in c.pieces:
        if not p.first <= wp.work_day <= p.last:
            continue
        m = earned_min(wp.bundle, wp.op, wp.qty)
        total_min[(wp.worker, wp.work_day)] += m
        if order_of(wp.bundle) in mine:
            cust_min[(wp.worker, wp.work_day)] += m
            pieces[wp.worker] += wp.qty
    if policy is not None:
        day_hours = {(h.worker, h.day): h for h in c.hours}
        for wp in c.pieces:
            if p.first <= wp.work_day <= p.last and order_of(wp.bundle) in mine:
                unit = policy.rates.unit_price(lay.style_of_bundle(wp.bundle), wp.op)
                pay[wp.worker] += unit * multiplier(piece_class(wp, day_hours, c.ot_starts), p.rules) * wp.qty
        if policy.deduct_defects:
            for wd in c.defects:
                orig = by_id.get(wd.piece_event_id)
                if p.first <= wd.day <= p.last and order_of(wd.bundle) in mine and orig is not None:
                    unit = policy.rates.unit_price(lay.style_of_bundle(wd.bundle), wd.op)
                    pay[wd.worker] -= unit * multiplier(piece_class(orig, day_hours, c.ot_starts), p.rules) * wd.qty
    worked: dict[str, float] = defaultdict(float)
    overtime: dict[str, float] = defaultdict(float)
    for h in c.hours_in(p.first, p.last):
        k = (h.worker, h.day)
        if cust_min.get(k):
            share = cust_min[k] / total_min[k]
            worked[h.worker] += h.worked_h * share
            overtime[h.worker] += h.overtime_h * share
    workers = sorted(set(worked) | set(pieces))
    rows = [
        CustomerRow(
            worker=w,
            name=lay.workers[w].name if w in lay.workers else w,
            worked_h=worked.get(w, 0.0),
            overtime_h=overtime.get(w, 0.0),
            pieces=pieces.get(w, 0),
            pay=money(pay.get(w, Decimal(0))) if policy is not None else None,
        )
        for w in workers
    ]
    totals: dict[str, float | int | Decimal | None] = {
        "worked_h": sum(r.worked_h for r in rows),
        "overtime_h": sum(r.overtime_h for r in rows),
        "pieces": sum(r.pieces for r in rows),
        "pay": money(sum(pay.values(), Decimal(0))) if policy is not None else None,
    }
    ws = set(workers)
    return CustomerReport(
        factory_id=lay.factory.id,
        factory_name=lay.factory.name,
        customer=customer,
        orders=orders,
        first=p.first,
        last=p.last,
        rules_en=p.rules.name_en,
        rules_zh=p.rules.name_zh,
        rows=rows,
        findings=[v for v in c.findings_in(p.first, p.last) if v.worker in ws],
        chain_head=p.chain_head,
        totals=totals,
    )
