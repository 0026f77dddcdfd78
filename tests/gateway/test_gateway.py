"""`seamline gateway` against a real pymodbus server serving current traces and a real Mosquitto."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from seamline.adapters.modbus_gateway import MapError, load_map
from seamline.domain.bursts import BurstDetector
from seamline.domain.events import Burst, decode_event
from tests.conftest import _mosquitto_bin, free_port

from .helpers import PtyLink, f1, serve, traces, write_map

SEAMLINE = str(Path(sys.executable).with_name("seamline"))


class Sub:
    def __init__(self, url_port: int) -> None:
        self.msgs: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", url_port)
        self.c.loop_start()
        assert self.ready.wait(5)
        time.sleep(0.2)

    def _on_connect(self, c: mqtt.Client, *_: object) -> None:
        c.subscribe("seamline/v1/+/stations/+/events", qos=1)
        self.ready.set()

    def _on_message(self, _c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        self.msgs.append((m.topic, bytes(m.payload)))

    def stop(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_detector_hysteresis_and_debounce() -> None:
    d = BurstDetector(on_a=1.0, off_a=0.7, off_samples=2)
    seq = [0.3, 0.3, 1.8, 0.9, 1.9, 0.5, 1.8, 1.7, 0.4, 0.3, 0.3]  # 0.9: between thresholds, stays on
    out = [b for i, a in enumerate(seq) if (b := d.feed(i * 0.2, a)) is not None]
    # One dip of one sample (0.5 at i=5) does not end the burst; two low samples do, at i=8.
    assert out == [(pytest.approx(0.4), pytest.approx(1.2))]


def test_meter_map_errors_are_clear(tmp_path: Path) -> None:
    p = tmp_path / "m.toml"
    p.write_text('[gateway]\nfactory = "F1"\n[[meter]]\nstation = "S1"\nregister = 0\nhost = "x"\n')
    with pytest.raises(MapError, match="lacks 'unit'"):
        load_map(p)
    p.write_text('[gateway]\nfactory = "F1"\n[[meter]]\nstation = "S1"\nunit = 1\nregister = 0\n')
    with pytest.raises(MapError, match="needs host"):
        load_map(p)


@pytest.mark.parametrize("link", ["tcp", "rtu"])
def test_gateway_publishes_the_bursts_of_a_served_trace(mosquitto: str, tmp_path: Path, link: str) -> None:
    """Modbus TCP, and Modbus RTU over a software serial line (a pty pair), end to end."""
    tr, truth = traces(4, 40.0, seed=7)
    assert sum(len(v) for v in truth.values()) >= 15
    bus = PtyLink() if link == "rtu" else None
    srv = serve(tr, serial=bus.server_port if bus else None)
    sub = Sub(_port(mosquitto))
    try:
        mp = write_map(tmp_path / "meters.toml", srv.port, [1, 2, 3, 4], serial=bus.gateway_port if bus else None)
        srv.t0 = time.monotonic() + 4.0  # the trace starts when the gateway is polling
        t_wall0 = time.time() + 4.0
        res = subprocess.run(
            [
                SEAMLINE,
                "gateway",
                "--map",
                str(mp),
                "--mqtt",
                mosquitto,
                "--queue",
                str(tmp_path / "q.sqlite"),
                "--seconds",
                "45",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert res.returncode == 0, res.stderr
        time.sleep(0.5)
    finally:
        srv.stop()
        sub.stop()
        if bus is not None:
            bus.close()
    found: dict[str, list[tuple[float, float]]] = defaultdict(list)
    seqs: dict[str, list[int]] = defaultdict(list)
    for topic, payload in sub.msgs:
        ev = decode_event(payload)
        assert isinstance(ev, Burst) and ev.source == "gateway"
        assert ev.ts.utcoffset() is not None and ev.ts.utcoffset().total_seconds() == 8 * 3600
        st = topic.split("/")[4]
        found[st].append((ev.ts.timestamp() - t_wall0, ev.run_s))
        seqs[st].append(ev.seq)
    tps = fps = fns = 0
    for u in (1, 2, 3, 4):
        st = f"S{u:02d}"
        assert sorted(seqs[st]) == list(range(len(seqs[st]))), (res.stdout, res.stderr[-2000:])
        _score, tp, fp, fn = f1(found[st], truth[u])
        tps, fps, fns = tps + tp, fps + fp, fns + fn
    assert 2 * tps / (2 * tps + fps + fns) >= 0.9, (tps, fps, fns)


def _broker(port: int, d: Path) -> subprocess.Popen[bytes]:
    conf = d / f"m{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    p = subprocess.Popen([_mosquitto_bin(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("mosquitto did not start")


def test_kill_9_of_the_broker_loses_no_burst(tmp_path: Path) -> None:
    tr, _truth = traces(4, 24.0, seed=11)
    srv = serve(tr)
    port = free_port()
    broker = _broker(port, tmp_path)
    sub1 = Sub(port)
    mp = write_map(tmp_path / "meters.toml", srv.port, [1, 2, 3, 4])
    srv.t0 = time.monotonic()
    gw = subprocess.Popen(
        [
            SEAMLINE,
            "gateway",
            "--map",
            str(mp),
            "--mqtt",
            f"mqtt://127.0.0.1:{port}",
            "--queue",
            str(tmp_path / "q.sqlite"),
            "--seconds",
            "26",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(7)
        broker.kill()  # SIGKILL: no goodbye to anyone
        broker.wait(5)
        sub1.c.loop_stop()
        time.sleep(8)  # bursts keep coming; the gateway queues them
        broker = _broker(port, tmp_path)
        sub2 = Sub(port)  # subscribed before the gateway's reconnect (>= 1 s back-off)
        out, err = gw.communicate(timeout=60)
        time.sleep(0.5)
        sub2.stop()
    finally:
        srv.stop()
        broker.kill()
        if gw.poll() is None:
            gw.kill()
    assert gw.returncode == 0, err
    import json

    report = json.loads(out.strip().splitlines()[-1])
    ids = {decode_event(p).id for _t, p in sub1.msgs + sub2.msgs}
    assert report["queued"] == 0
    assert report["bursts"] >= 6 and len(sub2.msgs) > 0
    assert len(ids) == report["bursts"]


def test_the_gateway_publishes_with_its_own_credentials_and_keeps_what_the_broker_refuses(
    tmp_path: Path, mosquitto: str
) -> None:
    """A provisioned gateway user may publish to its factory's stations; with a wrong password the
    broker refuses the connection and every burst stays in the gateway's queue."""
    import json
    import tempfile

    from seamline.adapters.mosquitto_auth import broker_config

    d = Path(tempfile.mkdtemp(prefix="seamline-gw-"))
    d.chmod(0o755)  # Mosquitto drops root for its own user
    passwd, acl = d / "p", d / "a"
    out = subprocess.run(
        [SEAMLINE, "provision-gateway", "F1", "hall1", "--passwd-file", str(passwd), "--acl-file", str(acl)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    creds = json.loads(out)
    assert creds["username"] == "gateway.F1.hall1"
    assert "topic write seamline/v1/F1/stations/+/events" in acl.read_text()
    subprocess.run(
        [SEAMLINE, "provision-ingest", "--passwd-file", str(passwd), "--acl-file", str(acl)],
        capture_output=True,
        text=True,
        check=True,
    )
    port = free_port()
    conf = d / "m.conf"
    conf.write_text(broker_config(port, passwd, acl, bind="127.0.0.1").replace("persistence true", "persistence false"))
    broker = subprocess.Popen([_mosquitto_bin(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tr, _truth = traces(2, 20.0, seed=3)
    srv = serve(tr)
    try:
        time.sleep(0.5)
        mp = write_map(tmp_path / "meters.toml", srv.port, [1, 2])
        runs = {}
        for label, pw in (("good", creds["password"]), ("bad", "wrong")):
            srv.t0 = time.monotonic() + 2
            env = {**__import__("os").environ, "GW_PW": pw}
            res = subprocess.run(
                [
                    SEAMLINE,
                    "gateway",
                    "--map",
                    str(mp),
                    "--mqtt",
                    f"mqtt://gateway.F1.hall1@127.0.0.1:{port}",
                    "--password-env",
                    "GW_PW",
                    "--queue",
                    str(tmp_path / f"{label}.sqlite"),
                    "--seconds",
                    "22",
                ],
                capture_output=True,
                text=True,
                timeout=90,
                env=env,
            )
            assert res.returncode == 0, res.stderr
            runs[label] = json.loads(res.stdout.strip().splitlines()[-1])
    finally:
        srv.stop()
        broker.terminate()
        broker.wait(5)
        shutil.rmtree(d, ignore_errors=True)
    assert runs["good"]["bursts"] > 0 and runs["good"]["published"] == runs["good"]["bursts"]
    assert runs["good"]["queued"] == 0
    assert runs["bad"]["bursts"] > 0 and runs["bad"]["published"] == 0
    assert runs["bad"]["queued"] == runs["bad"]["bursts"]  # kept for when the credentials are fixed
