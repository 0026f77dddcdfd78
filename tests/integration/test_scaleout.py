"""Scale-out (issue 11): two `seamline ingest` processes share the MQTT load through an MQTT 5
shared subscription and write one PostgreSQL; the read side builds live state by tailing the
store. Live state must come out exactly as one process reading the stream in order would have it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, insert, select, text

from seamline.adapters import master_data, migrate
from seamline.adapters import tables as t
from seamline.adapters.db import make_engine
from seamline.adapters.event_store import EventStore
from seamline.adapters.layout_files import load_factory
from seamline.bootstrap_scaleout import bootstrap_read
from seamline.domain.events import decode_event, parse_topic
from seamline.domain.live import LiveState
from seamline.service_layer.ingest import IngestPipeline, RawEvent
from seamline.sim import SimConfig, default_start, simulate
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

pytestmark = pytest.mark.mosquitto

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    name = f"scaleout{time.monotonic_ns()}"
    with psycopg.connect(
        postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True
    ) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


def start_ingest(db: str, mqtt: str, client_id: str, stats: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seamline.entrypoints.cli",
            "ingest",
            "--db",
            db,
            "--mqtt",
            mqtt,
            "--client-id",
            client_id,
            "--group",
            "scaleout-test",
            "--stats-file",
            str(stats),
            "--per-station-stats",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def read_stats(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def wait_for(pred, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def publish_fast(events: list[tuple[str, bytes, datetime]], url: str) -> None:
    """QoS 1, in order, without the simulator publisher's pacing and 100-message window; in chunks
    of 30,000 acknowledged before the next, so paho's 16-bit message ids never wrap in flight."""
    import threading

    import paho.mqtt.client as mqtt

    host, port = url.removeprefix("mqtt://").split(":")
    acked = threading.Semaphore(0)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="scaleout-pub")
    client.max_inflight_messages_set(0)  # no window: the broker takes them as fast as they come
    client.max_queued_messages_set(0)
    client.on_publish = lambda *_a: acked.release()
    client.connect(host, int(port))
    client.loop_start()
    try:
        for i in range(0, len(events), 30_000):
            chunk = events[i : i + 30_000]
            for topic, body, _ts in chunk:
                client.publish(topic, body, qos=1)
            for _ in chunk:
                assert acked.acquire(timeout=60), "the broker stopped acknowledging"
    finally:
        client.disconnect()
        client.loop_stop()


def first_differences(got: dict, want: dict, n: int = 5) -> list:
    out = []
    for k, v in want.items():
        g = got.get(k)
        if isinstance(v, dict) and isinstance(g, dict):
            out += [(k, x, g.get(x), v.get(x)) for x in sorted(set(g) | set(v)) if g.get(x) != v.get(x)][:n]
        elif g != v:
            out.append((k, g, v))
    return out[:n]


def in_order_live(layout, events) -> tuple[LiveState, int]:  # type: ignore[no-untyped-def]
    """What one ingest process reading the stream in publish order ends with: its live state and
    the number of sequence gaps it records (seq != previous + 1 per station and source)."""
    live = LiveState({layout.factory.id: layout})
    last: dict[tuple[str, str, str], int] = {}
    gaps = 0
    for topic, body, _ts in events:
        ev = decode_event(body)
        ev.factory, ev.station = parse_topic(topic)
        key = (ev.factory, ev.station, ev.source)
        if key in last and ev.seq != last[key] + 1:
            gaps += 1
        last[key] = ev.seq
        live.apply(ev)
    return live, gaps


