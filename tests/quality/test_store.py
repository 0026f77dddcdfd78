"""Database side: the cutting gate of fabric lots, buyer limits, bundle → lot, audit records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

import seamline.adapters.tables_quality  # noqa: F401  (registers the tables on metadata)
from seamline.adapters.db import make_engine
from seamline.adapters.tables import metadata
from seamline.quality.audit import AuditDefect, run_audit
from seamline.quality.fabric import FabricDefect, FabricError, Roll
from seamline.quality.store import (
    FabricLots,
    bundle_lot_map,
    load_audit,
    record_audit,
    record_bundle_lot,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def clean_roll(rid: str = "R1") -> Roll:
    return Roll(rid, yards=100, width_in=60, defects=(FabricDefect(3, length_in=2),))


def bad_roll(rid: str = "R2") -> Roll:
    return Roll(rid, yards=50, width_in=60, defects=tuple(FabricDefect(y + 0.5, length_in=10) for y in range(20)))


def test_failed_lot_blocks_cutting_until_released(engine: Engine) -> None:
    lots = FabricLots(engine)
    iid, res = lots.record_inspection("LOT-9", [bad_roll()], inspector="Li Na", at=T0)
    assert not res.passed
    ok, why = lots.is_cutting_allowed("LOT-9")
    assert not ok and "blocked" in why and "96.0" in why
    with pytest.raises(FabricError, match="reason"):
        lots.release("LOT-9", by="Wang QA", reason="  ", at=T0 + timedelta(hours=1))
    lots.release("LOT-9", by="Wang QA", reason="buyer accepted shading, cut only backs", at=T0 + timedelta(hours=1))
    ok, why = lots.is_cutting_allowed("LOT-9")
    assert ok and "Wang QA" in why and "buyer accepted shading" in why
    # a new failing inspection blocks it again: the release belonged to the first one
    lots.record_inspection("LOT-9", [bad_roll("R3")], inspector="Li Na", at=T0 + timedelta(days=1))
    assert lots.is_cutting_allowed("LOT-9")[0] is False
    hist = lots.history("LOT-9")
    assert len(hist) == 2 and hist[0]["id"] == iid
    assert hist[0]["release"]["released_by"] == "Wang QA" and hist[1]["release"] is None
    assert hist[0]["rolls"][0]["points"] == 80 and hist[0]["rolls"][0]["defects"][0]["length_in"] == 10


def test_passed_lot_and_uninspected_lots(engine: Engine) -> None:
    lots = FabricLots(engine)
    lots.record_inspection("LOT-1", [clean_roll()], inspector="Li Na", at=T0)
    assert lots.is_cutting_allowed("LOT-1")[0] is True
    with pytest.raises(FabricError, match="not blocked"):
        lots.release("LOT-1", by="x", reason="y", at=T0)
    with pytest.raises(FabricError, match="no inspection"):
        lots.release("LOT-2", by="x", reason="y", at=T0)
    assert lots.is_cutting_allowed("LOT-2") == (True, "lot LOT-2 has no fabric inspection on record")
    strict = FabricLots(engine, require_inspection=True)
    assert strict.is_cutting_allowed("LOT-2")[0] is False


def test_buyer_limit(engine: Engine) -> None:
    lots = FabricLots(engine)
    lots.set_buyer_limit("ACME", 30)
    assert lots.limit_for("ACME") == 30 and lots.limit_for("OTHER") == 40
    rolls = [Roll("R1", 100, 58, (FabricDefect(3, length_in=2),)), bad_roll("R2")]
    _, acme = lots.record_inspection("LOT-5", rolls, inspector="Li", at=T0, buyer="ACME")
    _, other = lots.record_inspection("LOT-6", rolls, inspector="Li", at=T0, buyer="OTHER")
    # 81 points over 5800 + 3000 yd·in = 33.14 points/100 yd²: over ACME's 30, within 40
    assert acme.points_per_100_sq_yd == pytest.approx(81 * 3600 / 8800)
    assert not acme.passed and other.passed
    with pytest.raises(FabricError):
        lots.set_buyer_limit("ACME", 0)


def test_bundle_lot_mapping(engine: Engine) -> None:
    record_bundle_lot(engine, "F1", "O1-0001", "LOT-1", at=T0, roll_id="R1")
    record_bundle_lot(engine, "F1", "O1-0002", "LOT-1", at=T0)
    record_bundle_lot(engine, "F1", "O1-0001", "LOT-2", at=T0, roll_id="R7")  # re-recorded: replaced
    assert bundle_lot_map(engine, "F1") == {"O1-0001": ("LOT-2", "R7"), "O1-0002": ("LOT-1", None)}
    assert bundle_lot_map(engine, "F2") == {}


def test_audit_record_round_trip(engine: Engine) -> None:
    defects = [AuditDefect("OPEN_SEAM", "major", 6, "O1-0003", "T50"), AuditDefect("STAIN", "minor", 2)]
    res = run_audit("O1", 2000, defects)
    assert res.class_result("major").accepted and res.accepted  # 6 <= Ac 7
    res2 = run_audit("O1", 2000, [*defects, AuditDefect("OPEN_SEAM", "major", 2)])
    assert not res2.accepted and res2.class_result("major").found == 8
    aid = record_audit(engine, "F1", res2, inspector="QA Zhou", at=T0)
    row, back = load_audit(engine, aid)
    assert row["accepted"] is False and row["lot_size"] == 2000
    assert [(c["defect_class"], c["sample_size"], c["accept"]) for c in row["classes"]] == [
        ("critical", 125, 0),
        ("major", 125, 7),
        ("minor", 125, 10),
    ]
    assert back[0] == defects[0]
    with pytest.raises(KeyError):
        load_audit(engine, 999)
