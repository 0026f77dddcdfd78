"""Traceability: defect / failed audit → bundle, operation, worker, station, time; bundle → fabric lot."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

import seamline.adapters.tables_quality  # noqa: F401
from seamline.adapters.db import make_engine
from seamline.adapters.tables import metadata
from seamline.domain.events import Defect, Login, Logout, Piece
from seamline.domain.model import Station, Worker
from seamline.quality.audit import AuditDefect, run_audit
from seamline.quality.store import bundle_lot_map, load_audit, record_audit, record_bundle_lot
from seamline.quality.trace import trace_audit, trace_bundle, trace_defect

from .layouts import MONDAY_8, tee_factory

_n = itertools.count()
T = MONDAY_8


def ev(cls, minutes: float, station: str, **kw):  # type: ignore[no-untyped-def]
    return cls(id=f"t{next(_n)}", seq=0, ts=T + timedelta(minutes=minutes), factory="F1", station=station, **kw)


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    lay = tee_factory(1)
    lay.stations["L1-QC"] = Station("L1-QC", "F1", "L1", "sensor-qc", "MAN", 99)
    lay.workers["Q1"] = Worker("Q1", "Inspector", "L1")
    b = "O1-0001"
    events = [
        ev(Login, 0, "L1-S01", worker="W101"),
        ev(Login, 0, "L1-S02", worker="W102"),
        ev(Login, 0, "L1-QC", worker="Q1"),
        *[ev(Piece, 1 + k * 0.5, "L1-S01", bundle=b, op="T10") for k in range(10)],
        *[ev(Piece, 10 + k * 0.5, "L1-S02", bundle=b, op="T20") for k in range(6)],
        ev(Logout, 13.2, "L1-S02", worker="W102"),
        ev(Login, 13.5, "L1-S02", worker="W108"),  # a cover finishes the bundle at T20
        *[ev(Piece, 14 + k * 0.5, "L1-S02", bundle=b, op="T20") for k in range(4)],
        ev(Defect, 30, "L1-QC", bundle=b, op="T20", defect="OPEN_SEAM"),
    ]
    # Events arrive out of time order (a tablet uploads late); the trace sorts by time.
    events = events[-1:] + events[:-1]
    return lay, events


def test_defect_to_producer(world) -> None:  # type: ignore[no-untyped-def]
    lay, events = world
    defect = events[0]
    tr = trace_defect(events, lay, defect.id, {"O1-0001": ("LOT-7", "R3")})
    assert (tr.bundle, tr.op, tr.worker, tr.station, tr.line) == ("O1-0001", "T20", "W108", "L1-S02", "L1")
    assert tr.made_ts == T + timedelta(minutes=15.5)  # the last T20 piece before the finding
    assert tr.reported_ts == T + timedelta(minutes=30) and tr.reported_at_station == "L1-QC"
    assert tr.fabric_lot == "LOT-7"
    with pytest.raises(KeyError):
        trace_defect(events, lay, "nope")
    # A defect found between the two workers' pieces belongs to the first one.
    early = Defect(
        id="x",
        seq=0,
        ts=T + timedelta(minutes=12),
        factory="F1",
        station="L1-QC",
        bundle="O1-0001",
        op="T20",
        defect="PUCKERING",
    )
    assert trace_defect(events, lay, early).worker == "W102"


def test_bundle_to_steps_and_fabric_lot(world) -> None:  # type: ignore[no-untyped-def]
    lay, events = world
    tr = trace_bundle(events, lay, "O1-0001", {"O1-0001": ("LOT-7", "R3")})
    assert (tr.order_id, tr.style, tr.size, tr.colour, tr.qty) == ("O1", "TEE", "M", "white", 10)
    assert (tr.fabric_lot, tr.fabric_roll) == ("LOT-7", "R3")
    assert len(tr.steps) == 20
    assert [s.ts for s in tr.steps] == sorted(s.ts for s in tr.steps)
    first, last = tr.steps[0], tr.steps[-1]
    assert (first.op, first.worker, first.op_name_en, first.op_name_zh) == ("T10", "W101", "join shoulders", "合肩")
    assert (last.op, last.worker, last.station) == ("T20", "W108", "L1-S02")
    assert [d.code for d in tr.defects] == ["OPEN_SEAM"]
    unknown = trace_bundle(events, lay, "NOPE-1")
    assert unknown.order_id is None and unknown.steps == () and unknown.fabric_lot is None


def test_failed_audit_to_producers_through_the_database(world, db_url: str) -> None:  # type: ignore[no-untyped-def]
    lay, events = world
    engine = make_engine(db_url)
    metadata.create_all(engine)
    record_bundle_lot(engine, "F1", "O1-0001", "LOT-7", at=T, roll_id="R3")
    found = [
        AuditDefect("OPEN_SEAM", "major", 8, "O1-0001", "T20"),
        AuditDefect("STAIN", "minor", 1, "O1-0001"),
        AuditDefect("PUCKERING", "minor", 1),
    ]
    res = run_audit("O1", 2000, found)
    assert not res.accepted
    aid = record_audit(engine, "F1", res, inspector="QA Zhou", at=T + timedelta(hours=3))
    row, defects = load_audit(engine, aid)
    traces = trace_audit(events, lay, defects, bundle_lot_map(engine, "F1"))
    assert len(traces) == 2  # the untagged defect cannot be traced
    a, b = traces
    assert (a.worker, a.station, a.op, a.fabric_lot, a.qty) == ("W108", "L1-S02", "T20", "LOT-7", 8)
    assert a.made_ts == T + timedelta(minutes=15.5)
    assert b.worker == "?" and {s.worker for s in b.candidates} == {"W101", "W102", "W108"}
    assert row["accepted"] is False
    engine.dispose()
