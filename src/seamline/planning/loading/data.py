"""Problem data and plan of order loading.

Kept deliberately plain: hours limits are numbers in a ``HoursPolicy`` (the compliance feature
owns the full rule sets and can fill one of these), lines carry a capacity in standard minutes,
orders a garment SAM. The time grid is whole days from ``start``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class HoursPolicy:
    """Working-hours limits per worker (PRC defaults: 8 h/day, ≤ 3 h OT/day, ≤ 36 h/month)."""

    regular_h_per_day: float = 8.0
    max_ot_h_per_day: int = 3
    max_ot_h_per_week: int | None = 12
    max_ot_h_per_month: int | None = 36
    rest_days: tuple[int, ...] = (6,)  # weekdays off, Monday = 0
    # Overtime already worked this week / month before ``start`` (counts against the caps).
    ot_h_used_week: int = 0
    ot_h_used_month: int = 0


@dataclass(frozen=True, slots=True)
class LoadLine:
    line_id: str
    operators: int
    efficiency: float  # expected line efficiency as a fraction (0.55 = 55 %)
    current_style: str | None = None

    def std_min_per_hour(self) -> float:
        """Standard minutes the line earns in one working hour."""
        return self.operators * 60.0 * self.efficiency


@dataclass(frozen=True, slots=True)
class LoadOrder:
    order_id: str
    style_code: str
    qty: int
    due: date
    sam_min: float  # garment SAM of the style
    priority: int = 0
    # Lines that may not make it (fabric, skills, customer audits); empty: any line
    lines: tuple[str, ...] = ()
    # Earliest day it may start (material arrives, or the planner moved it there); None: any day
    release: date | None = None


@dataclass(frozen=True)
class LoadingProblem:
    start: date
    horizon_days: int
    lines: tuple[LoadLine, ...]
    orders: tuple[LoadOrder, ...]
    policy: HoursPolicy = field(default_factory=HoursPolicy)
    changeover_h: float = 2.0  # hours lost on a line when it switches style
    learning_loss: float = 0.3  # fraction of the first day's capacity lost on a new style

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.horizon_days)]

    def workday(self, d: date) -> bool:
        return d.weekday() not in self.policy.rest_days


@dataclass(frozen=True, slots=True)
class LineDay:
    line_id: str
    day: date
    regular_h: float
    overtime_h: int
    pieces: Mapping[str, int]  # order id -> pieces made that day
    changeovers: int


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    order_id: str
    line_id: str | None  # None: could not be loaded in the horizon
    finish: date | None
    late_days: int


@dataclass(frozen=True)
class LoadingPlan:
    days: tuple[LineDay, ...]
    orders: Mapping[str, OrderOutcome]
    total_late_days: int
    total_overtime_h: int
    total_changeovers: int
    optimal: bool = False

    def summary(self) -> dict[str, object]:
        return {
            "late_days": self.total_late_days,
            "overtime_h": self.total_overtime_h,
            "changeovers": self.total_changeovers,
            "orders": {
                k: {"line": v.line_id, "finish": v.finish.isoformat() if v.finish else None, "late_days": v.late_days}
                for k, v in self.orders.items()
            },
        }


@dataclass(frozen=True)
class Verdict:
    """Answer to "can we take this order?": yes only if it is on time and nothing else slips."""

    accept: bool
    on_time: bool
    plan: LoadingPlan
    displaced: tuple[str, ...]  # orders later than in the plan without the new one
    reason: str
