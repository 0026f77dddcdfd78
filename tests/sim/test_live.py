"""Publishing to a real broker (Mosquitto): everything arrives, and never ahead of the wall clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from typer.testing import CliRunner

from seamline.adapters.sim_publish import parse_mqtt_url, run_live
from seamline.domain.events import TOPIC_FILTER, decode_event
from seamline.domain.model import ShiftCalendar
from seamline.entrypoints.cli import app
from seamline.sim import SimConfig, SimProgress, simulate, write_jsonl

from .layouts import MONDAY_8, TZ, small_factory


class Subscriber:
    def __init__(self, url: str) -> None:
        addr = parse_mqtt_url(url)
        self.got: list[tuple[float, str, bytes]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub")
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC_FILTER, qos=1)
        self.c.on_subscribe = lambda c, u, mid, rcs, p: self._ready.set()
        self.c.on_message = self._on_message
        self.c.connect(addr.host, addr.port)
        self.c.loop_start()
        assert self._ready.wait(10), "subscription not acknowledged"

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self.got.append((time.time(), msg.topic, msg.payload))

    def wait_for(self, n: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_short_run_published_to_mosquitto_arrives_complete(broker: str) -> None:
    from seamline.adapters.sim_publish import publish_events

    res = simulate(small_factory(n_lines=1), SimConfig(seed=1, start=MONDAY_8, hours=1))
    sub = Subscriber(broker)
    try:
        n = publish_events(res.events, broker, speed=0)
        sub.wait_for(n)
    finally:
        sub.close()
    assert n == len(res.events) > 300
    assert sorted((t, p) for _, t, p in sub.got) == sorted((t, p) for t, p, _ in res.events)


def test_replay_command_publishes_a_jsonl_file(broker: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = simulate(small_factory(n_lines=1), SimConfig(seed=2, start=MONDAY_8, hours=0.5))
    f = tmp_path / "events.jsonl"
    write_jsonl(res.events, f)
    sub = Subscriber(broker)
    try:
        out = CliRunner().invoke(app, ["replay", str(f), "--mqtt", broker, "--speed", "0"])
        assert out.exit_code == 0, out.output
        sub.wait_for(len(res.events))
    finally:
        sub.close()
    assert [p for _, _, p in sub.got] == [p for _, p, _ in res.events]  # one publisher, QoS 1: in order


def test_run_live_catches_up_then_never_runs_ahead_of_the_wall_clock(broker: str) -> None:
    """Start an hour in the past at 1800x: the backlog comes in ~2 s, then real time."""
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=60)
    cal = ShiftCalendar(
        id="day",
        timezone="Asia/Shanghai",
        shift_start=start.time(),
        shift_end=(start + timedelta(hours=3)).time(),
        workdays=(0, 1, 2, 3, 4, 5, 6),
    )
    lay = small_factory(n_lines=1, calendar=cal)
    stop = threading.Event()
    reports: list[SimProgress] = []
    sub = Subscriber(broker)
    holder = {}

    def work() -> None:
        holder["eng"] = run_live(lay, SimConfig(seed=3, start=start), broker, stop, reports.append, speed=1800)

    th = threading.Thread(target=work)
    th.start()
    time.sleep(5.0)
    stop.set()
    th.join(20)
    assert not th.is_alive(), "run_live did not stop"
    time.sleep(0.5)
    sub.close()
    assert len(sub.got) > 300
    for received_at, _topic, payload in sub.got:
        ev = decode_event(payload)
        assert ev.ts.timestamp() <= received_at + 0.5, "an event from the future was published"
    last_ts = max(decode_event(p).ts for _, _, p in sub.got)
    assert last_ts > datetime.now(TZ) - timedelta(minutes=2), "the backlog was not caught up"
    # Progress is reported about once a second, so the last report may trail the last publish.
    assert reports and 0 < reports[-1].events_published <= len(sub.got)
    assert reports[-1].pieces_today > 0
    assert all(r.sim_clock <= datetime.now(TZ) for r in reports)
    # The truth of a live run stops where publishing stopped: its pieces are exactly those received.
    eng = holder["eng"]
    truth = eng.truth_dict(eng.published_until)
    dups = {d["event_id"] for d in truth["duplicates"]}
    received = {decode_event(p).id for _, _, p in sub.got if b'"type":"piece"' in p}
    assert {r[0] for r in truth["pieces"]} == received - dups
    assert sum(r["pieces"] for r in truth["piece_counts"]) == len(truth["pieces"])
