"""A shift calendar's working time as one integer axis: microseconds of work since a base day.

The overview's order plan asks, for every open order, "when are ``w`` more minutes of work done
after this moment?". Walking the days for each order made the plan's cost grow with the order book
(and its time with the horizon). On this axis the answer is one addition and one binary search:
``at(pos(t) + w)``. Sums of integers are exact, so a plan laid out from "now" shifts as a whole
when only time passes: an order's finish is ``pos(now) + its offset``, and it is late exactly when
``pos(now) > pos(due) - offset`` (``web/plan.py`` reuses a plan that way).

Semantics are those of walking the windows (``web.plan.advance``): work is done inside the
shift's windows (shift minus breaks, on workdays); ``at(x)`` is the earliest moment ``x`` is
reached, so work that exactly fills a window finishes at the window's end.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from ..domain.model import ShiftCalendar

US_PER_MIN = 60_000_000
CHUNK_DAYS = 56  # windows are laid out this many days at a time, as far as a plan reaches
MAX_DAYS = 3660  # beyond ten years of windows, time runs on the wall clock (a calendar without workdays)

Windows = Callable[[ShiftCalendar, date], list[tuple[datetime, datetime]]]


def us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


class WorkClock:
    """Working time of one calendar, laid out lazily from a base day onwards.

    Pages share a clock across threads: windows are laid out under a lock into new lists that
    replace the old ones at once, so a reader always sees one consistent layout."""

    def __init__(self, cal: ShiftCalendar, windows: Windows, first: date) -> None:
        self.cal = cal
        self._windows = windows
        self.base = first
        self._next_day = first
        # (window starts, window ends, position at each start, position at each end)
        self._w: tuple[list[datetime], list[datetime], list[int], list[int]] = ([], [], [], [])
        self._lock = threading.Lock()

    def _grow(self, enough: Callable[[tuple[list[datetime], list[datetime], list[int], list[int]]], bool]) -> bool:
        """Lay out windows until ``enough``; False if that needs more than ``MAX_DAYS``."""
        while not enough(self._w):
            with self._lock:
                if enough(self._w):
                    break
                if (self._next_day - self.base).days >= MAX_DAYS:
                    return False
                w = self._w
                starts, ends, cum, cum_end = list(w[0]), list(w[1]), list(w[2]), list(w[3])
                day = self._next_day
                for _ in range(CHUNK_DAYS):
                    for ws, we in self._windows(self.cal, day):
                        pos = cum_end[-1] if cum_end else 0
                        starts.append(ws)
                        ends.append(we)
                        cum.append(pos)
                        cum_end.append(pos + us(we - ws))
                    day += timedelta(days=1)
                self._w, self._next_day = (starts, ends, cum, cum_end), day
        return True

    def pos(self, t: datetime) -> int:
        """Microseconds of work between the base day and ``t``."""
        if not self._grow(lambda w: bool(w[1]) and w[1][-1] > t):
            starts, ends, cum, cum_end = self._w
            return (cum_end[-1] if cum_end else 0) + us(t - (ends[-1] if ends else t))
        starts, ends, cum, cum_end = self._w
        i = bisect.bisect_right(starts, t) - 1
        if i < 0:
            return 0
        if t < ends[i]:
            return cum[i] + us(t - starts[i])
        return cum_end[i]

    def at(self, x: int) -> datetime:
        """The earliest moment at which position ``x`` is reached."""
        if not self._grow(lambda w: bool(w[3]) and w[3][-1] >= x):
            _s, ends, _c, cum_end = self._w  # no work within MAX_DAYS: the wall clock past the last window
            last = ends[-1] if ends else datetime.combine(self.base, self.cal.shift_start, self.cal.tz)
            return last + timedelta(microseconds=x - (cum_end[-1] if cum_end else 0))
        starts, _e, cum, cum_end = self._w
        i = bisect.bisect_left(cum_end, x)
        return starts[i] + timedelta(microseconds=max(0, x - cum[i]))


class WorkClocks:
    """One clock per calendar, shared by every page (a calendar is a frozen value)."""

    def __init__(self, windows: Windows) -> None:
        self._windows = windows
        self._clocks: dict[ShiftCalendar, WorkClock] = {}
        self._lock = threading.Lock()

    def of(self, cal: ShiftCalendar, t: datetime) -> WorkClock:
        """The calendar's clock, laid out from before ``t`` (a clock starting later is replaced)."""
        c = self._clocks.get(cal)
        day = t.astimezone(cal.tz).date() - timedelta(days=2)
        if c is None or c.base > day:
            with self._lock:
                c = self._clocks.get(cal)
                if c is None or c.base > day:
                    c = self._clocks[cal] = WorkClock(cal, self._windows, day - timedelta(days=28))
        return c
