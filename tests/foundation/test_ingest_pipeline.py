"""Validation, quarantine, deduplication, gaps and replay of the ingest pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from seamline.adapters import tables as t
from seamline.bootstrap import bootstrap, replay_into
from seamline.domain.live import LiveState
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload, shift_of_one_worker

DAY = datetime(2026, 11, 20, tzinfo=CST)


@pytest.fixture
def rt(db_url):
    r = bootstrap(db_url, start_worker=False)
    r.save_layout(tiny_layout())
    yield r
    r.close()


def process(rt, payloads, source="http"):
    return rt.pipeline.process([RawEvent(payload=p, source=source) for p in payloads])


BAD = [
    (b"{not json", "malformed JSON"),
    (
        b'{"seq": 1, "ts": "2026-11-20T08:00:00+08:00", "type": "login", "worker": "W1", "factory": "f1",'
        b' "station": "S1"}',
        "`id`",
    ),
    (payload("piece", 1, DAY, bundle="O1-0001", op="OP1", qty="three"), "Expected `int`"),
    (payload("piece", 1, DAY, bundle="O1-0001", op="OP1", qty=0), "`$.qty`"),
    (payload("login", 1, DAY, worker="NOBODY"), "unknown worker 'NOBODY'"),
    (payload("login", 1, DAY, worker="W1", station="S9"), "unknown station 'S9'"),
    (payload("login", 1, DAY, worker="W1", factory="nowhere"), "unknown factory 'nowhere'"),
    (payload("piece", 1, DAY, bundle="NOPE", op="OP1"), "unknown bundle 'NOPE'"),
    (payload("piece", 1, DAY, bundle="O1-0001", op="OP9"), "unknown operation 'OP9'"),
    (payload("machine", 1, DAY, state="exploded"), "`$.state`"),
    (payload("teleport", 1, DAY), "Invalid value 'teleport'"),
    (payload("login", 1, datetime.now(UTC) + timedelta(hours=2), worker="W1"), "in the future"),
    (
        b'{"id": "x1", "seq": 1, "ts": "2026-11-20T08:00:00", "type": "login", "worker": "W1", "factory": "f1",'
        b' "station": "S1"}',
        "offset",
    ),
    (payload("login", 1, DAY, worker="W1", station=None), "needs `factory` and `station`"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD)
def test_bad_events_are_quarantined_with_a_reason(rt, raw, reason):
    res = process(rt, [raw, payload("login", 1, DAY, worker="W1")])
    assert res.accepted == 1
    assert len(res.rejected) == 1 and res.rejected[0]["index"] == 0
    assert reason in res.rejected[0]["reason"]
    with rt.engine.connect() as c:
        rows = c.execute(select(t.quarantine)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["raw"] == raw and reason in rows[0]["reason"]


def test_future_tolerance_is_five_minutes(rt):
    ok = payload("login", 1, datetime.now(UTC) + timedelta(minutes=4), worker="W1")
    assert process(rt, [ok]).accepted == 1


def test_mqtt_topic_gives_factory_and_station_and_must_agree(rt):
    good = json.dumps({"id": "m1", "seq": 1, "ts": DAY.isoformat(), "type": "login", "worker": "W1"}).encode()
    clash = json.dumps(
        {"id": "m2", "seq": 2, "ts": DAY.isoformat(), "type": "logout", "worker": "W1", "station": "S2"}
    ).encode()
    res = rt.pipeline.process(
        [
            RawEvent(good, "mqtt", "seamline/v1/f1/stations/S1/events"),
            RawEvent(clash, "mqtt", "seamline/v1/f1/stations/S1/events"),
            RawEvent(good, "mqtt", "seamline/v1/f1/lines/S1/events"),
        ]
    )
    assert res.accepted == 1
    assert [r["index"] for r in res.rejected] == [1, 2]
    assert "differs from the topic" in res.rejected[0]["reason"]
    assert rt.live.stations[("f1", "S1")].worker == "W1"


def test_over_long_topic_parts_are_quarantined_without_failing_the_batch(rt):
    """PostgreSQL enforces the column widths SQLite ignores: what the quarantine keeps of a rejected
    message must fit them, or one such message fails its whole batch, which MQTT then redelivers
    for ever. The raw payload is kept whole."""

    def login(i: int) -> bytes:
        return json.dumps({"id": f"L{i}", "seq": i, "ts": DAY.isoformat(), "type": "login", "worker": "W1"}).encode()

    long_factory = f"seamline/v1/{'f' * 100}/stations/S1/events"
    long_station = f"seamline/v1/f1/stations/{'s' * 300}/events"
    long_http = payload("login", 3, DAY, worker="W1", factory="x" * 100, station="y" * 100, id_="i" * 300)
    res = rt.pipeline.process(
        [
            RawEvent(login(1), "mqtt", long_factory),
            RawEvent(login(2), "mqtt", long_station),
            RawEvent(long_http, "http"),
            RawEvent(login(4), "mqtt", "seamline/v1/f1/stations/S1/events"),
        ]
    )
    assert res.accepted == 1 and [r["index"] for r in res.rejected] == [0, 1, 2]
    with rt.engine.connect() as c:
        rows = c.execute(select(t.quarantine).order_by(t.quarantine.c.qid)).mappings().all()
    assert [r["raw"] for r in rows] == [login(1), login(2), long_http]
    assert rows[0]["topic"] == long_factory and rows[0]["factory_id"] == "f" * 64 and rows[0]["station_id"] == "S1"
    assert rows[1]["topic"] == long_station[:256] and rows[1]["station_id"] == "s" * 64
    assert rows[2]["event_id"] == "i" * 128


def test_same_id_counts_once_in_a_batch_across_batches_and_across_restart(db_url):
    url = db_url
    rt = bootstrap(url, start_worker=False)
    rt.save_layout(tiny_layout())
    p = payload("piece", 1, DAY, bundle="O1-0001", op="OP1", id_="dup-1")
    r1 = process(rt, [p, p])
    assert (r1.accepted, r1.duplicate) == (1, 1)
    r2 = process(rt, [p])
    assert (r2.accepted, r2.duplicate) == (0, 1)
    rt.close()

    rt2 = bootstrap(url, start_worker=False)  # a restart: empty in-memory cache
    try:
        assert rt2.replayed == 1
        r3 = process(rt2, [p])
        assert (r3.accepted, r3.duplicate) == (0, 1)
        assert rt2.store.count_events() == 1
        rows = rt2.live.efficiency("f1", "station", DAY - timedelta(days=1), DAY + timedelta(days=1))
        assert rows[0]["pieces"] == 1
    finally:
        rt2.close()


def test_seq_gaps_are_recorded_per_station(rt):
    process(rt, [payload("machine", s, DAY + timedelta(seconds=s), state="idle") for s in (1, 2, 5, 6)])
    process(rt, [payload("machine", 1, DAY, state="idle", station="S2")])
    gaps = rt.store.gaps("f1")
    assert [(g["station_id"], g["expected_seq"], g["got_seq"]) for g in gaps] == [("S1", 3, 5)]


def test_replaying_the_store_gives_exactly_the_live_numbers(rt):
    events = shift_of_one_worker(DAY, pieces=80, run="a")
    events += [
        payload("login", 0, DAY.replace(hour=8, minute=30), station="S2", worker="W2"),
        payload("bundle_in", 1, DAY.replace(hour=9), station="S2", bundle="O1-0002"),
        payload("piece", 2, DAY.replace(hour=9, minute=5), station="S2", bundle="O1-0002", op="OP2", qty=5),
        payload(
            "defect", 3, DAY.replace(hour=9, minute=6), station="S2", bundle="O1-0002", op="OP1", defect="SKIP", qty=1
        ),
        payload("machine", 4, DAY.replace(hour=9, minute=10), station="S2", state="running"),
        payload("downtime", 5, DAY.replace(hour=10), station="S2", reason="MECH", phase="start"),
        payload("machine", 6, DAY.replace(hour=10), station="S2", state="off"),
        payload("downtime", 7, DAY.replace(hour=10, minute=40), station="S2", reason="MECH", phase="end"),
        payload("bundle_out", 8, DAY.replace(hour=11), station="S2", bundle="O1-0002"),
    ]
    for i in range(0, len(events), 7):  # several batches
        process(rt, events[i : i + 7])
    fresh = LiveState(rt.layouts)
    assert replay_into(rt.store, fresh) == len(events)
    assert fresh.snapshot() == rt.live.snapshot()
    as_of = DAY.replace(hour=18)
    assert fresh.line_live("f1", "L1", as_of) == rt.live.line_live("f1", "L1", as_of)
    live = rt.live.line_live("f1", "L1", as_of)
    assert live["downtime_s_today"] == {"MECH": 2400.0}
    assert live["today"]["output"] == 5  # OP2 is the final operation
    assert live["today"]["defects"] == 1


def test_a_broken_batch_does_not_stop_the_worker(db_url):
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        fut = rt.worker.submit_future([RawEvent(b"\xff\xfe garbage"), RawEvent(payload("login", 1, DAY, worker="W1"))])
        res = fut.result(10)
        assert res.accepted == 1 and len(res.rejected) == 1
        fut2 = rt.worker.submit_future([RawEvent(payload("logout", 2, DAY + timedelta(hours=1), worker="W1"))])
        assert fut2.result(10).accepted == 1
    finally:
        rt.close()


def test_projections_catch_up_when_read_and_memory_stays_bounded(rt):
    class Counting:
        name = "counting"

        def __init__(self):
            self.n = 0

        def apply(self, ev):
            self.n += 1

    proj = Counting()
    rt.pipeline.projections.append(proj)
    rt.pipeline.max_pending = 5
    process(rt, [payload("machine", s, DAY + timedelta(seconds=s), state="idle") for s in range(1, 9)])
    assert proj.n == 3 and len(rt.pipeline.pending) == 5  # only what was over the bound
    assert rt.projection("counting") is proj and proj.n == 8  # reading catches up
    assert rt.pipeline.pending == []
