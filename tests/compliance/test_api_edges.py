"""Compliance API edges the OpenAPI fuzz test found (tests/integration/test_openapi_fuzz.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, tzinfo=CST)


@pytest.fixture
def client(tmp_path):  # type: ignore[no-untyped-def]
    rt = bootstrap(f"sqlite:///{tmp_path}/s.db")
    rt.save_layout(tiny_layout())
    c = TestClient(create_app(rt))
    login = payload("login", 0, DAY.replace(hour=8), worker="W1")  # W1 stays logged in
    assert c.post("/api/v1/events", content=b"[" + login + b"]").json()["accepted"] == 1
    yield c
    rt.close()


def test_hours_alerts_as_of_years_after_a_login_answers(client):  # type: ignore[no-untyped-def]
    # The open session used to be cut into every hour from the login to `as_of`: ~8.5 million
    # hours here, which ate gigabytes and never answered. Only the hours asked about are cut now.
    far = client.get("/api/v1/compliance/hours-alerts", params={"as_of": "2999-01-01T00:00:00Z"})
    assert far.status_code == 200
    assert {a["worker"] for a in far.json()["alerts"]} == {"W1"}  # never logged out: a full day that day
    near = client.get("/api/v1/compliance/hours-alerts", params={"as_of": (DAY + timedelta(hours=12)).isoformat()})
    assert near.status_code == 200


def test_efficiency_counts_an_open_session_only_inside_the_range(client):  # type: ignore[no-untyped-def]
    rows = client.get(
        "/api/v1/efficiency",
        params={"start": DAY.replace(hour=9).isoformat(), "end": DAY.replace(hour=11).isoformat(),
                "as_of": DAY.replace(hour=14).isoformat(), "hourly": True},
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
