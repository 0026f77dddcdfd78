"""The materials use cases: cut an order, check materials before loading, pack, read progress.

This is the one place ``seamline.materials`` depends on another feature: cutting asks
``seamline.quality`` whether a fabric lot may be cut (a lot that failed its 4-point inspection is
blocked until released) and records which lot each bundle came from, for traceability.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from seamline.domain.model import DomainError, FactoryLayout, Order
from seamline.quality.store import FabricLots, record_bundle_lot

from .bom import Bom, read_bom
from .cutting import CutPlan, CutRules, plan_cut
from .ledger import Ledger, LedgerError, Lot, Move, Shortage, fmt_qty, shortages
from .packing import Carton, PackSpec, pack, packed_totals
from .routing import Routing
from .store import MaterialsStore


class CuttingBlocked(DomainError):
    """Cutting refused: the fabric lot failed inspection or does not fit the order."""


class MaterialShortage(DomainError):
    """Loading refused: the message lists every material that is short and by how much."""

    def __init__(self, items: list[Shortage]) -> None:
        self.items = items
        super().__init__("; ".join(s.message for s in items))


@dataclass(slots=True)
class CutResult:
    plan: CutPlan
    issued: dict[str, Decimal]  # lot -> quantity issued to cutting
    lay_lots: dict[int, str]  # lay no -> the fabric lot it was spread from


class Materials:
    """Materials of one factory: its layout, BOM, the ledger store and the quality gate."""

    def __init__(
        self,
        engine: Engine,
        layout: FactoryLayout,
        bom: Bom,
        *,
        fabric_gate: FabricLots | None = None,
        rules: CutRules | None = None,
    ) -> None:
        self.engine = engine
        self.layout = layout
        self.bom = bom
        self.store = MaterialsStore(engine, layout.factory.id)
        self.gate = fabric_gate or FabricLots(engine)
        self.rules = rules or CutRules()

    @classmethod
    def from_db(cls, engine: Engine, layout: FactoryLayout, **kw: Any) -> Materials:
        """With the BOM stored in the database (``seamline materials-import`` puts it there)."""
        return cls(engine, layout, MaterialsStore(engine, layout.factory.id).bom(), **kw)

    def order(self, order_id: str) -> Order:
        o = self.layout.orders.get(order_id)
        if o is None:
            raise DomainError(f"unknown order {order_id!r}")
        return o

    # --- planning ----------------------------------------------------------------------------
    def cut_plan(self, order_id: str, rules: CutRules | None = None) -> CutPlan:
        o = self.order(order_id)
        return plan_cut(o, self.layout.styles[o.style_code], rules or self.rules, self.bom)

    def _blocked_lots(self, ledger: Ledger, materials: Iterable[str] | None = None) -> frozenset[str]:
        """Lots (of ``materials``, default all) the quality gate does not allow to be used."""
        wanted = None if materials is None else set(materials)
        return frozenset(
            lot.lot_id
            for lot in ledger.lots.values()
            if (wanted is None or lot.material in wanted) and not self.gate.is_cutting_allowed(lot.lot_id)[0]
        )

    def check_materials(self, orders: str | Order | Iterable[str | Order]) -> list[Shortage]:
        """Shortages for loading ``orders`` in this sequence; empty when everything is there.

        Stock in lots that failed fabric inspection (and are not released) does not count.
        What an order already drew (issued, not returned) is subtracted from its need.
        """
        items = [orders] if isinstance(orders, (str, Order)) else list(orders)
        objs = [self.order(x) if isinstance(x, str) else x for x in items]
        ledger = self.store.ledger()
        needs = [(o.id, {m: (r.unit, r.qty) for m, r in self.bom.for_order(o).items()}) for o in objs]
        return shortages(needs, ledger, self._blocked_lots(ledger, {m for _, r in needs for m in r}))

    def ensure_loadable(self, orders: str | Order | Iterable[str | Order]) -> None:
        found = self.check_materials(orders)
        if found:
            raise MaterialShortage(found)

    # --- cutting -----------------------------------------------------------------------------
    def cut(
        self,
        order_id: str,
        fabric_lots: str | Sequence[str] | Mapping[str, str | Sequence[str]],
        at: datetime,
        rules: CutRules | None = None,
    ) -> CutResult:
        """Cut the order: gate each fabric lot, give every lay one lot, issue the fabric, record the
        bundles and the lot each came from.

        ``fabric_lots`` names the shell-fabric lots, for all colours or per colour. A lay is
        spread from one lot only (shade separation: lots differ in shade, and a garment whose
        panels come from two shades is a reject), first fit in the order given. When a lay is
        longer than what is left in any lot, the plan is made again with lower lays (half the
        plies each time). Other fabrics of the BOM (rib, pocketing) are issued from their oldest
        allowed lots. Nothing is written unless every lot is allowed and every lay fits.
        """
        rules = rules or self.rules
        o = self.order(order_id)
        if self.store.cut_bundles(o.id):
            raise CuttingBlocked(f"order {o.id} is already cut")
        colours = sorted({c for _, c in o.quantities})
        if isinstance(fabric_lots, str):
            by_colour: dict[str, list[str]] = {c: [fabric_lots] for c in colours}
        elif isinstance(fabric_lots, Mapping):
            by_colour = {c: [v] if isinstance(v, str) else list(v) for c, v in fabric_lots.items()}
        else:
            by_colour = {c: list(fabric_lots) for c in colours}
        missing = [c for c in colours if not by_colour.get(c)]
        if missing:
            raise CuttingBlocked(f"order {o.id}: no fabric lot given for colour(s) {missing}")
        ledger = self.store.ledger()
        shell: dict[str, str] = {}
        for colour in colours:
            cells = {k: q for k, q in o.quantities.items() if k[1] == colour}
            fabrics = {m for m, r in self.bom.requirements(o.style_code, cells).items() if r.kind == "fabric"}
            for lot_id in by_colour[colour]:
                ok, why = self.gate.is_cutting_allowed(lot_id)
                if not ok:
                    raise CuttingBlocked(why)
                lot = ledger.lots.get(lot_id)
                if lot is None:
                    raise CuttingBlocked(f"fabric lot {lot_id} is not in the material ledger")
                if lot.material not in fabrics or shell.get(colour, lot.material) != lot.material:
                    raise CuttingBlocked(
                        f"fabric lot {lot_id} holds {lot.material}; colour {colour} of order {o.id} is cut from "
                        f"{shell.get(colour) or ' or '.join(sorted(fabrics))}"
                    )
                shell[colour] = lot.material
        plies = rules.max_plies
        while True:
            plan = self.cut_plan(order_id, replace(rules, max_plies=plies))
            try:
                lay_lot = self._assign_lays(plan, by_colour, shell, ledger)
                break
            except CuttingBlocked:
                if plies == 1:
                    raise
                plies = (plies + 1) // 2
        moves = self._cut_moves(plan, lay_lot, shell, ledger, at)
        try:
            self.store.record_cut(
                [(b.id, o.id, plan.bundle_lay[b.id], lay_lot[plan.bundle_lay[b.id]], b.qty) for b in plan.bundles],
                at,
                moves,
            )
        except LedgerError as e:
            raise CuttingBlocked(f"order {o.id}: {e}") from None
        for b in plan.bundles:
            record_bundle_lot(self.engine, self.layout.factory.id, b.id, lay_lot[plan.bundle_lay[b.id]], at=at)
        issued: dict[str, Decimal] = {}
        for m in moves:
            issued[m.lot_id] = issued.get(m.lot_id, Decimal(0)) + m.qty
        return CutResult(plan, issued, lay_lot)

    def _lay_need(self, plan: CutPlan, lay_no: int, material: str) -> Decimal:
        lay = plan.lays[lay_no - 1]
        cells = {(sz, lay.colour): n for sz, n in lay.pieces().items()}
        return self.bom.requirements(plan.order.style_code, cells)[material].qty

    def _assign_lays(
        self, plan: CutPlan, by_colour: dict[str, list[str]], shell: dict[str, str], ledger: Ledger
    ) -> dict[int, str]:
        """Lay no -> lot, first fit in the lots' given order; CuttingBlocked if a lay fits none."""
        left = {lot: ledger.balances[lot].in_store for lots in by_colour.values() for lot in lots}
        out: dict[int, str] = {}
        for lay in plan.lays:
            need = self._lay_need(plan, lay.no, shell[lay.colour])
            lot_id = next((x for x in by_colour[lay.colour] if left[x] >= need), None)
            if lot_id is None:
                unit = ledger.balances[by_colour[lay.colour][0]].unit
                have = ", ".join(f"{x} {fmt_qty(left[x])} {unit}" for x in by_colour[lay.colour])
                raise CuttingBlocked(
                    f"lay {lay.no} of order {plan.order.id} ({lay.colour}) needs {fmt_qty(need)} {unit} of "
                    f"{shell[lay.colour]} from one lot; left in the given lots: {have}"
                )
            left[lot_id] -= need
            out[lay.no] = lot_id
        return out

    def _cut_moves(
        self, plan: CutPlan, lay_lot: dict[int, str], shell: dict[str, str], ledger: Ledger, at: datetime
    ) -> list[Move]:
        """The issues to cutting: each lay's shell fabric from its lot, other fabrics oldest lot first."""
        o = plan.order
        moves: list[Move] = []

        def issue(lot_id: str, material: str, qty: Decimal, note: str) -> None:
            m = Move(lot_id, material, "issue", qty, at, o.id, "cutting", note)
            try:
                ledger.apply(m)
            except LedgerError as e:
                raise CuttingBlocked(str(e)) from None
            moves.append(m)

        blocked = self._blocked_lots(ledger, self.bom.for_order(o))
        for colour in sorted(shell):
            use: dict[str, Decimal] = {}
            for lay in (x for x in plan.lays if x.colour == colour):
                lot = lay_lot[lay.no]
                use[lot] = use.get(lot, Decimal(0)) + self._lay_need(plan, lay.no, shell[colour])
            for lot_id, q in use.items():
                issue(lot_id, shell[colour], q, f"cut {o.id} {colour}")
            cells = {k: q for k, q in o.quantities.items() if k[1] == colour}
            for material, req in self.bom.requirements(o.style_code, cells).items():
                if req.kind != "fabric" or material == shell[colour]:
                    continue
                need = req.qty
                for stock_lot in _oldest_first(ledger, material, blocked):
                    take = min(need, ledger.balances[stock_lot.lot_id].in_store)
                    if take > 0:
                        issue(stock_lot.lot_id, material, take, f"cut {o.id} {colour}")
                        need -= take
                    if need <= 0:
                        break
                if need > 0:
                    raise CuttingBlocked(
                        f"order {o.id} ({colour}) needs {fmt_qty(req.qty)} {req.unit} of {material}: "
                        f"short {fmt_qty(need)} {req.unit}"
                    )
        return moves

    # --- loading -----------------------------------------------------------------------------
    def load(self, order_id: str, line_id: str, at: datetime) -> dict[str, Decimal]:
        """Check materials, then issue the order's trims to the line (oldest lot first).

        Raises MaterialShortage, with every short material in the message, before anything moves.
        """
        o = self.order(order_id)
        if line_id not in self.layout.lines:
            raise DomainError(f"unknown line {line_id!r}")
        self.ensure_loadable(o)
        ledger = self.store.ledger()
        blocked = self._blocked_lots(ledger, self.bom.for_order(o))
        issued: dict[str, Decimal] = {}
        for material, req in self.bom.for_order(o).items():
            if req.kind != "trim":
                continue
            need = req.qty - ledger.net_issued(o.id, material)
            for lot in _oldest_first(ledger, material, blocked):
                if need <= 0:
                    break
                take = min(need, ledger.balances[lot.lot_id].in_store)
                if take <= 0:
                    continue
                self.store.move("issue", lot.lot_id, take, order_id=o.id, at=at, dest=line_id, note=f"load {line_id}")
                ledger.apply(Move(lot.lot_id, material, "issue", take, at, o.id, line_id))
                issued[lot.lot_id] = issued.get(lot.lot_id, Decimal(0)) + take
                need -= take
        return issued

    # --- packing and progress ----------------------------------------------------------------
    def pack(
        self, order_id: str, routing: Routing, spec: PackSpec, at: datetime, final: bool | None = None
    ) -> list[Carton]:
        """Pack what is sewn and not yet packed. Remainders go into partial cartons once every
        piece of the order is sewn (or when ``final`` says so)."""
        o = self.order(order_id)
        sewn = self.sewn_cells(order_id, routing)
        done = self.store.cartons(order_id)
        packed = packed_totals(done)
        avail = {k: q - packed.get(k, 0) for k, q in sewn.items()}
        if final is None:
            final = sum(sewn.values()) >= o.quantity
        new = pack(order_id, avail, spec, first_no=len(done) + 1, final=final)
        self.store.save_cartons(new, at)
        return new

    def sewn_cells(self, order_id: str, routing: Routing) -> dict[tuple[str, str], int]:
        f = self.layout.factory.id
        out: dict[tuple[str, str], int] = {}
        for bid, n in routing.order_sewn(f, order_id).items():
            b = self.layout.bundles[bid]
            out[(b.size, b.colour)] = out.get((b.size, b.colour), 0) + n
        return out

    def progress(self, order_id: str, routing: Routing) -> dict[str, Any]:
        """Cut → sewn → packed for the order, per size and colour and in total, with the checks
        that tie the steps together (nothing packed that was not sewn, nothing sewn not cut)."""
        o = self.order(order_id)
        cut_b = self.store.cut_bundles(order_id)
        cut: dict[tuple[str, str], int] = {}
        for bid, q in cut_b.items():
            b = self.layout.bundles.get(bid)
            if b is not None:
                cut[(b.size, b.colour)] = cut.get((b.size, b.colour), 0) + q
        sewn = self.sewn_cells(order_id, routing)
        packed = packed_totals(self.store.cartons(order_id))
        cells = sorted(set(o.quantities) | set(cut) | set(sewn) | set(packed), key=lambda k: (k[1], k[0]))
        rows: list[dict[str, Any]] = [
            {
                "size": s,
                "colour": c,
                "ordered": o.quantities.get((s, c), 0),
                "cut": cut.get((s, c), 0),
                "sewn": sewn.get((s, c), 0),
                "packed": packed.get((s, c), 0),
            }
            for s, c in cells
        ]
        total = {k: sum(r[k] for r in rows) for k in ("ordered", "cut", "sewn", "packed")}
        problems = [
            f"{r['size']}/{r['colour']}: {a} {r[a]} > {b} {r[b]}"
            for r in rows
            for a, b in (("sewn", "cut"), ("packed", "sewn"))
            if r[a] > r[b]
        ]
        return {
            "order": o.id,
            "style": o.style_code,
            "total": total,
            "cells": rows,
            "bundles_cut": len(cut_b),
            "consistent": not problems,
            "problems": problems,
        }


