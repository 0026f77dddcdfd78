"""A station with a motor sensor and no tablet is counted: estimated from its bursts, reconciled by
the next station's scan, fed to live state, never paid as scanned (issue #20)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from seamline.adapters.tables import events as events_table
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import (
    Factory,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)
from seamline.entrypoints.api import create_app
from seamline.materials.cutting import cut_order
from seamline.service_layer.counting import CountingProjection
from seamline.service_layer.ingest import RawEvent
from seamline.sim.motor import op_motor_profile, rng_for, sew_bundle
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=CST)
PROFILE = op_motor_profile(11, "ST", "A02", 0.5, "SNLS")


def layout() -> FactoryLayout:
    """Line L1: S1 (tablet, A01) -> S2 (motor sensor only, SNLS) -> S3 (tablet, A03).
    Line L2: T2, a tablet station where A02 is scanned (where its signature is learned)."""
    from datetime import date

    style = Style(
        code="ST",
        name_zh="测试款",
        name_en="Test style",
        operations=(
            Operation("A01", "锁边", "overlock", 0.3, "OL4"),
            Operation("A02", "平车", "lockstitch", 0.5, "SNLS", predecessors=("A01",)),
            Operation("A03", "冚车", "coverstitch", 0.4, "FL", predecessors=("A02",)),
        ),
        bundle_size=20,
    )
    lay = FactoryLayout(factory=Factory(id="f1", name="Test", timezone="Asia/Shanghai"))
    lay.calendars["day"] = ShiftCalendar(id="day")
    for ln in ("L1", "L2"):
        lay.lines[ln] = Line(id=ln, factory_id="f1", name=ln, calendar_id="day")
    for sid, line, mt, pos in (("S1", "L1", "OL4", 1), ("S2", "L1", "SNLS", 2), ("S3", "L1", "FL", 3)):
        lay.stations[sid] = Station(sid, "f1", line, f"SEN-{sid}", mt, pos)
    lay.stations["T2"] = Station("T2", "f1", "L2", "SEN-T2", "SNLS", 1)
    for badge, line in (("W1", "L1"), ("W2", "L1"), ("W3", "L1"), ("W9", "L2")):
        lay.workers[badge] = Worker(badge, badge, line, {"SNLS": 3, "OL4": 3, "FL": 3})
    lay.styles["ST"] = style
    order = Order(id="O1", customer="ACME", style_code="ST", quantities={("M", "Blue"): 200}, due=date(2026, 12, 1))
    lay.orders["O1"] = order
    for b in cut_order(order, style):
        lay.bundles[b.id] = b
    return lay


@pytest.fixture
def rt(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = bootstrap(f"sqlite:///{tmp_path / 'so.sqlite'}", start_worker=False)
    r.save_layout(layout())
    yield r
    r.close()


class Feed:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.seq: dict[tuple[str, str], int] = defaultdict(int)

    def send(self, station: str, type_: str, at_s: float, source: str = "tablet", **f: Any) -> None:
        self.seq[(station, source)] += 1
        p = payload(
            type_, self.seq[(station, source)], DAY + timedelta(seconds=at_s), station=station, source=source, **f
        )
        res = self.rt.pipeline.process([RawEvent(payload=p)])
        assert res.accepted == 1, res.rejected

    def sew(self, station: str, qty: int, t0: float, seed: int) -> float:
        run = sew_bundle(PROFILE, qty, t0, 1.0, rng_for(11, "so", seed))
        for b in run.bursts:
            self.send(station, "burst", b.start_s, source="sensor", run_s=b.run_s, trim=b.trim)
        return run.end_s

    def scanned(self, station: str, bundle: str, op: str, qty: int, t: float) -> None:
        self.send(station, "bundle_in", t, bundle=bundle)
        self.send(station, "piece", t + 1, bundle=bundle, op=op, qty=qty)
        self.send(station, "bundle_out", t + 2, bundle=bundle)


def _station_pieces(rt: Runtime, station: str) -> int:
    rt.pipeline.catch_up()
    return sum(t.pieces for (_f, scope, key, _h), t in rt.live.hourly.items() if scope == "station" and key == station)


def _train_a02_on_line_2(feed: Feed) -> float:
    """Three bundles of A02 scanned at T2 (after A01 elsewhere): the operation's signature."""
    feed.send("T2", "login", 0, worker="W9")
    t = 10.0
    for i in (1, 2, 3):
        bundle = f"O1-000{i}"
        feed.send("T2", "bundle_in", t, bundle=bundle)
        t = feed.sew("T2", 20, t + 1, seed=i) + 2
        feed.send("T2", "piece", t, bundle=bundle, op="A02", qty=20)
        feed.send("T2", "bundle_out", t + 1, bundle=bundle)
        t += 5
    return t


