"""The hand-computed case of the foundation issue, end to end through the pipeline and the API."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, shift_of_one_worker

DAY = datetime(2026, 11, 20, tzinfo=CST)


def test_one_worker_eight_hours_one_hour_break(db_url):
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        client = TestClient(create_app(rt))
        body = b"[" + b",".join(shift_of_one_worker(DAY)) + b"]"
        r = client.post("/api/v1/events", content=body)
        assert r.status_code == 200, r.text
        assert r.json() == {"accepted": 123, "duplicate": 0, "rejected": []}

        r = client.get(
            "/api/v1/efficiency",
            params={"scope": "worker", "start": DAY.isoformat(), "end": DAY.replace(hour=23).isoformat()},
        )
        row = r.json()["rows"][0]
        assert row["key"] == "W1"
        assert row["pieces"] == 120
        assert row["earned_min"] == 60.0
        assert row["attended_min"] == 420.0  # 8 h minus the 1 h lunch break
        assert row["efficiency_pct"] == 14.29  # 60 / 420

        # The line and the station carry the same figures; the line view shows the hours.
        live = client.get("/api/v1/lines/L1/live", params={"as_of": DAY.replace(hour=17).isoformat()}).json()
        assert live["today"]["efficiency_pct"] == 14.29
        st = {s["station"]: s for s in live["stations"]}
        assert st["S1"]["pieces_today"] == 120 and st["S1"]["worker"] is None
        hours = {h["hour"][11:13]: h for h in live["hours"]}
        assert "12" not in hours or hours["12"]["attended_min"] == 0
        assert hours["08"]["attended_min"] == 60.0 and hours["15"]["attended_min"] == 60.0
        assert sum(h["pieces"] for h in live["hours"]) == 120
    finally:
        rt.close()


def test_open_session_counts_up_to_as_of(db_url):
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        client = TestClient(create_app(rt))
        events = shift_of_one_worker(DAY, pieces=10)[:-1]  # no logout: still at work
        assert client.post("/api/v1/events", content=b"[" + b",".join(events) + b"]").json()["accepted"] == 12
        r = client.get(
            "/api/v1/efficiency",
            params={"scope": "worker", "as_of": DAY.replace(hour=14).isoformat()},
        ).json()
        # 08:00 -> 14:00 minus lunch = 300 attended minutes; 10 pieces x 0.5 = 5 earned.
        assert r["rows"][0]["attended_min"] == 300.0
        assert r["rows"][0]["earned_min"] == 5.0
    finally:
        rt.close()
