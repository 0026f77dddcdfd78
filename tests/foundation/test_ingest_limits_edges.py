"""The protocol's limits at both doors — HTTP and a real Mosquitto — and the paged quarantine."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from seamline.adapters.mqtt_receiver import MqttSettings
from seamline.bootstrap import bootstrap
from seamline.domain.events import MAX_PAYLOAD_BYTES
from seamline.entrypoints.api import MAX_QUARANTINE_PAGE, create_app
from tests.conftest import tiny_layout
from tests.foundation.helpers import payload
from tests.foundation.test_ingest_poison import DAY, quarantine_rows, raw_event


@pytest.fixture
def rt(db_url):
    r = bootstrap(db_url)
    r.save_layout(tiny_layout())
    yield r
    r.close()


@pytest.fixture
def client(rt):
    return TestClient(create_app(rt))


def post(client, *events: bytes):
    return client.post("/api/v1/events", content=b"[" + b",".join(events) + b"]")


def test_http_invalid_utf8_and_deep_nesting_are_quarantined_not_500(client, rt):
    bad_utf8 = raw_event(id="u")[:-1] + b', "note": "\xff\xfe"}'
    deep = raw_event(id="d")[:-1] + b', "x": ' + b"[" * 200 + b"]" * 200 + b"}"
    r = post(client, raw_event(id="ok1"), bad_utf8, deep, raw_event(id="ok2", seq=2))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["index"], x["id"]) for x in body["rejected"]] == [(1, None), (2, None)]
    assert "UTF-8" in body["rejected"][0]["reason"] and "nested 201 deep" in body["rejected"][1]["reason"]
    assert [q["raw"] for q in quarantine_rows(rt)] == [bad_utf8, deep]


def test_http_body_nesting_beyond_any_decoder_is_a_clear_400(client, rt):
    deep = raw_event(id="d")[:-1] + b', "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = post(client, deep)
    assert r.status_code == 400 and "nest" in r.json()["detail"]
    assert post(client, raw_event(id="after")).json()["accepted"] == 1


def test_http_oversize_event_is_a_413_and_nothing_of_the_post_is_stored(client, rt):
    big = raw_event(id="big", note="x" * MAX_PAYLOAD_BYTES)
    r = post(client, raw_event(id="small"), big)
    assert r.status_code == 413
    assert f"event 1 is {len(big)} bytes" in r.json()["detail"] and str(MAX_PAYLOAD_BYTES) in r.json()["detail"]
    assert rt.store.count_events() == 0 and rt.store.count_quarantine() == 0
    just = raw_event(id="just")
    just = just[:-1] + b', "note": "' + b"x" * (MAX_PAYLOAD_BYTES - len(just) - 12) + b'"}'
    assert len(just) <= MAX_PAYLOAD_BYTES
    assert post(client, just).json()["accepted"] == 1


def test_quarantine_pages_by_cursor_with_previews_and_one_whole_entry(client, rt):
    rejects = [b"{bad %d" % i for i in range(11)]
    big = b'{"id": "big", "note": "' + "é".encode() * 3000 + b'"'  # 6 KB, malformed, multi-byte
    for r in [*rejects, big]:  # one by one, as MQTT delivers them
        rt.worker.submit_future([_raw(r)]).result(10)
    assert client.get("/api/v1/quarantine", params={"limit": MAX_QUARANTINE_PAGE + 1}).status_code == 422
    seen: list[int] = []
    params: dict[str, int] = {"limit": 5}
    while True:
        page = client.get("/api/v1/quarantine", params=params).json()
        assert page["total"] in (12, 13) and len(page["items"]) <= 5
        seen += [i["qid"] for i in page["items"]]
        if page["next_before"] is None:
            break
        params["before"] = page["next_before"]
        if len(seen) == 5:  # new rejects arriving meanwhile do not shift the pages
            rt.worker.submit_future([_raw(b"{late")]).result(10)
    assert len(seen) == len(set(seen)) == 12 and seen == sorted(seen, reverse=True)
    newest = client.get("/api/v1/quarantine", params={"limit": 2}).json()["items"]
    assert newest[0]["raw"] == "{late" and not newest[0]["raw_truncated"]
    item = newest[1]
    assert item["raw_truncated"] and item["raw_bytes"] == len(big) and len(item["raw"]) < 1024
    assert item["raw"].startswith(big[:1001].decode())
    whole = client.get(f"/api/v1/quarantine/{item['qid']}").json()
    assert base64.b64decode(whole["raw_base64"]) == big and whole["raw"] == big.decode()
    assert whole["kind"] == "invalid" and "malformed JSON" in whole["reason"]
    assert client.get("/api/v1/quarantine/999999").status_code == 404


def _raw(p: bytes):
    from seamline.service_layer.ingest import RawEvent

    return RawEvent(payload=p, source="mqtt", topic="seamline/v1/f1/stations/S1/events")


def test_poison_over_a_real_mosquitto_is_quarantined_and_later_events_flow(db_url, mosquitto):
    """Published with paho as a station would: invalid UTF-8, a seq past 2**63, a year-1 ts,
    nesting 30,000 deep and a 200 KB payload (the test broker has no size limit, as a broker
    configured by hand may not), between valid events of two stations."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    rt = bootstrap(db_url)
    rt.save_layout(tiny_layout())
    try:
        rt.start_mqtt(MqttSettings(url=mosquitto, client_id=f"poison-{time.monotonic_ns()}"))
        deadline = time.monotonic() + 15
        while rt.receiver.status != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.receiver.status == "connected"
        base = {"ts": DAY.isoformat(), "type": "machine", "state": "idle"}
        poison = [
            b'{"id": "u", "seq": 1, "ts": "2026-11-20T09:00:00+08:00", "type": "machine", "state": "\xff\xfe"}',
            json.dumps({**base, "id": "s", "seq": 99999999999999999999}).encode(),
            json.dumps({**base, "id": "t", "seq": 1, "ts": "0001-01-01T00:00:00+14:00"}).encode(),
            b'{"id": "n", "seq": 1, "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
            json.dumps({**base, "id": "big", "seq": 1, "note": "x" * 200_000}).encode(),
        ]
        good = [(f"S{1 + i % 2}", json.dumps({**base, "id": f"g{i}", "seq": 10 + i}).encode()) for i in range(6)]
        u = mosquitto.removeprefix("mqtt://").split(":")
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}")
        pub.connect(u[0], int(u[1]))
        pub.loop_start()
        infos = []
        for i, p in enumerate(poison):
            infos.append(pub.publish("seamline/v1/f1/stations/S1/events", p, qos=1))
            station, g = good[i]
            infos.append(pub.publish(f"seamline/v1/f1/stations/{station}/events", g, qos=1))
        infos.append(pub.publish("seamline/v1/f1/stations/S2/events", good[5][1], qos=1))
        for info in infos:
            info.wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (rt.store.count_events() < 6 or rt.store.count_quarantine() < 5):
            time.sleep(0.05)
        assert rt.store.count_events() == 6
        reasons = {q["event_id"] or q["raw"][:12]: q["reason"] for q in quarantine_rows(rt)}
        assert len(reasons) == 5, reasons
        assert "UTF-8" in reasons[b'{"id": "u", '] and "`seq`" in reasons["s"] and "`ts`" in reasons["t"]
        assert "nested" in reasons[b'{"id": "n", '] and f"{len(poison[4])} bytes" in reasons[b'{"ts": "2026']
        big_row = next(q for q in quarantine_rows(rt) if "bytes is over" in q["reason"])
        assert len(big_row["raw"]) == MAX_PAYLOAD_BYTES  # only the start crossed the pipe
        assert rt.worker.retrying is None
        assert rt.live.stations[("f1", "S2")].last_seq == 15
    finally:
        rt.close()


def test_health_reports_ok_and_no_error_on_a_clean_run(client):
    r = post(client, payload("machine", 1, DAY + timedelta(hours=1), state="idle"))
    assert r.json()["accepted"] == 1
    h = client.get("/api/v1/health").json()
    assert {k: h[k] for k in ("ok", "mqtt", "last_error", "clock")} == {
        "ok": True,
        "mqtt": "off",
        "last_error": None,
        "clock": "wall",  # only `seamline demo` sets its own clock
    }
    assert abs((datetime.fromisoformat(h["now"]) - datetime.now(UTC)).total_seconds()) < 60
