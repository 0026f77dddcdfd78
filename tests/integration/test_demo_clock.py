"""The demo keeps its own factory clock and a floor that looks like a factory (issue #21 item 3),
without weakening `seamline serve`'s future-time check. All through the installed `seamline`.

- `serve` (a real factory) checks event times against the wall clock: 10 min ahead is refused.
- `demo` checks them against its own clock, says so in /api/v1/health and on the pages, accepts an
  event on that clock and refuses one 10 min ahead of it.
- In the demo's first simulated hour every line ships garments and few station-minutes are starved
  (read back from the events the demo stored).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.events import topic_for
from seamline.sim.floor_health import floor_health
from tests.conftest import free_port

SEAMLINE = str(Path(sys.executable).parent / "seamline")
REPO = Path(__file__).resolve().parents[2]
FACTORY = REPO / "examples" / "factory"


def _health(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")[-3000:]
        try:
            h: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).json()
            if h.get("mqtt") == "connected":
                return h
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)  # hang guard
    return out.decode(errors="replace")


def _event(ts: datetime, station: str = "L1-S01") -> dict[str, Any]:
    return {
        "factory": "xiaoshan",
        "station": station,
        "type": "machine",
        "state": "idle",
        "id": f"clock-test-{uuid.uuid4()}",
        "seq": 0,
        "ts": ts.isoformat(),
    }


def _post(port: int, ev: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.post(f"http://127.0.0.1:{port}/api/v1/events", json=[ev], headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


@pytest.mark.timeout(300)
def test_serve_checks_event_times_against_the_wall_clock(mosquitto: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    subprocess.run([SEAMLINE, "import", str(FACTORY), "--db", db], check=True, capture_output=True, timeout=120)
    out = subprocess.run(
        [SEAMLINE, "token", "clock test", "--role", "admin", "--db", db],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    token = json.loads([ln for ln in out.splitlines() if ln.strip()][-1])["token"]
    port = free_port()
    proc = subprocess.Popen(
        [SEAMLINE, "serve", "--db", db, "--mqtt", mosquitto, "--port", str(port), "--client-id", "clock-serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        h = _health(port, proc)
        assert h["clock"] == "wall"
        assert abs((datetime.fromisoformat(h["now"]) - datetime.now(UTC)).total_seconds()) < 60
        wall = datetime.now(UTC)
        ahead = _post(port, _event(wall + timedelta(minutes=10)), token)
        assert ahead["accepted"] == 0 and len(ahead["rejected"]) == 1, ahead
        assert "in the future" in json.dumps(ahead["rejected"]), ahead
        assert _post(port, _event(wall), token)["accepted"] == 1
    finally:
        _stop(proc)


@pytest.mark.timeout(400)
def test_the_demo_runs_its_own_clock_and_its_floor_works_from_the_first_hour(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "demo"
    speed = 240.0
    proc = subprocess.Popen(
        [
            SEAMLINE,
            "demo",
            "--fresh",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--broker-port",
            str(free_port()),
            "--speed",
            f"{speed:g}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        h = _health(port, proc)
        assert h["clock"].startswith("demo:") and h["clock"].endswith(f"@{speed:g}x"), h
        origin = datetime.fromisoformat(h["clock"][5:].split("@")[0])
        assert origin.strftime("%H:%M") == "08:30"  # 30 min into the shift, whatever the wall time
        now = datetime.fromisoformat(h["now"])
        assert origin <= now < origin + timedelta(hours=2)
        # The server checks against the demo clock, not the wall clock (open access: no token).
        assert _post(port, _event(now, "L4-S30"))["accepted"] == 1
        ahead = _post(port, _event(datetime.fromisoformat(_health(port, proc)["now"]) + timedelta(minutes=10)))
        assert ahead["accepted"] == 0 and "in the future" in json.dumps(ahead["rejected"]), ahead
        page = httpx.get(f"http://127.0.0.1:{port}/?lang=zh_CN", timeout=30).text
        assert "演示时钟" in page
        # Run until the demo clock is past the first simulated hour of the shift (08:00-09:00).
        shift_start = origin - timedelta(minutes=30)
        deadline = time.monotonic() + 120
        while datetime.fromisoformat(_health(port, proc)["now"]) < shift_start + timedelta(minutes=70):
            assert time.monotonic() < deadline, "the demo clock did not move at the demo speed"
            time.sleep(0.5)
        time.sleep(3)  # the last events of the hour through the broker into the store
    finally:
        out = _stop(proc)
    assert "演示时钟 / demo clock" in out, out[-2000:]

    layout = load_factory(FACTORY)
    end = shift_start + timedelta(hours=1)
    with sqlite3.connect(data / "seamline.db") as con:
        rows = con.execute("SELECT station_id, ts, payload FROM events ORDER BY pos").fetchall()
    events = []
    for station, ts, payload in rows:
        t = datetime.fromisoformat(ts)
        t = t if t.tzinfo else t.replace(tzinfo=UTC)
        if t < end and json.loads(payload).get("id", "").startswith("clock-test-") is False:
            events.append((topic_for("xiaoshan", station), payload.encode(), t))
    health = floor_health(layout, events, until=end)
    for lid, line in health.items():
        assert line.garments > 0, (lid, line.as_dict())
        assert line.first_garment_min is not None and line.first_garment_min < 60, (lid, line.as_dict())
        assert line.starved_share < 0.6, (lid, line.as_dict())
    attended = sum(h.attended_min for h in health.values())
    starved = sum(h.starved_min for h in health.values())
    assert attended > 0.9 * 100 * 60, attended  # about 4 lines x 30 stations x 60 min, absences aside
    assert starved / attended < 0.3, {lid: h.as_dict() for lid, h in health.items()}


def test_the_demo_clock_decides_the_future_check_and_only_when_the_demo_set_it(tmp_path: Path) -> None:
    """In process, with the demo's own wiring (`use_demo_clock`): a demo clock two days ahead of the
    wall clock accepts an event on it (which the wall clock check refuses) and refuses one 10 min
    ahead of it."""
    from seamline.bootstrap import bootstrap
    from seamline.domain.demo_clock import DemoClock
    from seamline.entrypoints.demo import use_demo_clock
    from seamline.service_layer.ingest import RawEvent

    rt = bootstrap(f"sqlite:///{tmp_path}/d.db")
    try:
        layout = load_factory(FACTORY)
        rt.save_layout(layout)

        def send(ts: datetime) -> dict[str, Any]:
            return rt.pipeline.process([RawEvent(json.dumps(_event(ts)).encode())]).as_dict()

        ahead = datetime.now(UTC) + timedelta(days=2)
        assert rt.live.demo_clock is None
        assert send(ahead)["accepted"] == 0  # the wall clock: two days ahead is refused

        cal = layout.calendar_for_line("L1")
        clock = DemoClock(cal, ahead.astimezone(cal.tz), 60.0)
        use_demo_clock(rt, clock)
        on_clock = clock.now()
        assert send(on_clock)["accepted"] == 1
        refused = send(clock.now() + timedelta(minutes=10))
        assert refused["accepted"] == 0 and "in the future" in json.dumps(refused["rejected"]), refused
        assert rt.live.as_of(layout.factory.id) >= on_clock  # pages report the demo clock
    finally:
        rt.close()
