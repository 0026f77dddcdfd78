"""Small orders quick (issue #21): the plant's order priority, seamline's order-aware dispatch, and
the lead time measured on orders cut during the run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.events import BundleIn, Piece
from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig
from seamline.sim.engine import Engine
from seamline.twin.experiment import Case, line_case, run_policy
from seamline.twin.loop import decode
from seamline.twin.policy import BaselinePolicy, SeamlinePolicy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tee() -> Case:
    base: FactoryLayout = load_factory(ROOT / "examples" / "factory")
    return line_case(base, "L1", "TEE-BASIC", 3, 1)


def _orders(case: Case) -> list[str]:
    """The case's orders in release (due) order."""
    return [o.id for o in sorted(case.layout.orders.values(), key=lambda o: (o.due, -o.priority, o.id))]


def _first_bundles_in(case: Case, priority: dict[str, float] | None, n: int) -> list[str]:
    """Orders of the first ``n`` bundles taken at the line, every bundle released at once."""
    cfg = SimConfig(seed=case.seed, start=case.start, hours=24.0, record_pieces=False, wip_bundles_per_station=50.0)
    eng = Engine(case.layout, cfg)
    if priority is not None:
        eng.order_priority = lambda oid: priority.get(oid, 1.0)
    evs = decode(eng.run_until(3600.0))
    firsts = [ev.bundle for ev in evs if isinstance(ev, BundleIn)][:n]
    return [case.layout.bundles[b].order_id for b in firsts]


def test_plant_takes_the_most_urgent_orders_bundles_first(tee: Case) -> None:
    orders = _orders(tee)
    last = orders[-1]
    assert len(orders) >= 3
    # Without a priority the oldest tickets go first: the first order's bundles.
    assert set(_first_bundles_in(tee, None, 3)) == {orders[0]}
    # With the last order the most urgent, its bundles overtake every other order's at the stations.
    n = min(3, sum(1 for b in tee.layout.bundles.values() if b.order_id == last))
    assert set(_first_bundles_in(tee, {last: 0.0}, n)) == {last}


def _piece(case: Case, bundle: str, op: str, qty: int = 1) -> Piece:
    station = next(s.id for s in case.layout.stations.values() if s.line_id == case.line)
    return Piece(id=f"e-{bundle}-{op}-{qty}", seq=0, ts=case.start + timedelta(hours=1), station=station,
                 bundle=bundle, op=op, qty=qty)  # fmt: skip


def test_seamline_counts_garments_packed_from_final_operation_pieces(tee: Case) -> None:
    pol = SeamlinePolicy(tee.layout, [tee.line])
    style = tee.layout.styles[tee.style]
    (final,) = style.final_operations()
    first = style.topological_order()[0]
    oid = _orders(tee)[0]
    qty = tee.layout.orders[oid].quantity
    b = next(b for b in tee.layout.bundles.values() if b.order_id == oid)
    assert pol.order_priority(oid) == qty
    pol.observe([_piece(tee, b.id, first, b.qty)])  # sewn, not packed
    assert pol.order_priority(oid) == qty
    pol.observe([_piece(tee, b.id, final, 1), _piece(tee, b.id, final, 2)])
    assert pol.order_priority(oid) == qty - 3
    # A bouncing sensor's extra counts pack no more garments than the bundle holds.
    pol.observe([_piece(tee, b.id, final, b.qty)])
    assert pol.order_priority(oid) == qty - b.qty
    assert pol.order_priority("no-such-order") == float("inf")


def test_seamline_dispatch_takes_the_order_nearest_to_packed(tee: Case) -> None:
    pol = SeamlinePolicy(tee.layout, [tee.line])
    by_size = sorted(tee.layout.orders.values(), key=lambda o: o.quantity)
    small, big = by_size[0], by_size[-1]
    assert small.quantity < big.quantity
    b_small = next(b.id for b in tee.layout.bundles.values() if b.order_id == small.id)
    b_big = next(b.id for b in tee.layout.bundles.values() if b.order_id == big.id)
    station = next(s.id for s in tee.layout.stations.values() if s.line_id == tee.line)
    # No bottleneck is starving (no plan yet): the small order's bundle goes first although the
    # big order's has waited ten times as long; FIFO (the baseline) takes the big one.
    options = [("T04", b_big, 600.0, 3), ("T06", b_small, 60.0, 1)]
    assert pol.dispatch(station, options, {"T04": 3, "T06": 1}) == 1
    assert pol.dispatch(station, list(reversed(options)), {}) == 0
    assert BaselinePolicy(tee.layout, [tee.line]).dispatch(station, options, {}) == 0


def test_lead_is_measured_on_orders_cut_in_the_run(tee: Case) -> None:
    """Orders with bundles already along the line at the start (the preloaded WIP) are not
    counted as cut in the run: their lead shows only the drain of what was left."""
    res = run_policy(tee, "seamline").result
    orders = _orders(tee)
    assert orders[0] not in res.orders_cut_in_run  # the preload's oldest bundles are far along
    assert orders[-1] in res.orders_cut_in_run
    # The preload is the first bundles in release order: the orders left out are a prefix.
    out = [o for o in orders if o not in res.orders_cut_in_run]
    assert out == orders[: len(out)]
    assert res.order_lead_h[orders[0]] > 0  # still measured, kept apart by the bench
