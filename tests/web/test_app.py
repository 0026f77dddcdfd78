"""The web app in-process (no browser): order progress across restart, page data, 404s, SSE."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import create_app
from seamline.service_layer.ingest import RawEvent

from .factory import at, layout


def _piece(i: int, station: str, op: str, qty: int, hh: int) -> bytes:
    return json.dumps(
        {
            "type": "piece",
            "id": f"p{i}",
            "seq": i,
            "ts": at(hh).isoformat(),
            "factory": "F",
            "station": station,
            "bundle": "B1",
            "op": op,
            "qty": qty,
        }
    ).encode()


def _ingest(rt: Runtime, *payloads: bytes) -> None:
    rt.worker.submit_future([RawEvent(payload=p) for p in payloads]).result(10)


@pytest.fixture()
def db(db_url: str) -> str:
    return db_url


def test_order_progress_is_rebuilt_at_start_and_counts_each_event_once(db: str) -> None:
    rt = bootstrap(db)
    try:
        rt.save_layout(layout())
        _ingest(rt, _piece(1, "S1", "A", 10, 9), _piece(2, "S3", "C", 3, 10))
    finally:
        rt.close()
    rt = bootstrap(db)  # a restart: the projection comes from the store
    try:
        app = create_app(rt)
        progress = app.state.web_progress
        assert progress.done[("F", "O1")] == 3
        _ingest(rt, _piece(3, "S3", "C", 2, 11), _piece(2, "S3", "C", 3, 10))  # the second is a repeat
        rt.pipeline.catch_up()  # projections fold events in when ingest idles or a page reads them
        assert progress.done[("F", "O1")] == 5
        assert progress.earned_min[("F", "O1")] == pytest.approx(10 * 1.0 + 5 * 0.5)
        client = TestClient(app)
        plan = client.get("/web/data/plan?lang=en").json()
        (row,) = plan["orders"]
        assert (row["order"], row["done_txt"], row["qty_txt"], row["progress_txt"]) == ("O1", "5", "100", "5%")
        assert [ln["name"] for ln in plan["board"]["lines"]] == ["Test line"]
        assert [b["order"] for b in plan["board"]["bars"]] == ["O1"]
        assert client.get("/web/data/plan").json()["board"]["lines"][0]["name"] == "测试线"
    finally:
        rt.close()


def test_pages_render_and_unknown_keys_are_404(db: str) -> None:
    rt = bootstrap(db)
    try:
        rt.save_layout(layout())
        _ingest(rt, _piece(1, "S1", "A", 10, 9))
        client = TestClient(create_app(rt))
        for path in ("/", "/lines/L", "/station/S1", "/plan"):
            r = client.get(path)
            assert r.status_code == 200, path
            assert '<html lang="zh-CN">' in r.text
        r = client.get("/lines/L?lang=en")
        assert '<html lang="en">' in r.text and "Hourly output against target" in r.text
        assert r.cookies.get("seamline_lang") == "en"
        assert client.get("/lines/L").text.count('<html lang="en">') == 1  # the cookie remembers
        assert client.get("/station/NOPE").status_code == 404
        assert client.get("/lines/NOPE").status_code == 404
        assert client.get("/web/data/line?key=NOPE").status_code == 404
        station = client.get("/web/data/station?key=S1&lang=en").json()
        assert (station["current"]["name"], station["pieces_hour"], station["worker"]) == ("Join crotch", 10, None)
        assert client.get("/web/static/vendor/echarts.min.js").status_code == 200
    finally:
        rt.close()
