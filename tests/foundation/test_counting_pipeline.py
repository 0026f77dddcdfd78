"""Bursts through ingest: counted pieces reach live state, scans reconcile, misfits reach the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.service_layer.counting import CountingProjection
from seamline.service_layer.ingest import RawEvent
from seamline.sim.motor import op_motor_profile, rng_for, sew_bundle
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, 8, 0, tzinfo=CST)
PROFILE = op_motor_profile(3, "HEM", "OP1", 0.5, "SNLS")


@pytest.fixture
def rt(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = bootstrap(f"sqlite:///{tmp_path / 'c.sqlite'}", start_worker=False)
    r.save_layout(tiny_layout())
    yield r
    r.close()


class Feed:
    def __init__(self, rt) -> None:  # type: ignore[no-untyped-def]
        self.rt = rt
        self.seq = {"sensor": 0, "tablet": 0}
        self.t = 0.0

    def send(self, type_: str, at_s: float, source: str = "tablet", **f) -> None:  # type: ignore[no-untyped-def]
        self.seq[source] += 1
        p = payload(type_, self.seq[source], DAY + timedelta(seconds=at_s), source=source, **f)
        res = self.rt.pipeline.process([RawEvent(payload=p)])
        assert res.accepted == 1, res.rejected

    def bundle(self, qty: int, *, chatter: int = 1, done: bool = True) -> int:
        """Sew a bundle of O1-0001 (scan in, bursts, [done: the rest as a piece, bundle out])."""
        r = rng_for(3, "pipeline", self.t)
        self.send("bundle_in", self.t, bundle="O1-0001")
        run = sew_bundle(PROFILE, qty, self.t + 1, 1.0, r)
        for b in run.bursts:
            for k in range(chatter):
                self.send(
                    "burst",
                    b.start_s + k * b.run_s / chatter,
                    source="sensor",
                    run_s=b.run_s / chatter * 0.8,
                    trim=b.trim and k == chatter - 1,
                )
        self.t = run.end_s + 5
        if done:
            self.send("piece", self.t, bundle="O1-0001", op="OP1", qty=qty)
            self.send("bundle_out", self.t + 1, bundle="O1-0001")
            self.t += 5
        return qty


def _pieces(rt) -> int:  # type: ignore[no-untyped-def]
    rt.pipeline.catch_up()
    return sum(t.pieces for (f, scope, key, _h), t in rt.live.hourly.items() if scope == "station" and key == "S1")


def test_counted_pieces_feed_live_state_and_the_scan_quantity_wins(rt) -> None:  # type: ignore[no-untyped-def]
    feed = Feed(rt)
    feed.send("login", 0, worker="W1")
    total = sum(feed.bundle(20) for _ in range(3))  # scanned: the signature's training
    assert _pieces(rt) == total
    feed.bundle(20, done=False)  # in work: counted from bursts only
    live_now = _pieces(rt) - total
    assert 17 <= live_now <= 23
    proj = rt.projection("motor_counts")
    assert isinstance(proj, CountingProjection)
    assert proj.station_bundle("f1", "S1")["bundle_counted"] == live_now
    feed.send("piece", feed.t, bundle="O1-0001", op="OP1", qty=20)
    feed.send("bundle_out", feed.t + 1, bundle="O1-0001")
    assert _pieces(rt) == total + 20  # provisional count retracted, the scan stands
    recs = proj.reconciliations("f1")
    assert recs[0]["counted"] == live_now and recs[0]["pieces"] == 20 and recs[0]["signature"] == "worker"
    # Replaying the store rebuilds the same state.
    rt2 = bootstrap(str(rt.engine.url), start_worker=False)
    try:
        assert _pieces(rt2) == total + 20
        proj2 = rt2.projection("motor_counts")
        assert isinstance(proj2, CountingProjection)
        assert proj2.reconciliations("f1")[0]["counted"] == live_now
    finally:
        rt2.close()


def test_a_chattering_sensor_is_flagged_on_the_supervisors_api(rt) -> None:  # type: ignore[no-untyped-def]
    feed = Feed(rt)
    feed.send("login", 0, worker="W1")
    for _ in range(3):
        feed.bundle(15)
    feed.bundle(15, chatter=3)
    client = TestClient(create_app(rt))
    body = client.get("/api/v1/counting/flags").json()
    kinds = {f["kind"] for f in body["flags"]}
    assert body["factory"] == "f1" and kinds & {"too_many_bursts", "over_quantity"}
    sigs = client.get("/api/v1/counting/signatures").json()["signatures"]
    assert sigs[0]["op"] == "OP1" and sigs[0]["bundles"] == 3
    assert client.get("/api/v1/counting/bundles").json()["reconciled"][0]["pieces"] == 15
    # ... and on the supervisor's line page, in Chinese first.
    alerts = client.get("/web/data/line?key=L1&lang=zh_CN").json()["alerts"]
    mine = [a for a in alerts if a["kind"].startswith("count_")]
    assert mine and mine[0]["station"] == "S1" and "O1-0001" in mine[0]["text"] and "扎包" in mine[0]["text"]


def test_burst_events_need_no_bundle_or_operation_and_bad_ones_are_quarantined(rt) -> None:  # type: ignore[no-untyped-def]
    ok = [
        payload("burst", 1, DAY, run_s=2.5),
        payload("burst", 2, DAY + timedelta(seconds=5), run_s=1.0, trim=True, stitches=42, source="gateway"),
        payload("bursts", 3, DAY + timedelta(seconds=10), period_s=60, n=7, run_s=21.5, trims=3),
    ]
    bad = [
        (payload("burst", 4, DAY, run_s=-1), "`$.run_s`"),
        (payload("burst", 5, DAY), "`run_s`"),
        (payload("bursts", 6, DAY, period_s=0, n=1, run_s=1), "`$.period_s`"),
    ]
    res = rt.pipeline.process([RawEvent(payload=p) for p in ok])
    assert res.accepted == 3 and not res.rejected
    for raw, reason in bad:
        res = rt.pipeline.process([RawEvent(payload=raw)])
        assert res.accepted == 0 and reason in res.rejected[0]["reason"], res.rejected