def test_a_sensor_only_station_is_estimated_then_reconciled_by_the_downstream_scan(rt: Runtime) -> None:
    feed = Feed(rt)
    t = _train_a02_on_line_2(feed)
    feed.send("S2", "login", t, source="sensor", worker="W2")  # a badge reader, no tablet
    feed.scanned("S1", "O1-0004", "A01", 20, t)  # the bundle reaches S2's operation
    end = feed.sew("S2", 20, t + 5, seed=4)
    # Estimated from bursts alone: S2's operation inferred (SNLS, not scanned on L1), bundle from the flow.
    live_est = _station_pieces(rt, "S2")
    assert 17 <= live_est <= 20, live_est  # a bundle's estimate never passes its quantity
    client = TestClient(create_app(rt))
    so = client.get("/api/v1/counting/sensor-only").json()
    st = so["stations"][0]
    assert st["station"] == "S2" and st["op"] == "A02" and st["signature"] == "operation"
    assert st["estimated"] == {"O1-0004": live_est} and st["worker"] == "W2"
    assert so["days"][0]["estimated"] == live_est and so["days"][0]["confirmed"] == 0
    # The station's page data says what it is counted as.
    page = client.get("/web/data/station?key=S2&lang=zh_CN").json()
    assert page["sensor_only"]["op"] == "A02" and page["sensor_only"]["estimated"] == {"O1-0004": live_est}
    # The next station scans the bundle for A03: it passed A02 with all its 20 pieces.
    feed.scanned("S3", "O1-0004", "A03", 20, end + 30)
    assert _station_pieces(rt, "S2") == 20
    so = client.get("/api/v1/counting/sensor-only").json()
    rec = so["reconciled"][0]
    assert rec["bundle"] == "O1-0004" and rec["pieces"] == 20 and rec["estimated"] == live_est
    assert rec["diff"] == live_est - 20 and rec["worker"] == "W2"
    assert so["days"][0]["estimated"] == 0 and so["days"][0]["confirmed"] == 20
    # Pay reads piece events: none was written for S2 (its pieces are shown apart, not paid as scanned).
    with rt.engine.connect() as conn:
        types = [r.type for r in conn.execute(select(events_table.c.type).where(events_table.c.station_id == "S2"))]
    assert "piece" not in types and "burst" in types
    # Replaying the store gives the same state.
    rt2 = bootstrap(str(rt.engine.url), start_worker=False)
    try:
        assert _station_pieces(rt2, "S2") == 20
        p2 = rt2.projection("motor_counts")
        assert isinstance(p2, CountingProjection)
        assert p2.sensor_only_stations("f1")["reconciled"][0]["estimated"] == live_est
    finally:
        rt2.close()


def test_cold_start_sensor_only_station_is_credited_by_the_scan_alone(rt: Runtime) -> None:
    feed = Feed(rt)
    feed.scanned("S1", "O1-0001", "A01", 20, 0)
    end = feed.sew("S2", 20, 10, seed=5)
    assert _station_pieces(rt, "S2") == 0  # no signature for A02 anywhere yet: nothing estimated
    proj = rt.projection("motor_counts")
    assert isinstance(proj, CountingProjection)
    st = proj.sensor_only_stations("f1")["stations"][0]
    assert st["op"] == "A02" and st["signature"] == "none" and st["queue"] == ["O1-0001"]
    feed.scanned("S3", "O1-0001", "A03", 20, end + 10)
    assert _station_pieces(rt, "S2") == 20
    rec = proj.sensor_only_stations("f1")["reconciled"][0]
    assert rec["estimated"] == 0 and rec["pieces"] == 20 and rec["signature"] == "none"


def test_a_station_that_scans_is_not_sensor_only_and_shows_its_trims(rt: Runtime) -> None:
    feed = Feed(rt)
    t = _train_a02_on_line_2(feed)
    proj = rt.projection("motor_counts")
    assert isinstance(proj, CountingProjection)
    assert proj.sensor_only_stations("f1")["stations"] == []
    sig = next(s for s in proj.signatures("f1") if s["op"] == "A02")
    # Thread trims are part of the signature (SNLS: a trimmer), about one per seam ...
    assert sig["trims_per_piece"] is not None and sig["trims_per_piece"] >= 0.9 * PROFILE.seams
    # ... and shown with the bundle in work on the station's page data.
    feed.send("T2", "bundle_in", t, bundle="O1-0005")
    feed.sew("T2", 10, t + 1, seed=9)
    page = TestClient(create_app(rt)).get("/web/data/station?key=T2&lang=en").json()
    assert page["open_bundle"] == "O1-0005" and page["trims_per_piece"] == sig["trims_per_piece"]
    assert page["bundle_trims"] >= 9 * PROFILE.seams * 0.9 and page["bundle_bursts"] >= page["bundle_trims"]
