"""BOM requirements, the ledger's balances and the shortage check that blocks loading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

import seamline.adapters.tables_materials  # registers the tables on metadata
import seamline.adapters.tables_quality  # noqa: F401
from seamline.adapters.db import make_engine
from seamline.adapters.tables import metadata
from seamline.domain.model import Order
from seamline.materials.bom import Bom, BomLine
from seamline.materials.ledger import Ledger, LedgerError, Lot, Move, fmt_qty
from seamline.materials.service import (
    CuttingBlocked,
    Materials,
    MaterialShortage,
    check_materials,
    load_bom,
    receive_lots_csv,
)
from seamline.quality.fabric import FabricDefect, Roll
from seamline.quality.store import FabricLots, bundle_lot_map

from .helpers import EXAMPLE, example_layout

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
D = Decimal


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def materials(engine: Engine) -> Materials:
    mat = Materials(engine, example_layout(), load_bom(EXAMPLE))
    receive_lots_csv(mat.store, EXAMPLE / "materials.csv")
    return mat


def test_bom_takes_the_most_specific_line_and_adds_the_allowance() -> None:
    bom = Bom(
        [
            BomLine("S", "FAB", "fabric", "m", D("1.00"), D("5")),
            BomLine("S", "FAB", "fabric", "m", D("1.20"), D("5"), size="XL"),
            BomLine("S", "FAB-RED", "fabric", "m", D("1.10"), D("5"), colour="Red"),
            BomLine("S", "BTN", "trim", "pcs", D("3"), D("0")),
        ]
    )
    req = bom.requirements("S", {("M", "Blue"): 10, ("XL", "Blue"): 5, ("M", "Red"): 2})
    # FAB: 10 x 1.00 x 1.05 + 5 x 1.20 x 1.05 ; the red pieces use FAB-RED (colour beats *), and also
    # FAB for size M (both apply: different materials)
    assert req["FAB"].qty == D("10.5") + D("6.3") + D("2.1")
    assert req["FAB-RED"].qty == D("2.31")
    assert req["BTN"].qty == D(51)
    with pytest.raises(ValueError, match="no bill of materials"):
        bom.requirements("NOPE", {("M", "Blue"): 1})


def test_example_bom_covers_every_example_order() -> None:
    lay = example_layout()
    bom = load_bom(EXAMPLE)
    for o in lay.orders.values():
        req = bom.for_order(o)
        assert any(r.kind == "fabric" for r in req.values())
        assert all(r.qty > 0 for r in req.values())


def test_ledger_refuses_what_the_balances_do_not_allow() -> None:
    led = Ledger()
    led.add_lot(Lot("L1", "DENIM", "m", T0))
    led.apply(Move("L1", "DENIM", "receive", D("100.0"), T0))
    led.apply(Move("L1", "DENIM", "issue", D("60.5"), T0, "O1", "cutting"))
    with pytest.raises(LedgerError, match=r"only 39\.5 m in store"):
        led.apply(Move("L1", "DENIM", "issue", D("40"), T0, "O2", "cutting"))
    led.apply(Move("L1", "DENIM", "consume", D("58.25"), T0, "O1", "cutting"))
    with pytest.raises(LedgerError, match=r"only 2\.25 m issued to it"):
        led.apply(Move("L1", "DENIM", "return", D("3"), T0, "O1", "cutting"))
    with pytest.raises(LedgerError, match=r"only 0\.0 m issued"):
        led.apply(Move("L1", "DENIM", "consume", D("1"), T0, "O2", "cutting"))
    led.apply(Move("L1", "DENIM", "return", D("2.25"), T0, "O1", "cutting"))
    b = led.balances["L1"]
    assert (b.in_store, b.on_floor, b.consumed) == (D("41.75"), D(0), D("58.25"))
    assert b.received == b.in_store + b.on_floor + b.consumed  # every metre accounted for
    assert led.net_issued("O1", "DENIM") == D("58.25")
    with pytest.raises(LedgerError, match="Decimal"):
        Move("L1", "DENIM", "issue", 1.5, T0, "O1")  # type: ignore[arg-type]


def test_quantities_print_like_a_storekeeper_writes_them() -> None:
    assert [fmt_qty(D(x)) for x in ("412.5", "380", "32.50", "12.345", "0")] == [
        "412.5",
        "380.0",
        "32.5",
        "12.345",
        "0.0",
    ]


def test_shortage_blocks_loading_with_a_clear_message(materials: Materials) -> None:
    # SO-2611-03 (indigo jeans, 334.672 m) fits in the 380 m of indigo denim on the shelf ...
    assert materials.check_materials("SO-2611-03") == []
    # ... but SO-2611-09 loaded after it needs 251.056 m more of the same denim.
    found = materials.check_materials(["SO-2611-03", "SO-2611-09"])
    assert [s.message for s in found] == [
        "order SO-2611-09 needs 251.056 m of DENIM-12OZ-INDIGO, 45.328 m available: short 205.728 m"
    ]
    with pytest.raises(MaterialShortage, match=r"order SO-2611-09 needs 251\.056 m of DENIM-12OZ-INDIGO"):
        materials.ensure_loadable(["SO-2611-03", "SO-2611-09"])
    # the planner's function gives the same answer
    assert check_materials(materials.engine, materials.layout, materials.bom, ["SO-2611-03", "SO-2611-09"]) == found


def test_load_refuses_before_anything_moves(materials: Materials) -> None:
    lay = materials.layout
    big = Order("SO-BIG", "X", "JEANS-5P", {("32", "Indigo rinse"): 400}, due=T0.date())
    lay.orders[big.id] = big
    before = materials.store.ledger().in_store("ZIP-YKK-18CM")
    with pytest.raises(MaterialShortage) as e:
        materials.load("SO-BIG", "L3", T0)
    assert "order SO-BIG needs 561.6 m of DENIM-12OZ-INDIGO, 380.0 m available: short 181.6 m" in str(e.value)
    assert materials.store.ledger().in_store("ZIP-YKK-18CM") == before
    # a loadable order gets its trims issued to the line, oldest lot first
    issued = materials.load("SO-2611-03", "L3", T0)
    assert sum(issued.values()) == sum(
        r.qty for r in materials.bom.for_order(lay.orders["SO-2611-03"]).values() if r.kind == "trim"
    )


def test_a_failed_fabric_lot_does_not_count_as_available(materials: Materials, engine: Engine) -> None:
    led = materials.store.ledger()
    lot = next(x for x in led.lots.values() if x.material == "DENIM-12OZ-INDIGO" and x.shade == "B")
    holes = tuple(FabricDefect(y, hole_in=2) for y in range(30))
    FabricLots(engine).record_inspection(lot.lot_id, [Roll("R9", 40, 58, holes)], inspector="QC", at=T0)
    found = materials.check_materials("SO-2611-03")
    assert [s.message for s in found] == [
        "order SO-2611-03 needs 334.672 m of DENIM-12OZ-INDIGO, 200.0 m available: short 134.672 m"
    ]
    FabricLots(engine).release(lot.lot_id, by="QA", reason="shade approved", at=T0 + timedelta(hours=1))
    assert materials.check_materials("SO-2611-03") == []


def test_what_an_order_already_drew_is_not_needed_again(materials: Materials) -> None:
    lot = next(x for x in materials.store.ledger().lots.values() if x.material == "DENIM-12OZ-INDIGO")
    materials.store.move("issue", lot.lot_id, D("150"), order_id="SO-2611-09", at=T0, dest="cutting")
    # 380 - 150 = 230 m in store; SO-2611-09 still needs 251.056 - 150 = 101.056 m of it, which leaves
    # 128.944 m for SO-2611-03
    found = materials.check_materials(["SO-2611-09", "SO-2611-03"])
    assert [s.message for s in found] == [
        "order SO-2611-03 needs 334.672 m of DENIM-12OZ-INDIGO, 128.944 m available: short 205.728 m"
    ]


def test_each_lay_comes_from_one_lot_and_a_refused_cut_writes_nothing(materials: Materials, engine: Engine) -> None:
    led = materials.store.ledger()
    a, b = sorted(x.lot_id for x in led.lots.values() if x.material == "DENIM-12OZ-INDIGO")  # 200 m, 180 m
    with pytest.raises(CuttingBlocked, match=r"needs .* of DENIM-12OZ-INDIGO from one lot; left in the given lots"):
        materials.cut("SO-2611-03", [b], T0)  # 334.672 m cannot come from 180 m
    assert materials.store.ledger().in_store("DENIM-12OZ-INDIGO") == D(380)
    assert materials.store.cut_bundles("SO-2611-03") == {}
    with pytest.raises(CuttingBlocked, match="holds ZIP-YKK-18CM"):
        materials.cut("SO-2611-03", [next(x.lot_id for x in led.lots.values() if x.material == "ZIP-YKK-18CM")], T0)

    default = materials.cut_plan("SO-2611-03")
    longest = max(
        materials.bom.requirements("JEANS-5P", {(s, x.colour): n for s, n in x.pieces().items()})[
            "DENIM-12OZ-INDIGO"
        ].qty
        for x in default.lays
    )
    assert longest > D(200)  # the default plan has a lay no single lot can hold ...
    res = materials.cut("SO-2611-03", [a, b], T0)  # ... so the cut is planned with lower lays
    assert max(x.plies for x in res.plan.lays) < max(x.plies for x in default.lays)
    assert set(res.lay_lots.values()) == {a, b}  # neither lot holds the whole order: lays are split
    per_lot = {a: D(0), b: D(0)}
    for lay in res.plan.lays:
        need = materials.bom.requirements("JEANS-5P", {(s, lay.colour): n for s, n in lay.pieces().items()})
        per_lot[res.lay_lots[lay.no]] += need["DENIM-12OZ-INDIGO"].qty
    assert {k: v for k, v in res.issued.items() if k in (a, b)} == per_lot
    whole = materials.bom.for_order(materials.order("SO-2611-03"))["DENIM-12OZ-INDIGO"].qty
    assert abs(sum(per_lot.values()) - whole) <= D("0.001") * len(res.plan.lays)  # lays rounded one by one
    lots = bundle_lot_map(engine, "xiaoshan")
    assert all(lots[bd.id][0] == res.lay_lots[res.plan.bundle_lay[bd.id]] for bd in res.plan.bundles)
    pocketing = materials.store.ledger().net_issued("SO-2611-03", "POCKETING-TC")
    assert pocketing == materials.bom.for_order(materials.order("SO-2611-03"))["POCKETING-TC"].qty
    assert materials.check_materials("SO-2611-03") == []  # what the cut drew is not needed again
    with pytest.raises(CuttingBlocked, match="already cut"):
        materials.cut("SO-2611-03", [a, b], T0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(("issue", "consume", "return")),
            st.sampled_from(("O1", "O2")),
            st.decimals(min_value=D("0.001"), max_value=D("80"), places=3),
        ),
        max_size=40,
    )
)
def test_every_metre_is_accounted_for_whatever_the_moves(moves) -> None:  # type: ignore[no-untyped-def]
    led = Ledger()
    led.add_lot(Lot("L1", "FAB", "m", T0))
    led.apply(Move("L1", "FAB", "receive", D("100"), T0))
    for kind, order, qty in moves:
        try:
            led.apply(Move("L1", "FAB", kind, qty, T0, order))
        except LedgerError:
            continue  # refused moves change nothing
        b = led.balances["L1"]
        assert b.in_store >= 0 and b.on_floor >= 0
        assert b.received == b.in_store + b.on_floor + b.consumed
        for o in ("O1", "O2"):
            iss, con, ret = led.per_order.get(("L1", o), [D(0)] * 3)
            assert iss - con - ret >= 0
