"""Deduplication per (factory, station, source, id), and conflicts recorded (issue #18, item 2)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from seamline.adapters import migrate
from seamline.adapters import tables as t
from seamline.adapters.db import make_engine
from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload
from tests.foundation.test_ingest_poison import DAY, quarantine_rows, submit


@pytest.fixture
def rt(db_url):
    r = bootstrap(db_url)
    r.save_layout(tiny_layout())
    yield r
    r.close()


def piece(station: str, id_: str, seq: int = 1, qty: int = 1, **kw) -> bytes:
    return payload("piece", seq, DAY + timedelta(minutes=seq), station=station, bundle="O1-0001", op="OP1",
                   qty=qty, id_=id_, **kw)  # fmt: skip


def pieces(rt, station: str) -> int:
    with rt.pipeline.lock:
        rows = rt.live.efficiency("f1", "station", DAY - timedelta(days=1), DAY + timedelta(days=1))
    return sum(r["pieces"] for r in rows if r["key"] == station)


def test_a_station_reusing_another_stations_id_does_not_shadow_its_event(rt):
    """The attacker (S2) publishes the victim's (S1's) next id first; both events count."""
    first = submit(rt, [RawEvent(piece("S2", "SEN1-000042", qty=3))])
    victim = submit(rt, [RawEvent(piece("S1", "SEN1-000042", qty=5))])
    assert (first.accepted, victim.accepted, victim.duplicate) == (1, 1, 0)
    assert (pieces(rt, "S1"), pieces(rt, "S2")) == (5, 3)
    assert rt.store.count_events() == 2 and rt.store.count_quarantine() == 0


def test_sources_of_one_station_number_their_own_ids(rt):
    res = submit(rt, [RawEvent(piece("S1", "same-1")), RawEvent(piece("S1", "same-1", source="tablet"))])
    assert res.accepted == 2
    with rt.engine.connect() as c:
        assert sorted(c.execute(select(t.events.c.source)).scalars()) == ["sensor", "tablet"]


def test_an_identical_repeat_is_a_silent_duplicate_whatever_its_formatting(rt):
    """At-least-once delivery: the same event again (re-serialised by a gateway, other key order
    and spacing, an unknown field added) is a duplicate, in a batch, across batches and restarts."""
    p = piece("S1", "dup-1", qty=2)
    obj = json.loads(p)
    reformatted = json.dumps(dict(reversed(list(obj.items()))), indent=2).encode()
    with_extra = json.dumps({**obj, "note": "resent by gateway"}).encode()
    r1 = submit(rt, [RawEvent(p), RawEvent(reformatted)])
    r2 = submit(rt, [RawEvent(with_extra)])
    assert (r1.accepted, r1.duplicate, r2.duplicate, r1.rejected, r2.rejected) == (1, 1, 1, [], [])
    assert pieces(rt, "S1") == 2 and rt.store.count_quarantine() == 0


def test_a_repeat_with_other_content_is_a_conflict_everywhere_it_can_be_met(db_url):
    """In one batch, against the in-memory cache, and against the store after a restart (the cache
    empty): the stored event is kept, the other is quarantined as `conflict` and answered as rejected."""
    rt = bootstrap(db_url)
    rt.save_layout(tiny_layout())
    try:
        res = submit(rt, [RawEvent(piece("S1", "c-1", qty=2)), RawEvent(piece("S1", "c-1", qty=9))])
        assert (res.accepted, res.duplicate, len(res.rejected)) == (1, 0, 1)
        assert res.rejected[0]["index"] == 1 and res.rejected[0]["reason"].startswith("conflict:")
        res = submit(rt, [RawEvent(piece("S1", "c-1", qty=7))])  # met in the cache
        assert (res.accepted, res.duplicate, len(res.rejected)) == (0, 0, 1)
    finally:
        rt.close()
    rt = bootstrap(db_url)  # empty cache: met in the database
    try:
        # The batch's first payload of the key differs from the store, its repeat is what is stored.
        res = submit(rt, [RawEvent(piece("S1", "c-1", qty=4)), RawEvent(piece("S1", "c-1", qty=2))])
        assert (res.accepted, res.duplicate, len(res.rejected)) == (0, 1, 1), res
        assert res.rejected[0]["index"] == 0 and "conflict" in res.rejected[0]["reason"]
        res = submit(rt, [RawEvent(piece("S1", "c-1", qty=2))])  # the stored content: a duplicate
        assert (res.accepted, res.duplicate, res.rejected) == (0, 1, [])
        assert pieces(rt, "S1") == 2
        q = quarantine_rows(rt)
        assert [r["kind"] for r in q] == ["conflict"] * 3
        assert [json.loads(r["raw"])["qty"] for r in q] == [9, 7, 4]
        assert all(r["event_id"] == "c-1" and r["station_id"] == "S1" for r in q)
        assert rt.pipeline.counters["conflicts"] == 1
        # Visible through the API, filtered by kind.
        client = TestClient(create_app(rt))
        page = client.get("/api/v1/quarantine", params={"kind": "conflict"}).json()
        assert page["total"] == 3 and [i["kind"] for i in page["items"]] == ["conflict"] * 3
        assert client.get("/api/v1/quarantine", params={"kind": "invalid"}).json()["total"] == 0
    finally:
        rt.close()


def test_conflicts_over_mqtt_are_judged_per_topic(rt):
    body = {"id": "m-1", "seq": 1, "ts": DAY.isoformat(), "type": "machine", "state": "idle"}
    other = {**body, "state": "off"}
    topic = "seamline/v1/f1/stations/{}/events"
    res = submit(
        rt,
        [
            RawEvent(json.dumps(body).encode(), "mqtt", topic.format("S1")),
            RawEvent(json.dumps(other).encode(), "mqtt", topic.format("S2")),  # another station: its own
            RawEvent(json.dumps(other).encode(), "mqtt", topic.format("S1")),  # S1's key, other content
        ],
    )
    assert res.accepted == 2 and [r["index"] for r in res.rejected] == [2]
    assert rt.live.stations[("f1", "S1")].machine_state == "idle"
    assert rt.live.stations[("f1", "S2")].machine_state == "off"


def test_migration_0008_keeps_the_rows_and_reads_their_source(db_url):
    """An existing store (at 0006, with an event numbered by a tablet) upgrades in place: every row
    kept, `source` read from the payload, the old global id no longer unique."""
    eng = make_engine(db_url)
    try:
        migrate.upgrade(eng, "0006_layout_order")
        cols = "event_id, factory_id, station_id, seq, type, ts, payload, received_at"
        with eng.begin() as c:
            for i, (sid, src) in enumerate([("S1", None), ("S1", "tablet")]):
                body = json.loads(piece(sid, f"old-{i}", seq=i + 1))
                if src:
                    body["source"] = src
                c.execute(
                    text(f"INSERT INTO events ({cols}) VALUES (:e, 'f1', :s, :q, 'piece', :ts, :p, :ts)"),
                    {"e": f"old-{i}", "s": sid, "q": i + 1, "ts": DAY.astimezone(CST), "p": json.dumps(body)},
                )
            c.execute(insert(t.quarantine).values(received_at=DAY, source="http", raw=b"x", reason="old"))
        migrate.upgrade(eng)
        with eng.connect() as c:
            rows = c.execute(text("SELECT event_id, source FROM events ORDER BY pos")).all()
            kinds = c.execute(text("SELECT kind FROM quarantine")).scalars().all()
        assert [tuple(r) for r in rows] == [("old-0", "sensor"), ("old-1", "tablet")]
        assert kinds == ["invalid"]
    finally:
        eng.dispose()
    rt = bootstrap(db_url)
    try:
        rt.save_layout(tiny_layout())
        res = submit(rt, [RawEvent(piece("S2", "old-0", seq=1)), RawEvent(piece("S1", "old-1", seq=2))])
        assert (res.accepted, res.duplicate) == (2, 0)  # S1's old-1 was the tablet's, not the sensor's
        assert rt.store.count_events() == 4
    finally:
        rt.close()
