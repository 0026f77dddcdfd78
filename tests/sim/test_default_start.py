"""``default_start``: the shift a simulation starts at when none is given, and how tests pick a past one.

CI failed one Monday morning (Shanghai) because two tests took "the last shift start minus a day",
which on a Monday is a Sunday: no work in the simulated shift, no pieces to count. The way tests
and benches pick a past shift is ``default_start(layout, now - 1 day)``; this pins that it is a
workday's shift start, a full shift in the past, for every hour of a week.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from seamline.adapters.layout_files import load_factory
from seamline.sim.config import default_start

REPO = Path(__file__).resolve().parents[2]


def test_the_last_workday_before_today_is_a_past_workday_for_every_hour_of_a_week() -> None:
    layout = load_factory(REPO / "examples" / "factory")
    cal = layout.calendar_for_line(sorted(layout.lines)[0])
    monday = datetime(2026, 12, 14, 0, 0, tzinfo=cal.tz)
    assert monday.weekday() == 0
    seen_days = set()
    for h in range(7 * 24):
        now = monday + timedelta(hours=h, minutes=25)
        start = default_start(layout, now - timedelta(days=1))
        assert start.weekday() in cal.workdays, (now, start)
        assert start.timetz() == cal.shift_start.replace(tzinfo=start.tzinfo), (now, start)
        assert start + timedelta(hours=9) <= now, (now, start)  # the tests' 9-hour shifts are over
        seen_days.add(start.date())
    # and the bare "last shift start minus a day" is the trap: on a Monday after the shift began
    # it gives a Sunday, which is not a workday in the example factory
    at_monday_work = monday.replace(hour=cal.shift_start.hour + 1)
    assert (default_start(layout, at_monday_work) - timedelta(days=1)).weekday() not in cal.workdays
    assert len(seen_days) >= 5
