"""Every simulated payload is a valid sensor event, numbered and timed like a real sensor's."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import msgspec

from seamline.domain.events import TYPE_NAMES, parse_topic
from seamline.sim import SimResult

from .layouts import MONDAY_8
from .streams import decoded


def test_every_payload_decodes_and_leaves_the_topic_to_name_factory_and_station(day_result: SimResult) -> None:
    evs = decoded(day_result)
    assert len(evs) > 5000
    seen_types = {type(d.ev).__struct_config__.tag for d in evs}
    # A day on the floor shows every kind of event the protocol has.
    # Raw motor signals (burst, bursts) come from sim/motor.py, not the event-level floor model.
    assert seen_types == set(TYPE_NAMES) - {"burst", "bursts"}
    for (topic, payload, ts), d in zip(day_result.events, evs, strict=True):
        factory, _station = parse_topic(topic)
        assert factory == "F1"
        raw = msgspec.json.decode(payload)
        assert "factory" not in raw and "station" not in raw
        assert d.ev.ts == ts and ts.utcoffset() == timedelta(hours=8)


def test_ids_unique_and_seq_strictly_increasing_per_station(day_result: SimResult) -> None:
    ids = set()
    last_seq: dict[str, int] = {}
    last_ts: dict[str, object] = {}
    for d in decoded(day_result):
        assert d.ev.id not in ids
        ids.add(d.ev.id)
        assert d.ev.seq > last_seq.get(d.station, -1)
        assert d.station not in last_ts or d.ev.ts >= last_ts[d.station]
        last_seq[d.station] = d.ev.seq
        last_ts[d.station] = d.ev.ts


def test_stream_is_in_time_order_within_the_simulated_span(day_result: SimResult) -> None:
    ts = [t for _, _, t in day_result.events]
    assert ts == sorted(ts)
    assert ts[0] >= MONDAY_8
    assert ts[-1] <= MONDAY_8 + timedelta(hours=9.5)


def test_nothing_happens_at_a_station_outside_its_worker_session(day_result: SimResult) -> None:
    on: dict[str, bool] = defaultdict(bool)
    for d in decoded(day_result):
        kind = type(d.ev).__struct_config__.tag
        if kind == "login":
            assert not on[d.station]
            on[d.station] = True
        elif kind == "logout":
            assert on[d.station]
            on[d.station] = False
        elif kind == "machine" and d.ev.state == "off":  # type: ignore[union-attr]
            assert not on[d.station]  # "off" follows the logout
        else:
            assert on[d.station], f"{kind} at {d.station} {d.ev.ts} with nobody logged in"
