"""kill -9 of the whole ingest process tree with 100,000 events in flight: after a restart none is
lost and none is counted twice (QoS 1, persistent session, acks after commit, idempotent ids)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import httpx
import pytest

from seamline.adapters import master_data, migrate
from seamline.adapters.db import make_engine
from seamline.domain.model import Station
from tests.conftest import free_port, tiny_layout

N_STATIONS = 10
PER_STATION = 10_000


def layout_with_ten_stations():
    lay = tiny_layout()
    for i in range(3, N_STATIONS + 1):
        lay.stations[f"S{i}"] = Station(f"S{i}", "f1", "L1", f"SEN{i}", "SNLS", i)
    return lay


def start_serve(db: str, mqtt: str, port: int, client_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seamline.entrypoints.cli",
            "serve",
            "--db",
            db,
            "--mqtt",
            mqtt,
            "--port",
            str(port),
            "--client-id",
            client_id,
            "--log-level",
            "WARNING",
            "--auth",
            "open",  # loopback only; this test is about durability, tests/auth about access
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def status(port: int) -> dict | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/ingest/status", timeout=2).json()
    except httpx.HTTPError:
        return None


def wait_for(pred, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(300)
def test_kill_9_with_100k_in_flight_loses_nothing_and_counts_nothing_twice(db_url, mosquitto):
    db = db_url
    client_id = f"crash-test-{db.split(':')[0]}"  # one persistent MQTT session per engine
    engine = make_engine(db)
    migrate.upgrade(engine)
    master_data.save_layout(engine, layout_with_ten_stations())
    engine.dispose()
    port = free_port()
    serve = start_serve(db, mosquitto, port, client_id)
    wait_for(lambda: (s := status(port)) and s["mqtt"] == "connected", 60, "serve to subscribe")

    u = urlparse(mosquitto)
    t0 = datetime.now(UTC) - timedelta(hours=2)
    pubs = []
    for k in range(1, N_STATIONS + 1):
        lines = [
            json.dumps(
                {
                    "id": f"S{k}-{i}",
                    "seq": i,
                    "ts": (t0 + timedelta(milliseconds=i)).isoformat(),
                    "type": "piece",
                    "bundle": "O1-0001",
                    "op": "OP1",
                }
            )
            for i in range(PER_STATION)
        ]
        p = subprocess.Popen(
            [
                shutil.which("mosquitto_pub"),
                "-h",
                u.hostname,
                "-p",
                str(u.port),
                "-q",
                "1",
                "-t",
                f"seamline/v1/f1/stations/S{k}/events",
                "-l",
            ],
            stdin=subprocess.PIPE,
            text=True,
        )
        p.stdin.write("\n".join(lines) + "\n")
        p.stdin.close()
        pubs.append(p)

    # Kill the whole tree (server and MQTT receiver) mid-stream, as a power cut would.
    wait_for(lambda: (s := status(port)) and s["counters"]["accepted"] >= 5_000, 60, "ingest to get going")
    os.killpg(serve.pid, signal.SIGKILL)
    serve.wait(10)
    killed_at = status(port)
    assert killed_at is None
    for p in pubs:
        assert p.wait(120) == 0

    serve = start_serve(db, mosquitto, port, client_id)
    try:
        total = N_STATIONS * PER_STATION

        def stored_all():
            s = status(port)
            return s if s and s["replayed_at_start"] + s["counters"]["accepted"] >= total else None

        s = wait_for(stored_all, 180, "every event to be stored")
        assert s["replayed_at_start"] < total  # the crash really happened mid-stream
        time.sleep(1.0)  # let redelivered duplicates settle
        s = status(port)
        assert s["replayed_at_start"] + s["counters"]["accepted"] == total
        assert s["counters"]["quarantined"] == 0
        eff = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/efficiency",
            params={
                "scope": "station",
                "start": (t0 - timedelta(days=1)).isoformat(),
                "end": (t0 + timedelta(days=1)).isoformat(),
            },
        ).json()
        per_station = {r["key"]: r["pieces"] for r in eff["rows"]}
        assert per_station == {f"S{k}": PER_STATION for k in range(1, N_STATIONS + 1)}
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(20)
