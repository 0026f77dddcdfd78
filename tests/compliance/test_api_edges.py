"""Compliance API edges the OpenAPI fuzz test found (tests/integration/test_openapi_fuzz.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import ENGINES, new_database, tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, tzinfo=CST)


@pytest.fixture(scope="module", params=ENGINES)
def client(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One app per engine for the module: the tests below only read."""
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("edges")))
    rt.save_layout(tiny_layout())
    c = TestClient(create_app(rt))
    login = payload("login", 0, DAY.replace(hour=8), worker="W1")  # W1 stays logged in
    assert c.post("/api/v1/events", content=b"[" + login + b"]").json()["accepted"] == 1
    yield c
    rt.close()


def test_hours_alerts_as_of_far_ahead_is_a_422(client):  # type: ignore[no-untyped-def]
    # The open session was cut into every hour from the login to `as_of` (~8.5 million hours
    # here): gigabytes and no answer. Alerts are about today: a day ahead at most.
    far = client.get("/api/v1/compliance/hours-alerts", params={"as_of": "2999-01-01T00:00:00Z"})
    assert far.status_code == 422 and "at most a day after" in far.json()["detail"]
    near = client.get("/api/v1/compliance/hours-alerts", params={"as_of": (DAY + timedelta(hours=12)).isoformat()})
    assert near.status_code == 200 and {a["worker"] for a in near.json()["alerts"]} <= {"W1"}


def test_live_state_cuts_open_sessions_only_over_the_asked_hours(client):  # type: ignore[no-untyped-def]
    live = client.app.state.runtime.live
    start = datetime(2999, 1, 1, tzinfo=CST)
    rows = live.tallies("f1", "worker", start, start + timedelta(days=1), start + timedelta(hours=14))
    assert sum(t.attended_s for t in rows["W1"].values()) == 13 * 3600  # 00:00-14:00 less the lunch hour


def test_efficiency_counts_an_open_session_only_inside_the_range(client):  # type: ignore[no-untyped-def]
    rows = client.get(
        "/api/v1/efficiency",
        params={
            "start": DAY.replace(hour=9).isoformat(),
            "end": DAY.replace(hour=11).isoformat(),
            "as_of": DAY.replace(hour=14).isoformat(),
            "hourly": True,
        },
    ).json()["rows"]
    w1 = next(r for r in rows if r["key"] == "W1")
    assert w1["attended_min"] == pytest.approx(120)  # 09:00-11:00 of a login at 08:00 still open


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "1969-12"])
def test_hours_report_months_out_of_range_are_422(client, month):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/compliance/hours-report", params={"month": month, "worker": "W1"})
    assert r.status_code == 422 and "month" in r.json()["detail"]


def test_hours_report_file_name_with_chinese_badge(client):  # type: ignore[no-untyped-def]
    # A header is Latin-1: a badge like 工人1 in the file name used to raise a 500.
    r = client.get("/api/v1/compliance/hours-report", params={"month": "2026-11", "worker": "工人1"})
    assert r.status_code == 200, r.text
    cd = r.headers["content-disposition"]
    assert cd == (
        "attachment; filename=\"hours-f1-2026-11-__1.csv\"; filename*=UTF-8''hours-f1-2026-11-%E5%B7%A5%E4%BA%BA1.csv"
    )
