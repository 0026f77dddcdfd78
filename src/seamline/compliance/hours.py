"""Regular vs overtime hours per worker and work day under a rule set.

The split, in order (PRC practice, documented in docs/compliance.md):
1. On a rest day or statutory holiday every hour worked is overtime (paid 200 % / 300 %).
2. On a workday the first ``day_regular_h`` hours are regular, the rest overtime.
3. Within a calendar week (Monday-Sunday) regular hours accumulate in date order; once they reach
   ``week_regular_h`` the remaining hours of the week are overtime (at the workday premium).

Overtime is always the *last* attended time of a work day, which is how pay finds the pieces made in
overtime (``overtime_start``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from seamline.compliance.attendance import Session, effective_sessions
from seamline.compliance.days import DayCalendar, DayKind, Holiday
from seamline.compliance.rules import RuleSet
from seamline.domain.model import FactoryLayout, ShiftCalendar


@dataclass(frozen=True, slots=True)
class DayHours:
    worker: str
    day: date
    kind: DayKind
    worked_s: float
    regular_s: float
    overtime_s: float

    @property
    def worked_h(self) -> float:
        return self.worked_s / 3600.0

    @property
    def regular_h(self) -> float:
        return self.regular_s / 3600.0

    @property
    def overtime_h(self) -> float:
        return self.overtime_s / 3600.0


KindOf = Callable[[str, date], DayKind]


def kinds_from_layout(layout: FactoryLayout, holidays: Iterable[Holiday | date] = ()) -> KindOf:
    """Day kinds per worker: rest weekdays from the worker's line calendar, plus holidays."""
    hs = tuple(holidays)
    cache: dict[str, DayCalendar] = {}

    def kind_of(worker: str, day: date) -> DayKind:
        dc = cache.get(worker)
        if dc is None:
            w = layout.workers.get(worker)
            cal = layout.calendar_for_line(w.line_id if w and w.line_id else "")
            dc = cache[worker] = DayCalendar.of(cal.workdays, hs)
        return dc.kind(day)

    return kind_of


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def classify(attended_s: Mapping[tuple[str, date], float], rules: RuleSet, kind_of: KindOf) -> list[DayHours]:
    """Split each (worker, day)'s attended seconds into regular and overtime; sorted by worker, day."""
    per_worker: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for (w, d), s in attended_s.items():
        if s > 0:
            per_worker[w].append((d, s))
    day_cap = None if rules.day_regular_h is None else rules.day_regular_h * 3600.0
    week_cap = None if rules.week_regular_h is None else rules.week_regular_h * 3600.0
    out: list[DayHours] = []
    for w in sorted(per_worker):
        week_reg: dict[date, float] = defaultdict(float)
        for d, s in sorted(per_worker[w]):
            kind = kind_of(w, d)
            if kind is not DayKind.WORKDAY:
                out.append(DayHours(w, d, kind, s, 0.0, s))
                continue
            reg = s if day_cap is None else min(s, day_cap)
            if week_cap is not None:
                room = max(week_cap - week_reg[week_start(d)], 0.0)
                reg = min(reg, room)
            week_reg[week_start(d)] += reg
            out.append(DayHours(w, d, kind, s, reg, s - reg))
    return out


def _instant_after(cal: ShiftCalendar, start: datetime, end: datetime, attended_s: float) -> datetime:
    """The instant t in [start, end] with ``cal.attended_s(start, t) == attended_s``."""
    t, remaining = start, attended_s
    for bs, be in cal.break_intervals(start, end):
        work = (bs - t).total_seconds()
        if remaining <= work:
            return t + timedelta(seconds=remaining)
        remaining -= max(work, 0.0)
        t = max(t, be)
    return min(t + timedelta(seconds=remaining), end)


def overtime_starts(sessions: Iterable[Session], hours: Iterable[DayHours]) -> dict[tuple[str, date], datetime]:
    """Per (worker, day) with overtime: the instant attended time turns into overtime.

    Pieces with a timestamp at or after this instant were made in overtime hours.
    """
    per_day: dict[tuple[str, date], list[Session]] = defaultdict(list)
    for w, lst in effective_sessions(sessions).items():
        for s in lst:
            per_day[(w, s.work_day)].append(s)
    out: dict[tuple[str, date], datetime] = {}
    for h in hours:
        if h.overtime_s <= 0:
            continue
        lst = per_day.get((h.worker, h.day), [])
        if not lst:
            continue
        remaining = h.regular_s
        for s in lst:
            a = s.attended_s
            if remaining < a or s is lst[-1]:
                out[(h.worker, h.day)] = _instant_after(s.calendar, s.start, s.end, max(remaining, 0.0))
                break
            remaining -= a
    return out


@dataclass(frozen=True, slots=True)
class PeriodHours:
    worker: str
    period: str  # week | month
    start: date
    days_worked: int
    worked_h: float
    regular_h: float
    overtime_h: float


def summarise(hours: Iterable[DayHours], period: str) -> list[PeriodHours]:
    """Weekly (Monday-Sunday) or calendar-monthly totals per worker, sorted by worker and start."""
    if period not in ("week", "month"):
        raise ValueError(f"period {period!r}: week or month")
    acc: dict[tuple[str, date], list[DayHours]] = defaultdict(list)
    for h in hours:
        start = week_start(h.day) if period == "week" else h.day.replace(day=1)
        acc[(h.worker, start)].append(h)
    return [
        PeriodHours(
            w,
            period,
            s,
            sum(1 for h in lst if h.worked_s > 0),
            sum(h.worked_s for h in lst) / 3600.0,
            sum(h.regular_s for h in lst) / 3600.0,
            sum(h.overtime_s for h in lst) / 3600.0,
        )
        for (w, s), lst in sorted(acc.items())
    ]
