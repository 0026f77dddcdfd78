"""The demo's factory clock (domain/demo_clock.py): a working shift at the demo speed, whenever the
demo is started, skipping breaks, nights and rest days (issue #21 item 3)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from seamline.domain.demo_clock import DemoClock, advance
from seamline.domain.model import Break, DomainError, ShiftCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = ShiftCalendar(
    "day",
    "Asia/Shanghai",
    time(8, 0),
    time(17, 0),
    (Break(time(12, 0), time(13, 0), "lunch"),),
    (0, 1, 2, 3, 4, 5),
)


def sh(*a: int) -> datetime:
    return datetime(*a, tzinfo=SH)  # type: ignore[misc]


def test_advance_skips_lunch_nights_and_the_rest_day() -> None:
    sat = sh(2026, 12, 5, 11, 30)  # Saturday, a workday
    assert advance(CAL, sat, 20 * 60) == sh(2026, 12, 5, 11, 50)
    assert advance(CAL, sat, 40 * 60) == sh(2026, 12, 5, 13, 10)  # over lunch
    # 5.5 h of work left on Saturday after 11:30 (lunch out): the rest lands on Monday, Sunday skipped
    assert advance(CAL, sat, (4.5 + 1) * 3600) == sh(2026, 12, 7, 9, 0)
    # outside working time, zero work means the next working moment
    assert advance(CAL, sh(2026, 12, 6, 3, 0), 0) == sh(2026, 12, 7, 8, 0)
    assert advance(CAL, sh(2026, 12, 5, 12, 15), 0) == sh(2026, 12, 5, 13, 0)


def test_the_clock_runs_at_the_demo_speed_over_working_time_only() -> None:
    wall0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai: after the shift
    now = [wall0]
    clock = DemoClock(CAL, sh(2026, 12, 5, 11, 0), 60.0, wall0=wall0, wall=lambda: now[0])
    assert clock.now() == sh(2026, 12, 5, 11, 0)
    now[0] = wall0 + timedelta(seconds=30)
    assert clock.now() == sh(2026, 12, 5, 11, 30)
    now[0] = wall0 + timedelta(seconds=90)  # 90 working minutes: 12:00-13:00 skipped
    assert clock.now() == sh(2026, 12, 5, 13, 30)
    # never in a break, at night or on Sunday, sampled over three simulated days
    for s in range(0, 3 * 8 * 60, 7):
        t = clock.at(wall0 + timedelta(seconds=s))
        assert t.weekday() != 6
        assert time(8, 0) <= t.time() <= time(17, 0)
        assert not (time(12, 0) < t.time() < time(13, 0))
    assert clock.describe() == "demo:2026-12-05T11:00+08:00@60x"


def test_a_clock_needs_aware_times_and_a_positive_speed() -> None:
    with pytest.raises(DomainError):
        DemoClock(CAL, datetime(2026, 12, 5, 8, 30), 60.0)
    with pytest.raises(DomainError):
        DemoClock(CAL, sh(2026, 12, 5, 8, 30), 0.0)
    with pytest.raises(DomainError):
        advance(ShiftCalendar("none", workdays=()), sh(2026, 12, 5, 8, 0), 1.0)
