"""Bundle ageing over long spans (the OpenAPI fuzz test asked for WIP `as_of` year 2999)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.domain.model import ShiftCalendar
from seamline.entrypoints.api import create_app
from seamline.materials.routing import working_seconds
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload


def _day_by_day(cal: ShiftCalendar, start: datetime, end: datetime) -> float:
    total = 0.0
    day: date = start.astimezone(cal.tz).date() - timedelta(days=1)
    while day <= end.astimezone(cal.tz).date():
        if day.weekday() in cal.workdays:
            a = max(datetime.combine(day, cal.shift_start, cal.tz), start)
            b = min(datetime.combine(day, cal.shift_end, cal.tz), end)
            if a < b:
                total += cal.attended_s(a, b)
        day += timedelta(days=1)
    return total


def test_long_spans_equal_the_day_by_day_sum() -> None:
    cal = tiny_layout().calendars["day"]  # 08-16 with an hour's lunch
    rnd = random.Random(7)
    t0 = datetime(2026, 1, 1, tzinfo=CST)
    for _ in range(200):
        s = t0 + timedelta(minutes=rnd.randrange(60 * 24 * 400))
        e = s + timedelta(minutes=rnd.randrange(60 * 24 * 120))
        assert working_seconds(cal, s, e) == _day_by_day(cal, s, e), (s, e)
    week = working_seconds(cal, datetime(2026, 11, 23, tzinfo=CST), datetime(2026, 11, 30, tzinfo=CST))
    assert week == len(cal.workdays) * 7 * 3600
    monday = datetime(2026, 11, 23, tzinfo=CST)
    assert working_seconds(cal, monday, monday + timedelta(weeks=52_000)) == 52_000 * week


def test_wip_as_of_far_ahead_answers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rt = bootstrap(f"sqlite:///{tmp_path}/s.db")
    try:
        rt.save_layout(tiny_layout())
        c = TestClient(create_app(rt))
        t = datetime(2026, 11, 20, 9, tzinfo=CST)
        evs = [payload("bundle_in", 1, t, bundle="O1-0001"), payload("piece", 2, t, bundle="O1-0001", op="OP1")]
        assert c.post("/api/v1/events", content=b"[" + b",".join(evs) + b"]").json()["accepted"] == 2
        # Every bundle's age was walked day by day to `as_of`: this never answered.
        r = c.get("/api/v1/materials/wip", params={"as_of": "2999-01-01T00:00:00Z"})
        assert r.status_code == 200
        assert max(op["max_age_min"] for op in r.json()["operations"]) > 60 * 24 * 365
    finally:
        rt.close()