def _oldest_first(ledger: Ledger, material: str, blocked: frozenset[str]) -> list[Lot]:
    """Usable lots of a material, first received first: stock rotates and the oldest is used up."""
    return sorted(
        (x for x in ledger.lots.values() if x.material == material and x.lot_id not in blocked),
        key=lambda x: (x.received_at, x.lot_id),
    )


def check_materials(
    engine: Engine, layout: FactoryLayout, bom: Bom, orders: str | Order | Iterable[str | Order]
) -> list[Shortage]:
    """For the planner: shortages if ``orders`` were loaded in this sequence (empty = all there)."""
    return Materials(engine, layout, bom).check_materials(orders)


def load_bom(folder: str | Path) -> Bom:
    """``bom.csv`` of a factory folder (empty BOM when the file is absent)."""
    p = Path(folder) / "bom.csv"
    return read_bom(p) if p.exists() else Bom()


def receive_lots_csv(store: MaterialsStore, path: str | Path) -> int:
    """Receive every lot of ``materials.csv`` (lot_id, material, unit, qty, supplier, shade, received_at)
    that the ledger does not hold yet; returns how many were received."""
    known = set(store.ledger().lots)
    new: list[tuple[Lot, Decimal]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            lot_id = r["lot_id"].strip()
            if lot_id in known:
                continue
            at = datetime.fromisoformat(r["received_at"].strip())
            if at.tzinfo is None:
                raise DomainError(f"{path} row {i}: received_at needs a UTC offset")
            lot = Lot(
                lot_id,
                r["material"].strip(),
                r["unit"].strip(),
                at,
                (r.get("supplier") or "").strip(),
                (r.get("shade") or "").strip(),
            )
            new.append((lot, Decimal(r["qty"].strip())))
            known.add(lot_id)
    store.receive_many(new, note=f"from {Path(path).name}")
    return len(new)
