"""Quality fed live by ingest: DHU, Pareto, AQL plans and traceability over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, tzinfo=CST)


def test_dhu_pareto_and_trace_from_ingested_events(db_url):
    url = db_url
    rt = bootstrap(url)
    try:
        rt.save_layout(tiny_layout())
        client = TestClient(create_app(rt))
        t = DAY.replace(hour=9)
        evs = [payload("login", 0, t, worker="W1")]
        evs += [payload("piece", 1 + i, t + timedelta(minutes=i), bundle="O1-0001", op="OP1") for i in range(40)]
        evs.append(payload("login", 0, t, station="S2", worker="W2"))
        evs += [
            payload(
                "defect",
                1,
                t + timedelta(minutes=50),
                station="S2",
                bundle="O1-0001",
                op="OP1",
                defect="SKIP",
                qty=2,
                id_="d1",
            ),
            payload(
                "defect",
                2,
                t + timedelta(minutes=51),
                station="S2",
                bundle="O1-0001",
                op="OP1",
                defect="PUCKER",
                qty=1,
                id_="d2",
            ),
        ]
        assert client.post("/api/v1/events", content=b"[" + b",".join(evs) + b"]").json()["accepted"] == 44

        dhu = client.get("/api/v1/quality/dhu").json()
        assert dhu["total"]["defects"] == 3 and dhu["total"]["pieces"] == 40
        assert dhu["total"]["dhu"] == 7.5  # 3 x 100 / 40
        assert [p["code"] for p in dhu["pareto"]] == ["SKIP", "PUCKER"]

        alerts = client.get("/api/v1/quality/alerts")
        assert alerts.status_code == 200
        assert any(a["key"] == "W1" and "DHU 7.5" in a["message"] for a in alerts.json())
        tr = client.get("/api/v1/quality/trace/defect/d1").json()
        assert (tr["made_by"], tr["made_at_station"], tr["reported_at_station"]) == ("W1", "S1", "S2")
        b = client.get("/api/v1/quality/trace/bundle/O1-0001").json()
        assert b["order_id"] == "O1" and len(b["defects"]) == 2
        assert client.get("/api/v1/quality/trace/bundle/NOPE").status_code == 404

        plan = client.get("/api/v1/quality/aql", params={"lot_size": 2000}).json()
        assert (plan["code_letter"], plan["sample_size"], plan["accept"], plan["reject"]) == ("K", 125, 7, 8)
        assert client.get("/api/v1/quality/aql", params={"lot_size": 2000, "aql": "3.3"}).status_code == 422
    finally:
        rt.close()

    rt2 = bootstrap(url)  # the projection is rebuilt from the store at start-up
    try:
        snap = TestClient(create_app(rt2)).get("/api/v1/quality/dhu").json()
        assert snap["total"]["defects"] == 3
    finally:
        rt2.close()
