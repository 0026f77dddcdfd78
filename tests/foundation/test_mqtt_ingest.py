"""Ingest through real brokers: Mosquitto fed by the real `mosquitto_pub`, and the embedded amqtt."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from urllib.parse import urlparse

import pytest

from seamline.adapters.embedded_broker import start_embedded_broker
from seamline.adapters.mqtt_receiver import MqttSettings
from seamline.bootstrap import bootstrap
from tests.conftest import free_port, tiny_layout
from tests.foundation.helpers import CST

DAY = datetime(2026, 11, 20, tzinfo=CST)
TOPIC = "seamline/v1/f1/stations/S1/events"


def mqtt_payload(id_: str, seq: int, ts: datetime, type_: str, **fields) -> str:
    return json.dumps({"id": id_, "seq": seq, "ts": ts.isoformat(), "type": type_, **fields})


def mosquitto_pub(url: str, lines: list[str], topic: str = TOPIC) -> None:
    u = urlparse(url)
    exe = shutil.which("mosquitto_pub")
    assert exe, "mosquitto_pub missing: scripts/install-system-deps.sh installs mosquitto-clients"
    subprocess.run(
        [exe, "-h", u.hostname, "-p", str(u.port), "-q", "1", "-t", topic, "-l"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        timeout=20,
    )


def wait_until(cond, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def station_pieces(rt) -> int:
    with rt.pipeline.lock:
        rows = rt.live.efficiency("f1", "station", DAY - timedelta(days=1), DAY + timedelta(days=1))
    return sum(r["pieces"] for r in rows)


def start(url_db: str, mqtt_url: str, client_id: str):
    rt = bootstrap(url_db)
    rt.save_layout(tiny_layout())
    rt.start_mqtt(MqttSettings(url=mqtt_url, client_id=client_id))
    wait_until(lambda: rt.receiver.status == "connected")
    return rt


def test_mosquitto_pub_events_reach_live_state_once_even_across_a_restart(db_url, mosquitto):
    db = db_url
    cid = f"test-{time.monotonic_ns()}"
    rt = start(db, mosquitto, cid)
    try:
        lines = [mqtt_payload("e1", 1, DAY.replace(hour=8), "login", worker="W1")]
        lines += [
            mqtt_payload(f"p{i}", 2 + i, DAY.replace(hour=9, minute=i), "piece", bundle="O1-0001", op="OP1")
            for i in range(10)
        ]
        lines.append("{this is not json")
        mosquitto_pub(mosquitto, lines)
        wait_until(lambda: station_pieces(rt) == 10)
        wait_until(lambda: rt.store.count_quarantine() == 1)
        assert rt.live.stations[("f1", "S1")].worker == "W1"
    finally:
        rt.close()

    # While ingest is down the persistent session keeps messages: a repeat of p0..p4 and two new.
    again = [
        mqtt_payload(f"p{i}", 2 + i, DAY.replace(hour=9, minute=i), "piece", bundle="O1-0001", op="OP1")
        for i in range(5)
    ]
    again += [
        mqtt_payload(f"q{i}", 20 + i, DAY.replace(hour=10, minute=i), "piece", bundle="O1-0001", op="OP1")
        for i in range(2)
    ]
    mosquitto_pub(mosquitto, again)
    rt2 = start(db, mosquitto, cid)
    try:
        wait_until(lambda: rt2.pipeline.counters["duplicate"] + rt2.pipeline.counters["accepted"] == 7)
        assert rt2.pipeline.counters == {**rt2.pipeline.counters, "accepted": 2, "duplicate": 5}
        assert station_pieces(rt2) == 12
        assert rt2.store.count_events() == 13
    finally:
        rt2.close()


@pytest.mark.timeout(120)
def test_embedded_amqtt_broker(db_url):
    port = free_port()
    broker = start_embedded_broker("127.0.0.1", port)
    url = f"mqtt://127.0.0.1:{port}"
    rt = start(db_url, url, "amqtt-test")
    try:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="amqtt-pub")
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        infos = [
            pub.publish(
                TOPIC,
                mqtt_payload(f"a{i}", i, DAY.replace(hour=9, minute=i), "piece", bundle="O1-0001", op="OP1"),
                qos=1,
            )
            for i in range(20)
        ]
        for inf in infos:
            inf.wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        wait_until(lambda: station_pieces(rt) == 20, 30)
    finally:
        rt.close()
        broker.terminate()
        broker.join(5)
