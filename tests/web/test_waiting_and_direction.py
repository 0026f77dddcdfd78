"""Waiting for work from the events, on-standard efficiency, and the tablet's next task from the plan
(in-process, the hand-made factory)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.domain.events import BundleIn, BundleOut, Downtime, Login, Piece
from seamline.entrypoints.api import create_app
from seamline.service_layer.line_direction import on_standard_pct
from seamline.service_layer.waiting import WaitingProjection
from seamline.web.i18n import Fmt

from .factory import at, layout

_n = 0


def _ev(cls, station: str, ts, **kw):  # type: ignore[no-untyped-def]
    global _n
    _n += 1
    return cls(id=f"w{_n}", seq=_n, ts=ts, factory="F", station=station, **kw)


def test_waiting_counts_logged_in_time_without_a_bundle_and_no_work_stops_not_breaks() -> None:
    lay = layout()
    w = WaitingProjection({"F": lay})
    for ev in (
        _ev(Login, "S1", at(8, 0), worker="W1"),  # waits from 08:00 …
        _ev(BundleIn, "S1", at(8, 20), bundle="B1"),  # … to 08:20
        _ev(BundleOut, "S1", at(9, 0), bundle="B1"),  # waits again from 09:00
        _ev(Piece, "S1", at(9, 10), bundle="B2", op="A"),  # a piece without a scan is work
        _ev(Downtime, "S1", at(9, 30), reason="MECH", phase="start"),  # a breakdown is not waiting
        _ev(Downtime, "S1", at(9, 40), reason="MECH", phase="end"),
        _ev(Downtime, "S1", at(11, 50), reason="NO_WORK", phase="start"),  # pressed: waits, over lunch
        _ev(Login, "S2", at(8, 0), worker="W2"),
    ):
        w.apply(ev)
    day = at(0).date()
    got = w.waiting_s("F", day, at(13, 10))
    assert got[("S1", "W1")] == pytest.approx((20 + 10 + 10 + 10) * 60)  # 08:00-20, 09:00-10, 11:50-12:00, 13:00-10
    assert got[("S2", "W2")] == pytest.approx((4 * 60 + 10) * 60)  # 08:00-13:10 less the lunch hour
    now = {x.station: x.since for x in w.waiting_now("F")}
    assert now == {"S1": at(11, 50), "S2": at(8, 0)}
    w.apply(_ev(Downtime, "S1", at(13, 30), reason="NO_WORK", phase="end"))
    w.apply(_ev(Piece, "S1", at(13, 31), bundle="B2", op="A"))
    assert w.waiting_s("F", day, at(14))[("S1", "W1")] == pytest.approx((20 + 10 + 10 + 30) * 60)


def test_on_standard_efficiency_leaves_waiting_out() -> None:
    assert on_standard_pct(30.0, 120.0, 60.0) == pytest.approx(50.0)
    assert on_standard_pct(30.0, 120.0, 0.0) == pytest.approx(25.0)
    assert on_standard_pct(0.0, 60.0, 60.0) is None


def test_tablet_shows_a_bundle_to_fetch_upstream_and_the_waiting_time(db_url: str) -> None:
    """S1 sewed A on B1 and B2 (done, put down); S2 (waistband, after A) has nothing in hand: its
    next task is B on a bundle held at S1, never its current one, and its waiting is shown apart."""
    from seamline.service_layer.ingest import RawEvent

    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout())
        evs = [
            {"type": "login", "station": "S1", "worker": "W1", "ts": at(8, 0)},
            {"type": "login", "station": "S2", "worker": "W2", "ts": at(8, 0)},
            {"type": "bundle_in", "station": "S1", "bundle": "B1", "ts": at(8, 1)},
            {"type": "piece", "station": "S1", "bundle": "B1", "op": "A", "qty": 10, "ts": at(8, 15)},
            {"type": "bundle_out", "station": "S1", "bundle": "B1", "ts": at(8, 15)},
            {"type": "bundle_in", "station": "S2", "bundle": "B1", "ts": at(8, 20)},
            {"type": "piece", "station": "S2", "bundle": "B1", "op": "B", "qty": 10, "ts": at(8, 25)},
            {"type": "bundle_out", "station": "S2", "bundle": "B1", "ts": at(8, 25)},
            {"type": "bundle_in", "station": "S1", "bundle": "B2", "ts": at(8, 26)},
            {"type": "piece", "station": "S1", "bundle": "B2", "op": "A", "qty": 10, "ts": at(8, 40)},
            {"type": "bundle_out", "station": "S1", "bundle": "B2", "ts": at(8, 40)},
            {"type": "bundle_in", "station": "S1", "bundle": "B3", "ts": at(8, 41)},
            {"type": "piece", "station": "S1", "bundle": "B3", "op": "A", "qty": 1, "ts": at(9, 0)},
        ]
        import json

        raws = [
            RawEvent(
                payload=json.dumps({**e, "id": f"d{i}", "seq": i, "factory": "F", "ts": e["ts"].isoformat()}).encode()
            )
            for i, e in enumerate(evs)
        ]
        rt.worker.submit_future(raws).result(10)
        client = TestClient(create_app(rt))
        d = client.get("/web/data/station?key=S2&lang=en").json()
        assert d["current"]["op"] == "B" and d["bundle"] is None  # B1 done and put down
        assert (d["next"]["op"], d["next"]["bundle"], d["next_kind"]) == ("B", "B2", "fetch")
        assert d["next_where"] == "Fetch bundle B2 at S1"
        # W2 waited 08:00-08:20 and 08:25-09:00: 55 of 60 minutes; earned 10 × 0.5 = 5 min
        assert d["waiting_min"] == pytest.approx(55.0, abs=0.1)
        assert d["eff_txt"] == Fmt("en").pct(100.0) and d["eff_overall_txt"] == Fmt("en").pct(5 / 60 * 100)
        zh = client.get("/web/data/station?key=S2").json()
        assert zh["next_where"] == "去 S1 取扎 B2" and zh["waiting_txt"] == "待料 55 分钟"
        line = client.get("/web/data/line?key=L&lang=en").json()
        assert line["kpis"]["eff_txt"] != line["kpis"]["eff_overall_txt"]
        assert line["alerts"][0]["kind"] == "waiting_group" and line["alerts"][0]["stations"] == ["S2"]
        assert line["alerts"][0]["text"].startswith("1 stations waiting for work since")
    finally:
        rt.close()


def test_one_bundle_is_shown_to_one_tablet_the_empty_handed_first(db_url: str) -> None:
    """Two lockstitch stations want op B; one bundle is ready for it. S4 has nothing in hand and
    gets it; S2, still holding B1, is told to wait for the station that feeds it."""
    import json

    from seamline.domain.model import Station, Worker
    from seamline.service_layer.ingest import RawEvent

    lay = layout()
    lay.stations["S4"] = Station("S4", "F", "L", "sen4", "SNLS", 4)
    lay.workers["W4"] = Worker("W4", "工人4", "L", {"SNLS": 3})
    rt = bootstrap(db_url)
    try:
        rt.save_layout(lay)
        evs = [
            {"type": "login", "station": "S1", "worker": "W1", "ts": at(8, 0)},
            {"type": "login", "station": "S2", "worker": "W2", "ts": at(8, 0)},
            {"type": "login", "station": "S4", "worker": "W4", "ts": at(8, 0)},
            {"type": "bundle_in", "station": "S1", "bundle": "B1", "ts": at(8, 1)},
            {"type": "piece", "station": "S1", "bundle": "B1", "op": "A", "qty": 10, "ts": at(8, 15)},
            {"type": "bundle_out", "station": "S1", "bundle": "B1", "ts": at(8, 15)},
            {"type": "bundle_in", "station": "S2", "bundle": "B1", "ts": at(8, 20)},
            {"type": "piece", "station": "S2", "bundle": "B1", "op": "B", "qty": 4, "ts": at(8, 25)},
            {"type": "bundle_in", "station": "S1", "bundle": "B2", "ts": at(8, 26)},
            {"type": "piece", "station": "S1", "bundle": "B2", "op": "A", "qty": 10, "ts": at(8, 40)},
            {"type": "bundle_out", "station": "S1", "bundle": "B2", "ts": at(8, 40)},
            {"type": "bundle_in", "station": "S1", "bundle": "B3", "ts": at(8, 41)},
            {"type": "piece", "station": "S1", "bundle": "B3", "op": "A", "qty": 1, "ts": at(8, 50)},
        ]
        raws = [
            RawEvent(
                payload=json.dumps({**e, "id": f"t{i}", "seq": i, "factory": "F", "ts": e["ts"].isoformat()}).encode()
            )
            for i, e in enumerate(evs)
        ]
        rt.worker.submit_future(raws).result(10)
        client = TestClient(create_app(rt))
        s4 = client.get("/web/data/station?key=S4&lang=en").json()
        s2 = client.get("/web/data/station?key=S2&lang=en").json()
        assert (s4["next"]["op"], s4["next"]["bundle"], s4["next_kind"]) == ("B", "B2", "fetch")
        assert s2["next_kind"] == "wait" and s2["next"]["bundle"] is None
        assert s2["next_where"] == "No bundle ready: the next comes from S1"
    finally:
        rt.close()
