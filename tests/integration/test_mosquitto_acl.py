"""Per-station broker credentials: a station may publish only to its own topic (the broker refuses
the rest), anonymous clients are refused, and ingest with its own user receives what is allowed."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from seamline.adapters.mosquitto_auth import broker_config
from seamline.adapters.mqtt_receiver import MqttSettings
from seamline.bootstrap import bootstrap
from seamline.entrypoints.cli import app
from tests.conftest import free_port, tiny_layout
from tests.foundation.helpers import CST

DAY = datetime(2026, 11, 20, tzinfo=CST)


@pytest.fixture
def secured_broker():
    import tempfile

    # Mosquitto drops root for its own user, which cannot enter pytest's private temp folders.
    d = Path(tempfile.mkdtemp(prefix="seamline-mq-"))
    d.chmod(0o755)
    passwd, acl = d / "seamline.passwd", d / "seamline.acl"
    runner = CliRunner()
    creds = {}
    for station in ("S1", "S2"):
        r = runner.invoke(
            app, ["provision-station", "f1", station, "--passwd-file", str(passwd), "--acl-file", str(acl)]
        )
        assert r.exit_code == 0, r.output
        creds[station] = json.loads(r.output)
    r = runner.invoke(app, ["provision-ingest", "--passwd-file", str(passwd), "--acl-file", str(acl)])
    creds["ingest"] = json.loads(r.output)
    port = free_port()
    conf = d / "mosquitto.conf"
    conf.write_text(broker_config(port, passwd, acl, bind="127.0.0.1").replace("persistence true", "persistence false"))
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    assert proc.poll() is None, proc.stdout.read()
    yield port, creds, acl
    proc.terminate()
    proc.wait(5)
    shutil.rmtree(d, ignore_errors=True)


def publish_v5(port: int, user: str, password: str, topic: str, payload: str) -> int:
    """Publish with QoS 1 over MQTT 5 and return the broker's PUBACK reason code."""
    codes: list[int] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}", protocol=mqtt.MQTTv5)
    c.username_pw_set(user, password)
    c.on_publish = lambda _c, _u, _mid, rc, _p: codes.append(rc.value)
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.publish(topic, payload, qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 5
    while not codes and time.monotonic() < deadline:
        time.sleep(0.02)
    c.loop_stop()
    c.disconnect()
    return codes[0]


def test_a_station_may_publish_only_to_its_own_topic(secured_broker, db_url):
    port, creds, acl = secured_broker
    assert "topic write seamline/v1/f1/stations/S1/events" in acl.read_text()
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        rt.start_mqtt(
            MqttSettings(
                url=f"mqtt://127.0.0.1:{port}",
                client_id=f"acl-ingest-{db_url.split(':')[0]}",
                username=creds["ingest"]["username"],
                password=creds["ingest"]["password"],
            )
        )
        deadline = time.monotonic() + 10
        while rt.receiver.status != "connected" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.receiver.status == "connected"

        s1 = creds["S1"]
        ev = {"seq": 1, "ts": DAY.isoformat(), "type": "login", "worker": "W1"}
        own = publish_v5(port, s1["username"], s1["password"], s1["topic"], json.dumps({**ev, "id": "own"}))
        other = publish_v5(
            port, s1["username"], s1["password"], creds["S2"]["topic"], json.dumps({**ev, "id": "spoof"})
        )
        assert own == 0
        assert other == 135  # "Not authorized": the broker refused S1 writing as S2

        deadline = time.monotonic() + 5
        while rt.pipeline.counters["accepted"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert rt.pipeline.counters["accepted"] == 1
        assert rt.live.stations[("f1", "S1")].worker == "W1"
        assert ("f1", "S2") not in rt.live.stations

        anon = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="anon")
        with pytest.raises(Exception):  # noqa: B017 - refused at CONNECT, whatever paho calls it
            anon.connect("127.0.0.1", port)
            anon.loop_start()
            time.sleep(0.5)
            anon.loop_stop()
            if not anon.is_connected():
                raise ConnectionRefusedError("anonymous refused")
    finally:
        rt.close()


def test_serve_with_a_config_file_uses_the_ingest_credentials(secured_broker, db_url, tmp_path):
    import httpx

    from seamline.adapters import master_data, migrate
    from seamline.adapters.db import make_engine

    port, creds, _acl = secured_broker
    db = db_url
    engine_name = db.split(":")[0]  # one persistent MQTT session per engine
    engine = make_engine(db)
    migrate.upgrade(engine)
    master_data.save_layout(engine, tiny_layout())
    from seamline.auth.service import AuthService

    _tid, token = AuthService(engine).create_token("ops monitor", ["admin"], actor="test")
    auth = {"Authorization": f"Bearer {token}"}
    engine.dispose()
    (tmp_path / "mqtt-password").write_text(creds["ingest"]["password"] + "\n")
    api_port = free_port()
    cfg = tmp_path / "seamline.toml"
    cfg.write_text(
        f'[database]\nurl = "{db}"\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\nclient_id = "cfg-ingest-{engine_name}"\n'
        f'username = "seamline-ingest"\n'
        f'password_file = "{tmp_path / "mqtt-password"}"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {api_port}\n'
    )
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "seamline.entrypoints.cli", "serve", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=1).json()
                if health["mqtt"] == "connected":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert health and health["mqtt"] == "connected", health
        s1 = creds["S1"]
        ev = {"id": "cfg-1", "seq": 1, "ts": DAY.isoformat(), "type": "login", "worker": "W1"}
        assert publish_v5(port, s1["username"], s1["password"], s1["topic"], json.dumps(ev)) == 0
        status_url = f"http://127.0.0.1:{api_port}/api/v1/ingest/status"
        assert httpx.get(status_url).status_code == 401  # production: login or token required
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if httpx.get(status_url, headers=auth).json()["counters"]["accepted"] == 1:
                break
            time.sleep(0.1)
        assert httpx.get(status_url, headers=auth).json()["counters"]["accepted"] == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_bad_config_file_is_a_clear_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[databse]\nurl = 1\n")
    r = CliRunner().invoke(app, ["serve", "--config", str(cfg)])
    assert r.exit_code == 2 and "unknown sections ['databse']" in r.output
