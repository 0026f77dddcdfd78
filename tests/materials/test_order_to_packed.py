"""Must-show: one order from cutting to packed cartons through the simulator and ingest, with every
bundle and piece reconciled at each step (cut = Σ bundles; sewn ≤ bundle qty and = the simulator's
truth; packed = cartons = sewn), a blocked fabric lot refused at cutting, and the projection rebuilt
from the event store after a restart."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

import seamline.adapters.tables_materials  # registers the tables on metadata
import seamline.adapters.tables_quality  # noqa: F401
from seamline.adapters.tables import metadata
from seamline.bootstrap import bootstrap
from seamline.materials.packing import PackSpec
from seamline.materials.projection import MaterialsProjection
from seamline.materials.service import CuttingBlocked, Materials, load_bom, receive_lots_csv
from seamline.quality.fabric import FabricDefect, Roll
from seamline.quality.store import FabricLots, bundle_lot_map
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, simulate

from .helpers import EXAMPLE, one_order_factory, past_weekday_start

ORDER = "SO-2611-01"  # 600 tees, white and black, S-XL
SPEC = PackSpec(solid_qty=24, ratio={"S": 1, "M": 2, "L": 2, "XL": 1}, ratio_sets=2)


def _feed(rt, events) -> int:  # type: ignore[no-untyped-def]
    accepted = 0
    for i in range(0, len(events), 2000):
        chunk = [RawEvent(payload=p, source="mqtt", topic=t) for t, p, _ in events[i : i + 2000]]
        res = rt.worker.submit_future(chunk).result(timeout=60)
        assert not res.rejected, res.rejected[:3]
        accepted += res.accepted
    return accepted


def _lot_of(materials: Materials, material: str) -> str:
    return next(lot.lot_id for lot in materials.store.ledger().lots.values() if lot.material == material)


@pytest.mark.slow
def test_order_from_cutting_to_packed(db_url: str) -> None:
    layout = one_order_factory(ORDER, "L1")
    order = layout.orders[ORDER]
    start = past_weekday_start(layout)
    url = db_url
    rt = bootstrap(url)
    try:
        metadata.create_all(rt.engine)
        rt.save_layout(layout)
        mat = Materials(rt.engine, layout, load_bom(EXAMPLE))
        assert receive_lots_csv(mat.store, EXAMPLE / "materials.csv") > 30
        white, black = _lot_of(mat, "JERSEY-180-WHITE"), _lot_of(mat, "JERSEY-180-BLACK")

        # -- materials are there, so the order may be loaded ----------------------------------
        assert mat.check_materials(ORDER) == []

        # -- cutting: a lot that failed its 4-point inspection is refused --------------------
        gate = FabricLots(rt.engine)
        bad = Roll("R1", yards=50, width_in=60, defects=tuple(FabricDefect(y, hole_in=2) for y in range(40)))
        gate.record_inspection(white, [bad], inspector="QC 陈", at=start - timedelta(days=1))
        cut_at = start - timedelta(hours=2)
        with pytest.raises(CuttingBlocked, match=f"lot {white} failed fabric inspection"):
            mat.cut(ORDER, {"White": white, "Black": black}, cut_at)
        assert mat.store.cut_bundles(ORDER) == {}  # nothing was written
        gate.release(white, by="QA manager", reason="buyer accepted the shade band", at=cut_at)
        cut = mat.cut(ORDER, {"White": white, "Black": black}, cut_at)

        # step 1: cut = Σ bundles = Σ lays = the order
        bundles = cut.plan.bundles
        assert sum(b.qty for b in bundles) == order.quantity == cut.plan.cut_qty == 600
        assert {b.id for b in bundles} == set(layout.bundles)  # the ids ingest and the simulator use
        assert all(b.qty <= layout.styles[order.style_code].bundle_size for b in bundles)
        assert sum(mat.store.cut_bundles(ORDER).values()) == 600
        lots = bundle_lot_map(rt.engine, layout.factory.id)
        assert {b.id: lots[b.id][0] for b in bundles} == {
            b.id: white if b.colour == "White" else black for b in bundles
        }
        need = mat.bom.for_order(order)
        issued = mat.store.ledger()
        assert issued.net_issued(ORDER, "JERSEY-180-WHITE") + issued.net_issued(ORDER, "JERSEY-180-BLACK") == (
            need["JERSEY-180-WHITE"].qty + need["JERSEY-180-BLACK"].qty
        )
        mat.load(ORDER, "L1", cut_at)
        assert mat.store.ledger().net_issued(ORDER, "LABEL-CARE") == need["LABEL-CARE"].qty

        # -- sewing: two days of the simulated line, fed through ingest in two halves --------
        res = simulate(layout, SimConfig(seed=5, start=start, hours=33))
        truth_done = {b["bundle"]: b["qty"] for b in res.truth["bundles_done"]}
        assert set(truth_done) == set(layout.bundles), "the simulator did not finish the order"
        half = len(res.events) // 2
        _feed(rt, res.events[:half])
        proj = rt.projection("materials")
        assert isinstance(proj, MaterialsProjection)
        routing = proj.routing
        fid = layout.factory.id
        with rt.pipeline.lock:
            mid = mat.progress(ORDER, routing)
            wip = routing.wip(fid)
        assert 0 < mid["total"]["sewn"] < 600 and mid["consistent"]
        assert sum(r["bundles"] for r in wip["operations"]) > 0
        early = mat.pack(ORDER, routing, SPEC, start + timedelta(hours=9))
        assert all(c.qty in (12, 24) for c in early)  # only full cartons while sewing goes on

        _feed(rt, res.events[half:])
        routing = rt.projection("materials").routing  # read through the runtime: caught up with every event

        # step 2: sewn per bundle = final-op pieces, capped at the bundle quantity, = the truth
        fields = res.truth["piece_fields"]
        bi, oi = fields.index("bundle"), fields.index("op")
        finals = set(layout.styles[order.style_code].final_operations())
        truth_final: dict[str, int] = defaultdict(int)
        for p in res.truth["pieces"]:
            if p[oi] in finals:
                truth_final[p[bi]] += 1
        with rt.pipeline.lock:
            sewn = routing.order_sewn(fid, ORDER)
            states = {b.id: routing.bundle(fid, b.id) for b in bundles}
            wip_end = routing.wip(fid)
            stale = routing.stale(fid)
        assert all(sewn[b.id] <= b.qty for b in bundles)
        assert sewn == truth_done == dict(truth_final)
        assert all(s is not None and s["status"] == "sewn" for s in states.values())
        assert wip_end["operations"] == [] and stale == []
        # the sensor's double counts are there, but capped
        if res.truth["duplicates"]:
            assert any(op["overcount"] > 0 for s in states.values() if s for op in s["operations"])

        # step 3: packed = cartons = sewn, per size and colour
        rest = mat.pack(ORDER, routing, SPEC, start + timedelta(hours=33))
        cartons = mat.store.cartons(ORDER)
        assert [c.id for c in cartons] == [c.id for c in early + rest]
        assert sum(c.qty for c in cartons) == 600
        prog = mat.progress(ORDER, routing)
        assert prog["consistent"], prog["problems"]
        assert prog["total"] == {"ordered": 600, "cut": 600, "sewn": 600, "packed": 600}
        assert all(r["ordered"] == r["cut"] == r["sewn"] == r["packed"] for r in prog["cells"])
        assert any(c.pack_type == "ratio" for c in cartons)
        assert mat.pack(ORDER, routing, SPEC, start + timedelta(hours=34)) == []  # nothing left to pack
        with rt.pipeline.lock:
            before_restart = {b.id: routing.bundle(fid, b.id) for b in bundles}
    finally:
        rt.close()

    rt2 = bootstrap(url)  # the routing projection is rebuilt from the event store
    try:
        proj2 = rt2.projection("materials")
        assert isinstance(proj2, MaterialsProjection)
        assert sum(proj2.routing.order_sewn(layout.factory.id, ORDER).values()) == 600
        # every bundle's routing (steps, counts, times) is the same after replaying the store
        assert {b: proj2.routing.bundle(layout.factory.id, b) for b in before_restart} == before_restart
        assert Materials(rt2.engine, layout, load_bom(EXAMPLE)).store.ledger().in_store("JERSEY-180-WHITE") > Decimal(0)
    finally:
        rt2.close()
