"""Working-hours alerts from live attended time: actual and projected to the shift end."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.compliance.rules import active_rules
from seamline.entrypoints.api import create_app
from seamline.service_layer.hours_alerts import hours_alerts
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, tzinfo=CST)  # a Friday; shift 08:00-16:00, lunch 12-13


def test_projected_and_actual_overtime_alerts(db_url):
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        client = TestClient(create_app(rt))
        evs = [
            payload("login", 0, DAY.replace(hour=3), worker="W1"),  # 03:00 -> 16:00 = 12 h: 4 h overtime
            payload("login", 0, DAY.replace(hour=4), station="S2", worker="W2"),  # 11 h: 3 h, at the cap
        ]
        assert client.post("/api/v1/events", content=b"[" + b",".join(evs) + b"]").json()["accepted"] == 2
        rules = active_rules(["prc_labour_law"])
        layout = rt.layouts["f1"]

        at_ten = hours_alerts(rt.live, layout, rules, as_of=DAY.replace(hour=10))
        got = {(a["worker"], a["rule"], a["severity"], a["projected"]) for a in at_ten}
        assert ("W1", "prc_ot_day", "violation", True) in got  # would break 3 h/day if W1 stays
        assert ("W2", "prc_ot_day", "warning", True) in got  # 3 h: at the cap, warned
        assert not any(not a["projected"] and a["rule"] == "prc_ot_day" for a in at_ten)  # nothing broken yet
        assert "3" in str(next(a for a in at_ten if a["worker"] == "W1")["message_en"])

        # At 17:00 W1 has worked 13 h (14 h minus lunch): the violation is actual now.
        at_five = hours_alerts(rt.live, layout, rules, as_of=DAY.replace(hour=17))
        assert any(a["worker"] == "W1" and a["severity"] == "violation" and not a["projected"] for a in at_five)

        api = client.get("/api/v1/compliance/hours-alerts", params={"as_of": DAY.replace(hour=10).isoformat()})
        assert api.status_code == 200
        assert {a["worker"] for a in api.json()["alerts"]} >= {"W1", "W2"}
    finally:
        rt.close()
