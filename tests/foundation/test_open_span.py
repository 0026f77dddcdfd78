"""``open_span_s`` in closed form gives what cutting the span into local hours gave (DST included)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from seamline.domain.efficiency import hour_start, split_by_hour
from seamline.domain.live import open_span_s


def _by_hours(tz: ZoneInfo, since: datetime, as_of: datetime, start: datetime, end: datetime) -> float:
    lo = max(since, hour_start(start, tz))
    last = hour_start(end, tz)
    hi = min(as_of, end if last == end else (last.astimezone(UTC) + timedelta(hours=1)).astimezone(tz))
    if hi <= lo:
        return 0.0
    return sum((e0 - s0).total_seconds() for h, s0, e0 in split_by_hour(lo, hi, tz) if start <= h < end)


def _t(rng: random.Random, base: datetime, tz: ZoneInfo) -> datetime:
    return (base + timedelta(seconds=rng.randrange(0, 4 * 86400), microseconds=rng.randrange(10**6))).astimezone(tz)


def test_closed_form_matches_the_hour_cut() -> None:
    rng = random.Random(4)
    for name in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kolkata"):
        tz = ZoneInfo(name)
        base = datetime(2026, 3, 28, tzinfo=UTC)  # Berlin's spring change is in this span
        for _ in range(300):
            since, as_of = sorted((_t(rng, base, tz), _t(rng, base, tz)))
            start, end = sorted((_t(rng, base, tz), _t(rng, base, tz)))
            if rng.random() < 0.3:  # day and hour bounds, as the pages ask
                start, end = hour_start(start, tz), hour_start(end, tz)
            want = _by_hours(tz, since, as_of, start, end)
            assert abs(open_span_s(tz, since, as_of, start, end) - want) < 1e-6
    # a station silent for a month: the span is cut to the window asked for
    tz = ZoneInfo("Asia/Shanghai")
    day = datetime(2026, 11, 24, tzinfo=tz)
    assert open_span_s(tz, day - timedelta(days=30), day + timedelta(hours=9), day, day + timedelta(days=1)) == 9 * 3600
