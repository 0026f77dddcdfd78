"""Materials API: cutting plans and bundle tickets, bundle routing and WIP, stale bundles, the
material ledger and shortages, small lots, packing and order progress (cut → sewn → packed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..bootstrap import Runtime
from ..domain.model import DomainError, FactoryLayout
from ..materials.cutting import CutRules
from ..materials.ledger import qstr
from ..materials.lots import merge_orders
from ..materials.packing import PackSpec
from ..materials.projection import MaterialsProjection
from ..materials.routing import Routing
from ..materials.service import Materials
from ..materials.tickets import labels_pdf, sheets_pdf, tickets_of
from .api import PDF, Instant, content_disposition, problems


class CutRequest(BaseModel):
    fabric_lots: dict[str, list[str]] | list[str] = Field(
        description="shell-fabric lots: a list for every colour, or colour -> list; a lay uses one lot"
    )
    at: Instant
    max_plies: int = Field(60, ge=1)
    max_marker_garments: int = Field(6, ge=1)


class MoveRequest(BaseModel):
    kind: Literal["issue", "consume", "return"]
    # The widths of the ledger's columns: PostgreSQL refuses longer values (a 500), SQLite kept them.
    lot: str = Field(max_length=64)
    qty: str = Field(description='a decimal number, e.g. "12.5"', pattern=r"^\d{1,12}(\.\d{1,4})?$")
    order: str = Field(max_length=64)
    dest: str | None = Field(None, max_length=64)
    at: Instant
    note: str = ""


class PackRequest(BaseModel):
    at: Instant
    solid_qty: int = Field(24, ge=1)
    ratio: dict[str, int] = Field(default_factory=dict, description="size -> pieces per set; empty = solid only")
    ratio_sets: int = Field(1, ge=1)
    final: bool | None = Field(None, description="pack remainders into partial cartons; default: when all is sewn")


class WipOperation(BaseModel):
    style: str
    op: str
    bundles: int = Field(description="bundles waiting at or in work on this operation")
    pieces: int = Field(description="their pieces not yet done here")
    started: int = Field(description="of those bundles, how many have pieces done here")
    max_age_min: float = Field(description="working minutes since the bundle became ready here")
    avg_age_min: float


class WipStation(BaseModel):
    station: str
    bundles: int
    max_age_min: float


class Wip(BaseModel):
    factory: str
    as_of: str = Field(description="RFC 3339")
    operations: list[WipOperation]
    stations: list[WipStation]


class StaleBundle(BaseModel):
    bundle: str
    order: str
    line: str | None
    stations: list[str]
    at_operations: list[str]
    last_move: str | None = Field(description="RFC 3339")
    idle_working_min: float
    message: str


def register(app: FastAPI, rt: Runtime) -> None:
    r = APIRouter(prefix="/api/v1/materials", tags=["materials"])

    def layout_of(factory: str | None) -> FactoryLayout:
        if factory is None:
            if len(rt.layouts) != 1:
                raise HTTPException(400, f"pass ?factory= one of {sorted(rt.layouts)}")
            return next(iter(rt.layouts.values()))
        lay = rt.layouts.get(factory)
        if lay is None:
            raise HTTPException(404, f"unknown factory {factory!r}")
        return lay

    def routing() -> Routing:
        p = rt.projection("materials")
        assert isinstance(p, MaterialsProjection)
        return p.routing

    def materials(lay: FactoryLayout) -> Materials:
        return Materials.from_db(rt.engine, lay)

    def aware(name: str, d: datetime | None) -> datetime | None:
        if d is not None and d.tzinfo is None:
            raise HTTPException(422, f"`{name}` needs a UTC offset")
        return d

    def order_of(lay: FactoryLayout, order: str) -> None:
        if order not in lay.orders:
            raise HTTPException(404, f"unknown order {order!r}")

    @r.get("/orders/{order}/cut-plan", responses=problems(400, 404, 422))
    def cut_plan(
        order: str,
        factory: str | None = None,
        max_plies: int = Query(60, ge=1),
        max_marker_garments: int = Query(6, ge=1),
        bundle_size: int | None = Query(None, ge=1),
    ) -> dict[str, Any]:
        """Lays (colour, plies, marker ratio), bundles with their lay, and the fabric the order needs."""
        lay = layout_of(factory)
        order_of(lay, order)
        try:
            return materials(lay).cut_plan(order, CutRules(max_plies, max_marker_garments, bundle_size)).as_dict()
        except DomainError as e:
            raise HTTPException(422, str(e)) from None

    @r.get("/orders/{order}/tickets.pdf", response_class=Response, responses={200: PDF, **problems(400, 404, 422)})
    def tickets(
        order: str,
        factory: str | None = None,
        layout: Literal["sheet", "label"] = Query("sheet", description="A4 sheets or 60 x 40 mm labels"),
        bundle_size: int | None = Query(None, ge=1),
    ) -> Response:
        """Bundle tickets with QR codes carrying the bundle ids."""
        lay = layout_of(factory)
        order_of(lay, order)
        try:
            plan = materials(lay).cut_plan(order, CutRules(bundle_size=bundle_size))
        except DomainError as e:
            raise HTTPException(422, str(e)) from None
        ts = tickets_of(plan, lay)
        pdf = sheets_pdf(ts) if layout == "sheet" else labels_pdf(ts)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": content_disposition("inline", f"{order}-tickets-{layout}.pdf")},
        )

    @r.post("/orders/{order}/cut", responses=problems(400, 404, 409, 422))
    def cut(order: str, body: CutRequest, factory: str | None = None) -> dict[str, Any]:
        """Cut the order from the given fabric lots: refused (409) if a lot failed inspection or is short."""
        lay = layout_of(factory)
        order_of(lay, order)
        aware("at", body.at)
        try:
            res = materials(lay).cut(
                order, body.fabric_lots, body.at, CutRules(body.max_plies, body.max_marker_garments)
            )
        except DomainError as e:
            raise HTTPException(409, str(e)) from None
        return {
            **res.plan.as_dict(),
            "issued": {k: qstr(v) for k, v in res.issued.items()},
            "lay_lots": {str(k): v for k, v in res.lay_lots.items()},
        }

    @r.get("/shortages", responses=problems(400, 404, 422))
    def shortages(
        orders: Annotated[list[str], Query(description="orders in loading sequence")], factory: str | None = None
    ) -> dict[str, Any]:
        """What is missing to load these orders in this sequence; empty list = all materials there."""
        lay = layout_of(factory)
        for o in orders:
            order_of(lay, o)
        try:
            found = materials(lay).check_materials(orders)
        except DomainError as e:
            raise HTTPException(422, str(e)) from None
        return {"orders": orders, "ok": not found, "shortages": [s.as_dict() for s in found]}

    @r.post("/orders/{order}/load", responses=problems(400, 404, 409, 422))
    def load(order: str, line: str, at: Instant, factory: str | None = None) -> dict[str, Any]:
        """Load the order onto a line: 409 with every shortage in the message, else trims are issued."""
        lay = layout_of(factory)
        order_of(lay, order)
        aware("at", at)
        try:
            issued = materials(lay).load(order, line, at)
        except DomainError as e:
            raise HTTPException(409, str(e)) from None
        return {"order": order, "line": line, "issued": {k: qstr(v) for k, v in issued.items()}}

    @r.get("/lots", responses=problems(400, 404, 422))
    def lots(factory: str | None = None, material: str | None = None) -> list[dict[str, str]]:
        """Every material lot with received, issued, consumed, returned, in store and on the floor."""
        led = materials(layout_of(factory)).store.ledger()
        return [b.as_dict() for b in led.balances.values() if material is None or b.material == material]

    @r.post("/moves", responses=problems(400, 404, 409, 422))
    def move(body: MoveRequest, factory: str | None = None) -> dict[str, Any]:
        """Issue, consume or return material; 409 when the balance does not allow it."""
        lay = layout_of(factory)
        aware("at", body.at)
        try:
            qty = Decimal(body.qty)
        except InvalidOperation:
            raise HTTPException(422, f"qty {body.qty!r} is not a number") from None
        m = materials(lay)
        try:
            m.store.move(body.kind, body.lot, qty, order_id=body.order, at=body.at, dest=body.dest, note=body.note)
        except DomainError as e:
            raise HTTPException(409, str(e)) from None
        return m.store.ledger().balances[body.lot].as_dict()

    @r.get("/wip", response_model=Wip, responses=problems(400, 404, 422))
    def wip(factory: str | None = None, line: str | None = None, as_of: Instant | None = None) -> dict[str, Any]:
        """Bundles and pieces at each operation (waiting or in work) with ageing in working minutes."""
        lay = layout_of(factory)
        with rt.pipeline.lock:
            return routing().wip(lay.factory.id, aware("as_of", as_of), line)

    @r.get("/alerts", response_model=list[StaleBundle], responses=problems(400, 404, 422))
    def alerts(
        factory: str | None = None, stale_after_min: float | None = Query(None, gt=0), as_of: Instant | None = None
    ) -> list[dict[str, Any]]:
        """Bundles that have not moved for longer than the limit (working minutes)."""
        lay = layout_of(factory)
        with rt.pipeline.lock:
            return routing().stale(lay.factory.id, aware("as_of", as_of), stale_after_min)

    @r.get("/bundles/{bundle}", responses=problems(400, 404, 422))
    def bundle(bundle: str, factory: str | None = None) -> dict[str, Any]:
        """One bundle: status, stations, pieces per operation (capped), steps with their times."""
        lay = layout_of(factory)
        with rt.pipeline.lock:
            out = routing().bundle(lay.factory.id, bundle)
        if out is None:
            raise HTTPException(404, f"unknown bundle {bundle!r}")
        return out

    @r.post("/orders/{order}/pack", responses=problems(400, 404, 422))
    def pack(order: str, body: PackRequest, factory: str | None = None) -> list[dict[str, Any]]:
        """Pack what is sewn and not yet packed into cartons (ratio first, then solid)."""
        lay = layout_of(factory)
        order_of(lay, order)
        aware("at", body.at)
        try:
            spec = PackSpec(body.solid_qty, body.ratio, body.ratio_sets)
        except DomainError as e:
            raise HTTPException(422, str(e)) from None
        with rt.pipeline.lock:
            new = materials(lay).pack(order, routing(), spec, body.at, body.final)
        return [c.as_dict() for c in new]

    @r.get("/orders/{order}/progress", responses=problems(400, 404, 422))
    def progress(order: str, factory: str | None = None) -> dict[str, Any]:
        """Ordered, cut, sewn and packed per size and colour, with the consistency checks."""
        lay = layout_of(factory)
        order_of(lay, order)
        with rt.pipeline.lock:
            return materials(lay).progress(order, routing())

    @r.get("/small-lots", responses=problems(400, 404, 422))
    def small_lots(
        factory: str | None = None, max_lot: int = Query(500, ge=1), small_below: int | None = Query(None, ge=1)
    ) -> list[dict[str, Any]]:
        """The open orders as production lots: large ones split, small ones of a style merged."""
        lay = layout_of(factory)
        return [x.as_dict() for x in merge_orders(lay.orders.values(), max_lot, small_below)]

    app.include_router(r)
