"""Pure parts: lays cover the order exactly, bundle ids stay those of cut_order, small lots keep
every piece, cartons add up to what they took."""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from seamline.domain.cutting import cut_order
from seamline.domain.model import Operation, Order, Style
from seamline.materials.cutting import CutRules, plan_cut, plan_lays
from seamline.materials.lots import merge_orders, split_order
from seamline.materials.packing import PackSpec, pack, packed_totals

from .helpers import example_layout

STYLE = Style("S", "款", "style", (Operation("A", "缝", "sew", 1.0, "SNLS"),), bundle_size=20)
SIZES = ("XS", "S", "M", "L", "XL", "2XL")
quantities = st.dictionaries(
    st.tuples(st.sampled_from(SIZES), st.sampled_from(("Red", "Blue", "Black"))),
    st.integers(min_value=1, max_value=400),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(quantities, st.integers(1, 80), st.integers(1, 10), st.integers(1, 30))
def test_lays_and_bundles_cover_the_order_exactly(qs, plies, marker, bundle) -> None:  # type: ignore[no-untyped-def]
    order = Order("O", "C", "S", qs, due=date(2026, 12, 1))
    plan = plan_cut(order, STYLE, CutRules(max_plies=plies, max_marker_garments=marker, bundle_size=bundle))
    cut: Counter[tuple[str, str]] = Counter()
    for lay in plan.lays:
        assert 1 <= lay.plies <= plies and 1 <= sum(lay.ratio.values()) <= marker
        for size, n in lay.pieces().items():
            cut[(size, lay.colour)] += n
    assert dict(cut) == qs  # no piece over- or under-cut, no colour mixed into another's lay
    assert plan.bundles == cut_order(order, STYLE, bundle)  # ids unchanged
    assert sum(b.qty for b in plan.bundles) == order.quantity == plan.cut_qty
    lay_colour = {lay.no: lay.colour for lay in plan.lays}
    assert all(lay_colour[plan.bundle_lay[b.id]] == b.colour for b in plan.bundles)


def test_plan_of_an_example_order_uses_the_style_bundle_size() -> None:
    lay = example_layout()
    o = lay.orders["SO-2611-03"]
    plan = plan_cut(o, lay.styles["JEANS-5P"])
    assert plan.bundle_size == 12 and [b.id for b in plan.bundles] == sorted(
        b.id for b in lay.bundles.values() if b.order_id == o.id
    )
    lays = plan_lays({"M": 100}, "Red", CutRules(max_plies=40))
    assert len(lays) == 1 and lays[0].plies <= 40 and lays[0].garments == 100


def test_split_makes_even_lots_and_keeps_every_piece() -> None:
    o = Order("BIG", "C", "S", {("S", "Red"): 300, ("M", "Red"): 450, ("M", "Blue"): 300}, due=date(2026, 12, 1))
    lots = split_order(o, 500)
    assert [x.quantity for x in lots] == [350, 350, 350]
    assert [x.id for x in lots] == ["BIG/L1", "BIG/L2", "BIG/L3"]
    got: Counter[tuple[str, str]] = Counter()
    for x in lots:
        for p in x.parts:
            got[(p.size, p.colour)] += p.qty
    assert dict(got) == o.quantities


@settings(max_examples=60, deadline=None)
@given(st.lists(quantities, min_size=1, max_size=8), st.integers(50, 800))
def test_merge_keeps_every_piece_and_the_lot_limit(orders_qs, max_lot) -> None:  # type: ignore[no-untyped-def]
    orders = [
        Order(f"O{i}", "C", "S" if i % 3 else "T", qs, due=date(2026, 12, 1 + i)) for i, qs in enumerate(orders_qs)
    ]
    lots = merge_orders(orders, max_lot)
    got: Counter[tuple[str, str, str]] = Counter()
    for x in lots:
        assert x.quantity <= max_lot
        assert len({orders[int(oid[1:])].style_code for oid in x.order_ids}) == 1  # one style per lot
        for p in x.parts:
            got[(p.order_id, p.size, p.colour)] += p.qty
    want = Counter({(o.id, s, c): q for o in orders for (s, c), q in o.quantities.items()})
    assert got == want


def test_small_orders_of_one_style_ride_together() -> None:
    lay = example_layout()
    lots = merge_orders(lay.orders.values(), max_lot=500, small_below=300)
    merged = [x for x in lots if len(x.order_ids) > 1]
    assert merged, "the example has several small jeans and polo orders"
    for x in merged:
        assert x.due == min(lay.orders[o].due for o in x.order_ids)
        assert all(lay.orders[o].quantity < 300 for o in x.order_ids)


def test_ratio_cartons_first_then_solid_and_nothing_lost() -> None:
    avail = {("S", "Red"): 10, ("M", "Red"): 25, ("L", "Red"): 19, ("M", "Blue"): 7}
    spec = PackSpec(solid_qty=6, ratio={"S": 1, "M": 2, "L": 2}, ratio_sets=2)
    full = pack("O", avail, spec)
    assert [c.pack_type for c in full] == ["ratio"] * 4 + ["solid"] * 2  # M Red 25-16=9 -> 6, M Blue 7 -> 6
    assert all(c.qty == (10 if c.pack_type == "ratio" else 6) for c in full)
    final = pack("O", avail, spec, final=True)
    assert packed_totals(final) == avail  # the order is complete: remainders go in partial cartons
    assert len({c.id for c in final}) == len(final) and final[0].id == "O-C001"
