"""No payload stops ingest (issue #18): each case found by probing, against the real pipeline.

Every case runs on SQLite and PostgreSQL through the worker thread that MQTT and HTTP feed, with a
timeout: before the fix most of them made the worker retry the batch for ever, so the future
never resolved and every later event of every station waited behind it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from seamline.adapters import tables as t
from seamline.adapters.event_store import EventRow
from seamline.bootstrap import bootstrap
from seamline.domain.events import MAX_DEPTH, MAX_PAYLOAD_BYTES, MAX_SEQ
from seamline.entrypoints.api import create_app
from seamline.service_layer.ingest import RawEvent
from tests.conftest import tiny_layout
from tests.foundation.helpers import CST, payload

DAY = datetime(2026, 11, 20, tzinfo=CST)
INT64_MAX = 2**63 - 1
TOPIC_S1 = "seamline/v1/f1/stations/S1/events"


@pytest.fixture
def rt(db_url):
    r = bootstrap(db_url)
    r.save_layout(tiny_layout())
    yield r
    r.close()


def submit(rt, raws: list[RawEvent], timeout_s: float = 20.0):
    """Through the worker thread, as MQTT and HTTP submit: a stuck batch fails the test."""
    return rt.worker.submit_future(raws).result(timeout_s)


def http(*payloads: bytes) -> list[RawEvent]:
    return [RawEvent(payload=p, source="http") for p in payloads]


def login(seq: int, station: str = "S1", worker: str = "W1", **kw) -> bytes:
    return payload("login", seq, DAY + timedelta(minutes=seq % 600), worker=worker, station=station, **kw)


def raw_event(**fields) -> bytes:
    obj = {
        "id": f"raw-{time.monotonic_ns()}",
        "seq": 1,
        "ts": DAY.isoformat(),
        "type": "machine",
        "state": "idle",
        "factory": "f1",
        "station": "S1",
    }
    obj.update(fields)
    return json.dumps(obj).encode()


def quarantine_rows(rt) -> list[dict]:
    with rt.engine.connect() as c:
        return [dict(r) for r in c.execute(select(t.quarantine).order_by(t.quarantine.c.qid)).mappings()]


def assert_poison_set_aside(rt, poison: bytes, reason: str) -> None:
    """The poison is quarantined with ``reason`` and neither the events beside it nor later ones wait."""
    res = submit(rt, http(login(1, "S2", "W2"), poison, login(2, "S2", "W2")))
    assert res.accepted == 2 and len(res.rejected) == 1, res
    assert reason in res.rejected[0]["reason"]
    later = submit(rt, http(payload("logout", 3, DAY + timedelta(hours=1), worker="W2", station="S2")))
    assert later.accepted == 1
    q = quarantine_rows(rt)
    assert len(q) == 1 and reason in q[0]["reason"] and q[0]["raw"] == poison
    assert rt.worker.last_error is None or "Error" not in (rt.worker.last_error or "")


@pytest.mark.parametrize("seq", [99999999999999999999, INT64_MAX, 2**63, MAX_SEQ + 1, -1])
def test_seq_out_of_range_is_quarantined(rt, seq):
    assert_poison_set_aside(rt, raw_event(seq=seq), "seq")


def test_largest_seq_is_accepted_and_the_next_event_of_the_station_too(rt):
    res = submit(rt, http(raw_event(seq=MAX_SEQ, id="top"), raw_event(seq=0, id="wrapped")))
    assert res.accepted == 2 and res.rejected == []
    gaps = rt.store.gaps("f1")
    assert [(g["expected_seq"], g["got_seq"]) for g in gaps] == [(MAX_SEQ + 1, 0)]


def test_a_store_holding_seq_int64_max_keeps_accepting_across_restarts(db_url):
    """A store written before the bound may already hold seq 2**63-1 (issue #18): the gap row of the
    station's next event used to overflow `expected_seq`, failing every later event, across restarts."""
    rt = bootstrap(db_url)
    rt.save_layout(tiny_layout())
    now = datetime.now(UTC)
    legacy = raw_event(seq=INT64_MAX, id="legacy")
    rt.store.commit_batch(
        [
            EventRow(
                "legacy", "f1", "S1", "sensor", INT64_MAX, "machine", DAY, None, None, None, None, legacy.decode(), now
            )
        ],
        [],
    )
    rt.close()
    for attempt in range(2):  # the first restart, and the one after it
        rt = bootstrap(db_url)
        try:
            assert rt.live.stations[("f1", "S1")].last_seq == INT64_MAX
            res = submit(rt, http(raw_event(seq=attempt + 1, id=f"next-{attempt}")))
            assert res.accepted == 1, res
        finally:
            rt.close()
    rt = bootstrap(db_url)
    try:
        assert rt.store.count_events() == 3
        gaps = [(g["expected_seq"], g["got_seq"]) for g in rt.store.gaps("f1")]
        assert (INT64_MAX, 1) in gaps  # the expected seq is clamped to what the column holds
    finally:
        rt.close()


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        ("0001-01-01T00:00:00+14:00", "`ts`"),
        ("9999-12-31T23:59:59-14:00", "`ts`"),
        ("1999-12-31T23:59:59Z", "`ts`"),
        ("2026-11-20T08:00:00+15:00", "offset"),
    ],
)
def test_timestamps_outside_the_window_are_quarantined(rt, ts, reason):
    assert_poison_set_aside(rt, raw_event(ts=ts), reason)