# Alone, after the parallel tests: the exactness holds while the ingest processes' commit skew stays
# under the 3-s reorder wait (docs/deploy.md). With another test process loading both cores beside
# it, a clean-clone CI run saw events folded in late (2026-12-07, 07:28 UTC: the machine-state
# seconds and work in progress of a few stations off), the documented limit on a starved machine.
@pytest.mark.serial
@pytest.mark.timeout(120)
def test_two_ingest_processes_share_a_shift_and_live_state_is_exact(tmp_path, mosquitto, pg_url):
    layout = load_factory(REPO / "examples" / "factory")
    start = default_start(layout, datetime.now(layout.factory.tz) - timedelta(days=1))
    sim = simulate(layout, SimConfig(seed=7, start=start, hours=9))
    n = len(sim.events)
    expected, expected_gaps = in_order_live(layout, sim.events)

    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    master_data.save_layout(engine, layout)
    engine.dispose()

    stats = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [start_ingest(pg_url, mosquitto, f"ingest-{k}", s) for k, s in zip("ab", stats, strict=True)]
    rt = None
    try:
        for p, s in zip(procs, stats, strict=True):
            wait_for(
                lambda s=s, p=p: p.poll() is None and (read_stats(s) or {}).get("mqtt") == "connected",
                30,
                f"ingest process {s.stem} to subscribe",
            )
        rt = bootstrap_read(pg_url, reorder_wait_s=3.0)  # tails while the shift is ingested
        assert rt.tailer is not None
        publish_fast(sim.events, mosquitto)
        wait_for(
            lambda: rt.live.events_applied >= n and len(rt.tailer.buffer) == 0 and len(rt.tailer.hold) == 0,
            60,
            f"live state to catch up ({rt.tailer.status()})",
        )
        for p in procs:
            p.terminate()
        for p in procs:
            assert p.wait(15) == 0, p.stderr.read().decode() if p.stderr else ""
        a, b = (read_stats(s) for s in stats)
        assert a and b

        # Nothing lost, nothing twice: every event is stored once, and the two processes between
        # them received each message once.
        assert rt.store.count_events() == n
        with rt.engine.connect() as c:
            assert c.execute(select(func.count(func.distinct(t.events.c.event_id)))).scalar_one() == n
        assert rt.store.count_quarantine() == 0
        assert a["counters"]["accepted"] + b["counters"]["accepted"] == n
        assert a["received"] + b["received"] == n
        # Both took a real share of the load, and of one station's own events.
        assert min(a["received"], b["received"]) > 0.2 * n
        per_station = Counter(a["received_by_station"]) + Counter(b["received_by_station"])
        busiest = per_station.most_common(1)[0][0]
        assert a["received_by_station"].get(busiest, 0) > 0 and b["received_by_station"].get(busiest, 0) > 0
        assert sum(1 for s in per_station if s in a["received_by_station"] and s in b["received_by_station"]) >= 100

        # The tailed live state is exactly the in-order one: every accumulator, every station.
        with rt.pipeline.lock:
            got = rt.live.snapshot()
        want = expected.snapshot()
        assert got == want, (rt.tailer.status(), first_differences(got, want))
        assert rt.pipeline.counters["gaps"] == expected_gaps
        assert len(rt.store.gaps(limit=10_000)) == expected_gaps

        # ... and equal to the simulator's truth: earned minutes per worker from the true pieces
        # (the sensors' flagged double counts are the only extra pieces).
        sam = {(s.code, o.code): o.sam_min for s in layout.styles.values() for o in s.operations}
        fields = sim.truth["piece_fields"]
        earned: Counter[str] = Counter()
        for p in sim.truth["pieces"]:
            d = dict(zip(fields, p, strict=True))
            earned[d["worker"]] += sam[(d["style"], d["op"])]
        day_start, day_end = rt.live.day_bounds(layout.factory.id, start)
        rows = {r["key"]: r for r in rt.live.efficiency(layout.factory.id, "worker", day_start, day_end)}
        lines = rt.live.efficiency(layout.factory.id, "line", day_start, day_end)
        assert sum(r["pieces"] for r in lines) == len(sim.truth["pieces"]) + len(sim.truth["duplicates"])
        for w, e in earned.items():
            if e >= 30:
                assert abs(rows[w]["earned_min"] - e) <= 0.02 * e, w

        # A restart of the read side rebuilds the same state from the store.
        again = bootstrap_read(pg_url, reorder_wait_s=0.5, start=False)
        try:
            assert again.tailer is not None
            time.sleep(0.6)
            again.tailer.poll()
            assert again.live.snapshot() == expected.snapshot()
        finally:
            again.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        if rt is not None:
            rt.close()


def test_a_transaction_committing_late_is_waited_for_and_folded_in_seq_order(pg_url):
    """pos 2 is taken by a transaction that commits after pos 3: a reader of `pos > high` alone
    would never see it. The tailer keeps the hole while that transaction runs (the database's
    horizon), however long, reads it once committed, and the reorder buffer applies it first."""
    lay = tiny_layout()
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    master_data.save_layout(engine, lay)
    layouts = {"f1": lay}
    writer = IngestPipeline(EventStore(engine), LiveState(layouts), layouts, store_only=True)
    day = datetime(2026, 11, 25, tzinfo=CST)

    def raw(type_: str, seq: int, minute: int, **kw) -> RawEvent:  # type: ignore[no-untyped-def]
        return RawEvent(payload(type_, seq, day.replace(hour=9, minute=minute), id_=f"e{seq}", **kw))

    rt = bootstrap_read(pg_url, reorder_wait_s=60, login_hold_s=0, start=False)
    try:
        tail = rt.tailer
        assert tail is not None
        tail.positions.min_wait_s = 0.05
        assert writer.process([raw("login", 0, 0, worker="W1")]).accepted == 1
        tail.poll()
        assert rt.live.stations[("f1", "S1")].worker == "W1"

        # The piece's transaction takes pos 2 and stays open; the logout commits at pos 3.
        piece_raw = raw("piece", 1, 5, bundle="O1-0001", op="OP1")
        piece = IngestPipeline._row(decode_event(piece_raw.payload), piece_raw, day)
        held = engine.connect()
        tx = held.begin()
        held.execute(text("SELECT pg_current_xact_id()"))  # as EventStore.commit_batch does
        held.execute(insert(t.events), [piece.as_dict()])
        assert writer.process([raw("logout", 2, 10, worker="W1")]).accepted == 1

        tail.poll()
        assert tail.positions.holes() == [2]
        assert len(tail.buffer) == 1  # the logout waits for seq 1
        time.sleep(0.2)  # past the minimum wait, but the transaction is still running: keep the hole
        tail.poll()
        assert tail.positions.holes() == [2] and tail.positions.given_up == 0

        tx.commit()
        held.close()
        tail.poll()
        assert tail.positions.holes() == [] and tail.positions.filled_late == 1
        assert len(tail.buffer) == 0
        st = rt.live.stations[("f1", "S1")]
        assert st.worker is None
        h = rt.live.efficiency("f1", "worker", day, day + timedelta(days=1))
        assert [(r["key"], r["pieces"], r["earned_min"]) for r in h] == [("W1", 1, 0.5)]

        # A rolled-back insert leaves a hole for good: dropped once its transaction is gone.
        gone = engine.connect()
        tx = gone.begin()
        piece.event_id, piece.seq = "rolled-back", 3
        gone.execute(insert(t.events), [piece.as_dict()])
        tx.rollback()
        gone.close()
        assert writer.process([raw("login", 3, 20, worker="W2")]).accepted == 1
        tail.poll()
        time.sleep(0.1)
        tail.poll()
        assert tail.positions.holes() == [] and tail.positions.given_up == 1
        assert rt.live.stations[("f1", "S1")].worker == "W2"
        assert rt.pipeline.counters["gaps"] == 0
    finally:
        rt.close()
        engine.dispose()
