"""The demo's own factory clock: always a working shift, moving at the demo's speed.

A demo that followed the wall clock would show a frozen floor over lunch, at night and on rest
days in the factory's time zone, which are the working hours of most people trying it elsewhere
(issue #21). The demo clock starts inside a working shift and runs ``speed`` working seconds per
real second, jumping over breaks, nights and rest days, so whoever starts the demo at whatever
hour sees a shift at work.

Only ``seamline demo`` creates one: the server then checks event times against it (instead of
the wall clock) and the pages say "演示时钟 / demo clock". ``seamline serve`` has no way to turn it
on, so a real factory's future-time check cannot be weakened by a setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .model import DomainError, ShiftCalendar

# Walking further than this many days without finding working time means a calendar without workdays.
_MAX_DAYS = 400


def _wall_now() -> datetime:
    return datetime.now(UTC)


def working_spans(cal: ShiftCalendar, after: datetime) -> list[tuple[datetime, datetime]]:
    """The working spans (shift minus breaks) of the first workday whose shift ends after ``after``."""
    tz = cal.tz
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(_MAX_DAYS):
        if day.weekday() in cal.workdays:
            s = datetime.combine(day, cal.shift_start, tz)
            e_day = day if cal.shift_end > cal.shift_start else day + timedelta(days=1)
            e = datetime.combine(e_day, cal.shift_end, tz)
            if e > after:
                spans: list[tuple[datetime, datetime]] = []
                cur = s
                for bs, be in cal.break_intervals(s, e):
                    if bs > cur:
                        spans.append((cur, bs))
                    cur = max(cur, be)
                if cur < e:
                    spans.append((cur, e))
                spans = [(a, b) for a, b in spans if b > after]
                if spans:
                    return spans
        day += timedelta(days=1)
    raise DomainError(f"calendar {cal.id} has no working time in {_MAX_DAYS} days")


def advance(cal: ShiftCalendar, start: datetime, work_s: float) -> datetime:
    """The moment ``work_s`` seconds of working time after ``start`` (non-working time skipped).

    With ``work_s`` 0 and ``start`` outside working time, the start of the next working span."""
    t = start
    left = max(0.0, work_s)
    while True:
        for a, b in working_spans(cal, t):
            begin = max(a, t)
            room = (b - begin).total_seconds()
            if left <= room:
                return (begin + timedelta(seconds=left)).astimezone(cal.tz)
            left -= room
            t = b


@dataclass(frozen=True)
class DemoClock:
    """Factory time = ``origin`` + (wall time since ``wall0``) × ``speed``, counted in working time."""

    calendar: ShiftCalendar
    origin: datetime
    speed: float
    wall0: datetime = field(default_factory=_wall_now)
    wall: Callable[[], datetime] = field(default=_wall_now, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.origin.tzinfo is None or self.wall0.tzinfo is None:
            raise DomainError("DemoClock needs timezone-aware datetimes")
        if not self.speed > 0:
            raise DomainError(f"demo clock speed must be > 0, got {self.speed}")

    def at(self, wall: datetime) -> datetime:
        """Factory time at a wall-clock moment (before ``wall0``: the origin)."""
        elapsed = max(0.0, (wall - self.wall0).total_seconds())
        return advance(self.calendar, self.origin, elapsed * self.speed)

    def now(self) -> datetime:
        return self.at(self.wall())

    def epoch(self) -> float:
        """``now()`` as seconds since the epoch (what the simulator's pacing waits on)."""
        return self.now().timestamp()

    def describe(self) -> str:
        return f"demo:{self.origin.isoformat(timespec='minutes')}@{self.speed:g}x"
