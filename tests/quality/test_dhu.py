"""DHU aggregator on hand-built event streams."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from seamline.domain.events import Defect, Login, Logout, Machine, Piece
from seamline.domain.model import Station, Worker
from seamline.quality.dhu import DhuAggregator, DhuThresholds, pareto

from .layouts import MONDAY_8, tee_factory

_ids = itertools.count()


def ev(cls, ts: datetime, station: str, **kw):  # type: ignore[no-untyped-def]
    return cls(id=f"e{next(_ids)}", seq=0, ts=ts, factory="F1", station=station, **kw)


@pytest.fixture
def layout():  # type: ignore[no-untyped-def]
    lay = tee_factory(2)
    lay.stations["L1-QC"] = Station("L1-QC", "F1", "L1", "sensor-qc", "MAN", 99)
    lay.workers["Q1"] = Worker("Q1", "Inspector", "L1")
    return lay


def sew(
    agg: DhuAggregator,
    station: str,
    op: str,
    bundles: list[str],
    start: datetime,
    step_s: float = 30.0,
    per_bundle: int = 10,
) -> datetime:
    t = start
    for b in bundles:
        for _ in range(per_bundle):
            agg.apply(ev(Piece, t, station, bundle=b, op=op))
            t += timedelta(seconds=step_s)
    return t


def test_dhu_per_operation_worker_line_and_hour(layout) -> None:  # type: ignore[no-untyped-def]
    agg = DhuAggregator(layout)
    t = MONDAY_8
    for s, w in (("L1-S01", "W101"), ("L1-S02", "W102"), ("L1-QC", "Q1")):
        agg.apply(ev(Login, t, s, worker=w))
    bundles = [f"O1-{i:04d}" for i in range(1, 11)]  # 10 bundles x 10 pieces
    end = sew(agg, "L1-S01", "T10", bundles, t)  # 100 pieces over 50 min
    sew(agg, "L1-S02", "T20", bundles[:8], t + timedelta(minutes=40), step_s=45)  # 80 pieces, 08:40-09:40
    # The inspector's tablet reports defects: they belong to whoever sewed the bundle at that op.
    qc = t + timedelta(hours=1, minutes=50)
    agg.apply(ev(Defect, qc, "L1-QC", bundle="O1-0001", op="T10", defect="SKIP_STITCH"))
    agg.apply(ev(Defect, qc, "L1-QC", bundle="O1-0001", op="T10", defect="PUCKERING"))  # same garment
    agg.apply(ev(Defect, qc + timedelta(seconds=5), "L1-QC", bundle="O1-0002", op="T10", defect="SKIP_STITCH"))
    agg.apply(ev(Defect, qc, "L1-QC", bundle="O1-0003", op="T20", defect="OPEN_SEAM", qty=2))
    snap = agg.snapshot()
    op10 = snap.by["operation"]["TEE:T10"]
    assert (op10.pieces, op10.defects, op10.defective) == (100, 3, 2)
    assert op10.dhu == pytest.approx(3.0) and op10.pct_defective == pytest.approx(2.0)
    op20 = snap.by["operation"]["TEE:T20"]
    assert (op20.pieces, op20.defects, op20.dhu) == (80, 2, pytest.approx(2.5))
    assert snap.by["worker"]["W101"].defects == 3 and snap.by["worker"]["W102"].defects == 2
    assert "Q1" not in snap.by["worker"]  # the inspector made nothing and is charged nothing
    assert snap.by["line"]["L1"].dhu == pytest.approx(5 * 100 / 180)
    assert snap.total.pieces == 180 and snap.total.defects == 5
    # hours: 08:00-09:00 has 100 T10 + 27 T20 pieces (08:40 .. 08:59:30, every 45 s), 09:00 the rest
    hours = {h.hour: t_.pieces for h, t_ in snap.by_hour.items()}
    assert hours == {8: 127, 9: 53}
    assert {h.hour: t_.defects for h, t_ in snap.by_hour.items() if t_.defects} == {9: 5}
    assert end == t + timedelta(minutes=50)
    rows = snap.pareto
    assert [(r.code, r.defects) for r in rows] == [("OPEN_SEAM", 2), ("SKIP_STITCH", 2), ("PUCKERING", 1)]
    assert rows[-1].cum_pct == pytest.approx(100.0) and rows[0].pct == pytest.approx(40.0)
    # the window and the line filter
    early = agg.snapshot(until=MONDAY_8 + timedelta(hours=1))
    assert early.total.pieces == 127 and early.total.defects == 0 and early.pareto == []
    assert agg.snapshot(line="L2").total.pieces == 0
    d = snap.as_dict()
    assert d["operation"]["TEE:T10"]["dhu"] == 3.0 and d["pareto"][0]["code"] == "OPEN_SEAM"


def test_defect_without_a_piece_falls_back_to_the_reporting_station(layout) -> None:  # type: ignore[no-untyped-def]
    agg = DhuAggregator(layout)
    agg.apply(ev(Login, MONDAY_8, "L2-S03", worker="W203"))
    agg.apply(ev(Defect, MONDAY_8 + timedelta(minutes=1), "L2-S03", bundle="O2-0001", op="T30", defect="STAIN"))
    rec = agg.defects[0]
    assert (rec.made_by, rec.made_at_station, rec.line, rec.made_ts) == ("W203", "L2-S03", "L2", None)


def test_login_elsewhere_moves_the_worker(layout) -> None:  # type: ignore[no-untyped-def]
    agg = DhuAggregator(layout)
    t = MONDAY_8
    agg.apply(ev(Login, t, "L1-S01", worker="W101"))
    agg.apply(ev(Piece, t + timedelta(seconds=10), "L1-S01", bundle="O1-0001", op="T10"))
    agg.apply(ev(Login, t + timedelta(minutes=1), "L1-S04", worker="W101"))
    agg.apply(ev(Piece, t + timedelta(minutes=2), "L1-S01", bundle="O1-0001", op="T10"))  # nobody at S01 now
    agg.apply(ev(Piece, t + timedelta(minutes=3), "L1-S04", bundle="O1-0001", op="T40"))
    agg.apply(ev(Logout, t + timedelta(minutes=4), "L1-S04", worker="W101"))
    agg.apply(ev(Piece, t + timedelta(minutes=5), "L1-S04", bundle="O1-0001", op="T40"))
    agg.apply(ev(Machine, t + timedelta(minutes=6), "L1-S04", state="idle"))  # ignored
    snap = agg.snapshot()
    assert snap.by["worker"]["W101"].pieces == 2
    assert snap.by["worker"]["?"].pieces == 2


def test_alerts_fire_once_per_excursion(layout) -> None:  # type: ignore[no-untyped-def]
    agg = DhuAggregator(layout, DhuThresholds(worker_dhu=5.0, operation_dhu=50.0, min_pieces=30))
    t = MONDAY_8
    agg.apply(ev(Login, t, "L1-S05", worker="W105"))
    bundles = [f"O1-{i:04d}" for i in range(1, 5)]
    t = sew(agg, "L1-S05", "T50", bundles[:2], t)  # 20 pieces
    fired = []
    for k in range(3):  # 3 defects on 20 pieces: DHU 15 but under min_pieces
        fired += agg.apply(
            ev(Defect, t + timedelta(seconds=k), "L1-S05", bundle="O1-0001", op="T50", defect="PUCKERING")
        )
    assert fired == []
    t = sew(agg, "L1-S05", "T50", bundles[2:3], t + timedelta(seconds=5))  # 30 pieces: DHU 10 > 5
    assert len(agg.alerts) == 1
    a = agg.alerts[0]
    assert (a.scope, a.key, a.pieces, a.defects) == ("worker", "W105", 30, 3) and "DHU 10.0" in a.message
    agg.apply(ev(Defect, t, "L1-S05", bundle="O1-0003", op="T50", defect="PUCKERING"))
    assert len(agg.alerts) == 1  # still the same excursion
    t = sew(agg, "L1-S05", "T50", bundles * 10, t + timedelta(seconds=5), step_s=1)  # +400 pieces: DHU < 5
    for k in range(40):
        agg.apply(ev(Defect, t + timedelta(seconds=k), "L1-S05", bundle="O1-0004", op="T50", defect="STAIN"))
    assert len(agg.alerts) == 2 and agg.alerts[1].defects > agg.alerts[0].defects


def test_pareto_orders_by_count_then_code() -> None:
    rows = pareto({"B": 5, "A": 5, "C": 10, "Z": 0})
    assert [r.code for r in rows] == ["C", "A", "B"]
    assert [round(r.cum_pct) for r in rows] == [50, 75, 100]


def test_forget_before_drops_old_hours_and_keeps_the_rest(layout) -> None:  # type: ignore[no-untyped-def]
    agg = DhuAggregator(layout)
    agg.apply(ev(Login, MONDAY_8, "L1-S01", worker="W101"))
    sew(agg, "L1-S01", "T10", ["O1-0001", "O1-0002"], MONDAY_8)  # 08:00-08:10
    next_day = MONDAY_8 + timedelta(days=1)
    sew(agg, "L1-S01", "T10", ["O1-0003"], next_day)
    agg.apply(ev(Defect, MONDAY_8 + timedelta(minutes=20), "L1-S01", bundle="O1-0001", op="T10", defect="STAIN"))
    agg.apply(ev(Defect, next_day + timedelta(minutes=20), "L1-S01", bundle="O1-0003", op="T10", defect="HOLE"))
    assert agg.snapshot().total.pieces == 30
    agg.forget_before(next_day)
    snap = agg.snapshot()
    assert (snap.total.pieces, snap.total.defects) == (10, 1)
    assert [r.code for r in snap.pareto] == ["HOLE"]
    assert agg.pieces_of("F1", "O1-0001") == [] and len(agg.pieces_of("F1", "O1-0003")) == 10