@pytest.mark.parametrize(
    "poison",
    [
        b'{"id": "u1", "seq": 1, "ts": "2026-11-20T08:00:00+08:00", "type": "machine", "state": "idle",'
        b' "factory": "f1", "station": "S1", "note": "\xff\xfe"}',
        b'{"id": "u\xc3\x28", "seq": 1, "ts": "2026-11-20T08:00:00+08:00", "type": "machine", "state": "idle",'
        b' "factory": "f1", "station": "S1"}',
        b"\xed\xa0\x80",  # an encoded surrogate is not UTF-8
    ],
)
def test_invalid_utf8_is_quarantined(rt, poison):
    assert_poison_set_aside(rt, poison, "UTF-8")


def test_deep_nesting_is_quarantined(rt):
    deep = b'{"id": "deep", "seq": 1, "ts": "2026-11-20T08:00:00+08:00", "type": "machine", "state": "idle",'
    deep += b' "factory": "f1", "station": "S1", "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    assert_poison_set_aside(rt, deep, "nest")


def test_nesting_just_inside_the_limit_is_accepted(rt):
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    ok = raw_event(id="nested-ok")[:-1] + f', "x": {inner}}}'.encode()
    assert submit(rt, http(ok)).accepted == 1


@pytest.mark.parametrize(
    ("bad_id", "reason"), [("a\u0000b", "`id` contains a NUL"), ("\u0000", "`id` contains a NUL"), ("\ud800", "escape")]
)
def test_nul_or_lone_surrogate_in_a_string_is_quarantined(rt, bad_id, reason):
    """PostgreSQL text holds neither NUL nor a lone surrogate; both arrive as JSON escapes."""
    assert_poison_set_aside(rt, raw_event(id=bad_id), reason)


def test_nul_in_an_unknown_field_is_stored_as_sent(rt):
    """Unknown fields are kept in the stored payload as escaped text, which both databases hold."""
    p = raw_event(id="nul-extra", note="a\u0000b")
    assert submit(rt, http(p)).accepted == 1
    with rt.engine.connect() as c:
        stored = c.execute(select(t.events.c.payload).where(t.events.c.event_id == "nul-extra")).scalar_one()
    assert stored == p.decode()


def test_oversize_payload_is_quarantined_truncated(rt):
    big = raw_event(id="big", note="x" * (MAX_PAYLOAD_BYTES + 10))
    res = submit(rt, http(login(1, "S2", "W2"), big))
    assert res.accepted == 1 and "bytes" in res.rejected[0]["reason"]
    q = quarantine_rows(rt)
    assert len(q[0]["raw"]) == MAX_PAYLOAD_BYTES and big.startswith(q[0]["raw"])
    assert str(len(big)) in q[0]["reason"]


def test_an_event_the_database_refuses_is_set_aside_alone(rt):
    """Whatever still fails at commit (here a trigger refusing one id) is found by splitting the batch
    and quarantined alone with the database's message; the rest of the batch and later ones go in."""
    with rt.engine.begin() as c:
        if rt.store.is_sqlite:
            c.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_id = 'boom'"
                    " BEGIN SELECT RAISE(ABORT, 'boom refused by trigger'); END"
                )
            )
        else:
            c.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    " IF NEW.event_id = 'boom' THEN RAISE EXCEPTION 'boom refused by trigger'; END IF;"
                    " RETURN NEW; END $$"
                )
            )
            c.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()"))
    events = [login(i, "S2", "W2") for i in range(1, 6)]
    events.insert(3, raw_event(id="boom"))
    events.append(raw_event(id="after", seq=2))
    res = submit(rt, http(*events))
    assert res.accepted == 6 and len(res.rejected) == 1
    assert res.rejected[0]["index"] == 3 and "boom refused by trigger" in res.rejected[0]["reason"]
    q = quarantine_rows(rt)
    assert [r["event_id"] for r in q] == ["boom"] and "boom refused by trigger" in q[0]["reason"]
    assert q[0]["kind"] == "failed"
    assert rt.live.stations[("f1", "S2")].worker == "W2"
    assert rt.pipeline.counters["failed"] == 1
    # Health says something failed, to a signed-in caller (login is off here: everyone is).
    health = TestClient(create_app(rt)).get("/api/v1/health").json()
    assert health["ok"] is True and "boom refused by trigger" in health["last_error"]


def test_mqtt_topic_events_keep_flowing_after_poison(rt):
    """Poison on one station's topic does not hold up another station's events in the same batch."""
    good = json.dumps({"id": "m-ok", "seq": 1, "ts": DAY.isoformat(), "type": "machine", "state": "idle"}).encode()
    poison = b'{"id": "m-bad", "seq": 99999999999999999999, "ts": "2026-11-20T08:00:00+08:00", "type": "machine"}'
    res = submit(
        rt,
        [
            RawEvent(poison, "mqtt", TOPIC_S1),
            RawEvent(b"\xff" * 10, "mqtt", TOPIC_S1),
            RawEvent(good, "mqtt", "seamline/v1/f1/stations/S2/events"),
        ],
    )
    assert res.accepted == 1 and len(res.rejected) == 2
