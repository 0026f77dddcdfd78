"""Materials records in the database: lots and ledger moves, cut bundles, cartons.

Every write goes through the pure ``Ledger`` check first, inside the same transaction that reads
the balances, so two issues from one lot cannot both pass against the same stock on SQLite
(single writer) and PostgreSQL alike (the lot rows are locked with FOR UPDATE).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, delete, insert, select

from seamline.adapters.tables_materials import (
    bom_lines,
    carton_lines,
    cartons,
    cut_bundles,
    material_lots,
    material_moves,
)

from .bom import Bom, BomLine
from .ledger import Ledger, LedgerError, Lot, Move
from .packing import Carton


class MaterialsStore:
    def __init__(self, engine: Engine, factory_id: str) -> None:
        self.engine = engine
        self.factory_id = factory_id

    # --- bill of materials ------------------------------------------------------------------
    def save_bom(self, bom: Bom) -> int:
        """Replace the BOM of every style in ``bom`` (other styles keep theirs)."""
        f = self.factory_id
        rows = [ln for style in bom.styles() for ln in bom.by_style[style]]
        with self.engine.begin() as c:
            for style in bom.styles():
                c.execute(delete(bom_lines).where(bom_lines.c.factory_id == f, bom_lines.c.style_code == style))
            if rows:
                c.execute(
                    insert(bom_lines),
                    [
                        {
                            "factory_id": f,
                            "style_code": ln.style_code,
                            "material": ln.material,
                            "size": ln.size,
                            "colour": ln.colour,
                            "kind": ln.kind,
                            "unit": ln.unit,
                            "qty_per_piece": ln.qty_per_piece,
                            "allowance_pct": ln.allowance_pct,
                        }
                        for ln in rows
                    ],
                )
        return len(rows)

    def bom(self) -> Bom:
        with self.engine.connect() as c:
            rows = c.execute(select(bom_lines).where(bom_lines.c.factory_id == self.factory_id)).all()
        return Bom(
            BomLine(r.style_code, r.material, r.kind, r.unit, r.qty_per_piece, r.allowance_pct, r.size, r.colour)
            for r in rows
        )

    # --- ledger ----------------------------------------------------------------------------
    def _ledger(self, c: Connection, lock: bool = False) -> Ledger:
        f = self.factory_id
        q = select(material_lots).where(material_lots.c.factory_id == f)
        if lock and c.dialect.name != "sqlite":
            q = q.with_for_update()
        lots = [Lot(r.lot_id, r.material, r.unit, r.received_at, r.supplier, r.shade) for r in c.execute(q)]
        moves = [
            Move(r.lot_id, r.material, r.kind, r.qty, r.at, r.order_id, r.dest, r.note)
            for r in c.execute(
                select(material_moves).where(material_moves.c.factory_id == f).order_by(material_moves.c.id)
            )
        ]
        return Ledger.of(lots, moves)

    def ledger(self) -> Ledger:
        with self.engine.connect() as c:
            return self._ledger(c)

    def receive(self, lot: Lot, qty: Decimal, *, note: str = "") -> None:
        """A new lot arrives: the lot row and its receipt, in one transaction."""
        self.receive_many([(lot, qty)], note=note)

    def receive_many(self, items: Iterable[tuple[Lot, Decimal]], *, note: str = "") -> None:
        """Several lots (a delivery note), all or none."""
        with self.engine.begin() as c:
            led = self._ledger(c, lock=True)
            for lot, qty in items:
                led.add_lot(lot)
                m = Move(lot.lot_id, lot.material, "receive", qty, lot.received_at, note=note)
                led.apply(m)
                c.execute(
                    insert(material_lots).values(
                        factory_id=self.factory_id,
                        lot_id=lot.lot_id,
                        material=lot.material,
                        unit=lot.unit,
                        supplier=lot.supplier,
                        shade=lot.shade,
                        received_at=lot.received_at,
                    )
                )
                self._insert_move(c, m)

    def move(
        self,
        kind: str,
        lot_id: str,
        qty: Decimal,
        *,
        order_id: str,
        at: datetime,
        dest: str | None = None,
        note: str = "",
    ) -> None:
        """Issue, consume or return; refused with a LedgerError when the balance does not allow it."""
        if kind == "receive":
            raise LedgerError("use receive() for a new lot")
        with self.engine.begin() as c:
            led = self._ledger(c, lock=True)
            lot = led.lots.get(lot_id)
            if lot is None:
                raise LedgerError(f"unknown material lot {lot_id}")
            m = Move(lot_id, lot.material, kind, qty, at, order_id, dest, note)
            led.apply(m)
            self._insert_move(c, m)

    def _insert_move(self, c: Connection, m: Move) -> None:
        c.execute(
            insert(material_moves).values(
                factory_id=self.factory_id,
                lot_id=m.lot_id,
                material=m.material,
                kind=m.kind,
                qty=m.qty,
                order_id=m.order_id,
                dest=m.dest,
                at=m.at,
                note=m.note,
            )
        )

    # --- cut bundles -----------------------------------------------------------------------
    def record_cut(
        self, rows: Iterable[tuple[str, str, int, str | None, int]], at: datetime, moves: Iterable[Move] = ()
    ) -> None:
        """Rows of (bundle, order, lay no, fabric lot, qty) and the fabric issued for them, in one
        transaction: a bundle is cut once, and fabric is never issued for a cut that is refused."""
        rows = list(rows)
        with self.engine.begin() as c:
            done = set(
                c.execute(
                    select(cut_bundles.c.bundle_id).where(
                        cut_bundles.c.factory_id == self.factory_id, cut_bundles.c.bundle_id.in_([r[0] for r in rows])
                    )
                ).scalars()
            )
            if done:
                raise LedgerError(f"{len(done)} bundles are already cut, e.g. {', '.join(sorted(done)[:3])}")
            led = self._ledger(c, lock=True)
            for m in moves:
                led.apply(m)
                self._insert_move(c, m)
            if rows:
                c.execute(
                    insert(cut_bundles),
                    [
                        {
                            "factory_id": self.factory_id,
                            "bundle_id": b,
                            "order_id": o,
                            "lay_no": lay,
                            "fabric_lot": lot,
                            "qty": q,
                            "cut_at": at,
                        }
                        for b, o, lay, lot, q in rows
                    ],
                )

    def cut_bundles(self, order_id: str) -> dict[str, int]:
        with self.engine.connect() as c:
            return {
                r.bundle_id: r.qty
                for r in c.execute(
                    select(cut_bundles.c.bundle_id, cut_bundles.c.qty).where(
                        cut_bundles.c.factory_id == self.factory_id, cut_bundles.c.order_id == order_id
                    )
                )
            }

    # --- cartons ---------------------------------------------------------------------------
    def save_cartons(self, items: list[Carton], at: datetime) -> None:
        if not items:
            return
        with self.engine.begin() as c:
            c.execute(
                insert(cartons),
                [
                    {
                        "factory_id": self.factory_id,
                        "carton_id": x.id,
                        "order_id": x.order_id,
                        "pack_type": x.pack_type,
                        "packed_at": at,
                    }
                    for x in items
                ],
            )
            c.execute(
                insert(carton_lines),
                [
                    {
                        "factory_id": self.factory_id,
                        "carton_id": x.id,
                        "size": s,
                        "colour": col,
                        "qty": q,
                        "order_id": x.order_id,
                    }
                    for x in items
                    for (s, col), q in x.contents.items()
                ],
            )

    def cartons(self, order_id: str) -> list[Carton]:
        f = self.factory_id
        with self.engine.connect() as c:
            heads = c.execute(
                select(cartons)
                .where(cartons.c.factory_id == f, cartons.c.order_id == order_id)
                .order_by(cartons.c.carton_id)
            ).all()
            lines = c.execute(
                select(carton_lines).where(carton_lines.c.factory_id == f, carton_lines.c.order_id == order_id)
            ).all()
        contents: dict[str, dict[tuple[str, str], int]] = {}
        for ln in lines:
            contents.setdefault(ln.carton_id, {})[(ln.size, ln.colour)] = ln.qty
        return [Carton(h.carton_id, h.order_id, h.pack_type, contents.get(h.carton_id, {})) for h in heads]
