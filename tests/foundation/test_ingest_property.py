"""Property: whatever arrives, every valid event is stored and counted once and every invalid
payload is quarantined with a reason (issue #18).

Arbitrary bytes, arbitrary JSON and valid events broken in one field are interleaved with valid
events (some sent twice, some with arbitrary JSON in an unknown field) and go through the entry
MQTT and HTTP use — the ingest worker's queue, then the real pipeline and store — on SQLite and
PostgreSQL. The examples share one database per engine, so the checks are on differences.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from seamline.adapters import tables as t
from seamline.bootstrap import bootstrap
from seamline.domain.events import MAX_DEPTH, MAX_SEQ
from seamline.service_layer.ingest import RawEvent
from tests.conftest import ENGINES, new_database, tiny_layout
from tests.foundation.helpers import CST

DAY = datetime(2026, 11, 20, 9, tzinfo=CST)
WINDOW = (DAY - timedelta(days=3), DAY + timedelta(days=3))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A piece event of station S1 or S2 in the week around DAY, on either door."""
    ts = draw(st.datetimes(min_value=WINDOW[0].replace(tzinfo=None), max_value=WINDOW[1].replace(tzinfo=None)))
    ev: dict[str, Any] = {
        "id": "drawn",  # made unique when the example runs: hypothesis replays examples
        "seq": draw(st.integers(0, MAX_SEQ)),
        "ts": ts.replace(tzinfo=UTC).astimezone(draw(offsets)).isoformat(),
        "type": "piece",
        "bundle": "O1-0001",
        "op": "OP1",
        "qty": draw(st.integers(1, 5)),
    }
    if draw(st.booleans()):
        ev["note"] = draw(json_values)  # unknown fields are kept in the payload, not judged
    return {"ev": ev, "station": draw(st.sampled_from(["S1", "S2"])), "mqtt": draw(st.booleans())}


def _deep(depth: int) -> Any:
    v: Any = []
    for _ in range(depth):
        v = [v]
    return v


# One field of a valid event made invalid: each is a bound of the protocol.
breakers = st.one_of(
    st.tuples(
        st.just("seq"),
        st.sampled_from([MAX_SEQ + 1, 2**62, 2**63 - 1, 2**63, 10**20])
        | st.integers(MAX_SEQ + 1, 2**70)
        | st.integers(-(2**70), -1),
    ),
    st.tuples(
        st.just("ts"),
        st.sampled_from(
            ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31T23:59:59Z", "2026-11-20T09:00:00"]
        ),
    ),
    st.tuples(st.just("ts"), st.datetimes(min_value=datetime(2200, 1, 1)).map(lambda d: d.isoformat() + "Z")),
    st.tuples(st.just("id"), st.text(max_size=10).map(lambda s: s + "\x00")),
    st.tuples(st.just("id"), st.just("x" * 129)),
    st.tuples(st.just("note"), st.integers(MAX_DEPTH, MAX_DEPTH + 40).map(_deep)),
    st.tuples(st.just("bundle"), st.text(max_size=10).map(lambda s: "NOPE" + s)),
    st.tuples(st.just("qty"), st.integers(max_value=0) | st.integers(min_value=100_001)),
)


@st.composite
def invalid_payloads(draw: st.DrawFn) -> tuple[bytes, bool]:
    kind = draw(st.sampled_from(["bytes", "json", "broken", "broken"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200)), draw(st.booleans())
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), draw(st.booleans())
    v = draw(valid_events())
    field, value = draw(breakers)
    v["ev"][field] = value
    return _encode(v), v["mqtt"]


def _encode(v: dict[str, Any]) -> bytes:
    body = dict(v["ev"])
    if not v["mqtt"]:
        body |= {"factory": "f1", "station": v["station"]}
    return json.dumps(body).encode()


def _raw(payload: bytes, mqtt: bool, station: str = "S1") -> RawEvent:
    if mqtt:
        return RawEvent(payload, "mqtt", f"seamline/v1/f1/stations/{station}/events")
    return RawEvent(payload, "http")


@pytest.fixture(scope="module", params=ENGINES)
def prop_rt(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("prop")))
    rt.save_layout(tiny_layout())
    yield rt
    rt.close()


def _pieces(rt) -> int:  # type: ignore[no-untyped-def]
    with rt.pipeline.lock:
        rows = rt.live.efficiency("f1", "station", WINDOW[0] - timedelta(days=1), WINDOW[1] + timedelta(days=1))
    return sum(r["pieces"] for r in rows)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    plan=st.lists(
        st.one_of(
            valid_events().map(lambda v: ("valid", v)),
            invalid_payloads().map(lambda p: ("invalid", p)),
            st.just(("repeat", None)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_valid_event_is_counted_once_and_every_invalid_one_quarantined(prop_rt, plan) -> None:  # type: ignore[no-untyped-def]
    rt = prop_rt
    raws: list[RawEvent] = []
    valid: list[dict[str, Any]] = []
    expect_rejected: list[int] = []
    repeats = 0
    for what, x in plan:
        if what == "valid":
            x = {**x, "ev": {**x["ev"], "id": str(uuid.uuid4())}}
            valid.append(x)
            raws.append(_raw(_encode(x), x["mqtt"], x["station"]))
        elif what == "invalid":
            payload, mqtt = x
            expect_rejected.append(len(raws))
            raws.append(_raw(payload, mqtt))
        elif valid:  # at-least-once delivery: an accepted event again, byte for byte
            x = valid[-1]
            raws.append(_raw(_encode(x), x["mqtt"], x["station"]))
            repeats += 1
    events0, quarantine0, pieces0 = rt.store.count_events(), rt.store.count_quarantine(), _pieces(rt)
    applied0 = rt.live.events_applied
    with rt.engine.connect() as c:
        qid0 = c.execute(select(func.coalesce(func.max(t.quarantine.c.qid), 0))).scalar_one()

    result = rt.worker.submit_future(raws).result(60)

    assert result.accepted == len(valid), result.rejected
    assert result.duplicate == repeats
    assert [r["index"] for r in result.rejected] == expect_rejected
    assert all(r["reason"] for r in result.rejected)
    assert rt.store.count_events() - events0 == len(valid)
    assert rt.live.events_applied - applied0 == len(valid)
    assert _pieces(rt) - pieces0 == sum(v["ev"]["qty"] for v in valid)
    assert rt.store.count_quarantine() - quarantine0 == len(expect_rejected)
    with rt.engine.connect() as c:
        rows = c.execute(select(t.quarantine).where(t.quarantine.c.qid > qid0).order_by(t.quarantine.c.qid)).all()
        stored = set(c.execute(select(t.events.c.event_id)).scalars())
    assert [r.raw for r in rows] == [raws[i].payload for i in expect_rejected]
    assert all(r.reason and r.kind == "invalid" for r in rows)
    assert {v["ev"]["id"] for v in valid} <= stored
    assert rt.worker.retrying is None


def test_the_property_test_can_fail() -> None:
    """The oracle is not vacuous: a valid event of the strategy passes the real decoder, and a
    broken one does not."""
    from seamline.domain.events import ProtocolError, decode_wire

    ev = {"id": str(uuid.uuid4()), "seq": 1, "ts": DAY.isoformat(), "type": "piece", "bundle": "O1-0001", "op": "OP1"}
    decode_wire(json.dumps(ev).encode())
    with pytest.raises(ProtocolError):
        decode_wire(json.dumps({**ev, "seq": MAX_SEQ + 1}).encode())
