"""The material ledger: lots received, issued to cutting and lines, consumed, returned.

Pure: the store hands in the rows, this module sums them and checks each new move against the
balance it would change, so stock can never go negative and an order can never return more than it
was issued. Shortage checking lives here too because it is arithmetic on the same balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from seamline.domain.model import DomainError

MOVE_KINDS = ("receive", "issue", "consume", "return")
# What an order still needs after its issues is ignored below this: cutting issues fabric lay by
# lay, each rounded to 0.001, so a fully cut order can be a few thousandths short of its total.
NEGLIGIBLE = Decimal("0.01")


class LedgerError(DomainError):
    """A move the balances do not allow; the message says which balance and by how much."""


@dataclass(frozen=True, slots=True)
class Lot:
    lot_id: str
    material: str
    unit: str
    received_at: datetime
    supplier: str = ""
    shade: str = ""


@dataclass(frozen=True, slots=True)
class Move:
    lot_id: str
    material: str
    kind: str
    qty: Decimal
    at: datetime
    order_id: str | None = None
    dest: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in MOVE_KINDS:
            raise LedgerError(f"move kind must be one of {MOVE_KINDS}, got {self.kind!r}")
        if not isinstance(self.qty, Decimal) or self.qty <= 0:
            raise LedgerError(f"{self.kind} of lot {self.lot_id}: quantity must be a Decimal > 0, got {self.qty!r}")
        if self.at.tzinfo is None:
            raise LedgerError(f"{self.kind} of lot {self.lot_id}: time must be timezone-aware")
        if self.kind != "receive" and not self.order_id:
            raise LedgerError(f"{self.kind} of lot {self.lot_id}: an order is required")


@dataclass(slots=True)
class LotBalance:
    lot_id: str
    material: str
    unit: str
    received: Decimal = Decimal(0)
    issued: Decimal = Decimal(0)
    consumed: Decimal = Decimal(0)
    returned: Decimal = Decimal(0)

    @property
    def in_store(self) -> Decimal:
        """On the shelf: free to issue."""
        return self.received - self.issued + self.returned

    @property
    def on_floor(self) -> Decimal:
        """Issued and neither consumed nor returned yet."""
        return self.issued - self.consumed - self.returned

    def as_dict(self) -> dict[str, str]:
        return {
            "lot": self.lot_id,
            "material": self.material,
            "unit": self.unit,
            "received": qstr(self.received),
            "issued": qstr(self.issued),
            "consumed": qstr(self.consumed),
            "returned": qstr(self.returned),
            "in_store": qstr(self.in_store),
            "on_floor": qstr(self.on_floor),
        }


@dataclass(frozen=True, slots=True)
class Shortage:
    order_id: str
    material: str
    unit: str
    needed: Decimal
    available: Decimal

    @property
    def short(self) -> Decimal:
        return self.needed - self.available

    @property
    def message(self) -> str:
        u = self.unit
        return (
            f"order {self.order_id} needs {fmt_qty(self.needed)} {u} of {self.material}, "
            f"{fmt_qty(self.available)} {u} available: short {fmt_qty(self.short)} {u}"
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "order": self.order_id,
            "material": self.material,
            "unit": self.unit,
            "needed": qstr(self.needed),
            "available": qstr(self.available),
            "short": qstr(self.short),
            "message": self.message,
        }


def qstr(q: Decimal) -> str:
    """A quantity as JSON text, always to the 0.001 (the BOM's precision): "240.000", "12.500"."""
    return str(q.quantize(Decimal("0.001")))


def fmt_qty(q: Decimal) -> str:
    """412.5, 380.0, 12.345: at least one decimal, no trailing zeros beyond it."""
    n = q.normalize()
    exp = n.as_tuple().exponent
    if isinstance(exp, int) and exp >= -1:
        return f"{q:.1f}"
    return f"{n:f}"


@dataclass(slots=True)
class Ledger:
    lots: dict[str, Lot] = field(default_factory=dict)
    balances: dict[str, LotBalance] = field(default_factory=dict)
    # (lot, order) -> [issued, consumed, returned]
    per_order: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)

    @classmethod
    def of(cls, lots: Iterable[Lot], moves: Iterable[Move]) -> Ledger:
        led = cls()
        for lot in lots:
            led.add_lot(lot)
        for m in moves:
            led._fold(m)
        return led

    def add_lot(self, lot: Lot) -> None:
        if lot.lot_id in self.lots:
            raise LedgerError(f"lot {lot.lot_id} is already received")
        self.lots[lot.lot_id] = lot
        self.balances[lot.lot_id] = LotBalance(lot.lot_id, lot.material, lot.unit)

    def check(self, m: Move) -> None:
        """Raise LedgerError if ``m`` would break a balance."""
        b = self.balances.get(m.lot_id)
        if b is None:
            raise LedgerError(f"unknown material lot {m.lot_id}")
        if m.material != b.material:
            raise LedgerError(f"lot {m.lot_id} holds {b.material}, not {m.material}")
        u = b.unit
        if m.kind == "issue" and m.qty > b.in_store:
            raise LedgerError(
                f"cannot issue {fmt_qty(m.qty)} {u} of lot {m.lot_id}: only {fmt_qty(b.in_store)} {u} in store"
            )
        if m.kind in ("consume", "return"):
            iss, con, ret = self.per_order.get((m.lot_id, m.order_id or ""), [Decimal(0)] * 3)
            left = iss - con - ret
            if m.qty > left:
                raise LedgerError(
                    f"cannot {m.kind} {fmt_qty(m.qty)} {u} of lot {m.lot_id} for order {m.order_id}: "
                    f"only {fmt_qty(left)} {u} issued to it and not yet consumed or returned"
                )

    def apply(self, m: Move) -> None:
        self.check(m)
        self._fold(m)

    def _fold(self, m: Move) -> None:
        b = self.balances[m.lot_id]
        if m.kind == "receive":
            b.received += m.qty
            return
        po = self.per_order.setdefault((m.lot_id, m.order_id or ""), [Decimal(0)] * 3)
        if m.kind == "issue":
            b.issued += m.qty
            po[0] += m.qty
        elif m.kind == "consume":
            b.consumed += m.qty
            po[1] += m.qty
        else:
            b.returned += m.qty
            po[2] += m.qty

    # --- queries ---------------------------------------------------------------------------
    def in_store(self, material: str, exclude_lots: frozenset[str] = frozenset()) -> Decimal:
        return sum(
            (b.in_store for b in self.balances.values() if b.material == material and b.lot_id not in exclude_lots),
            Decimal(0),
        )

    def net_issued(self, order_id: str, material: str) -> Decimal:
        """Issued to the order and not returned: already drawn from stock for it."""
        out = Decimal(0)
        for (lot, oid), (iss, _con, ret) in self.per_order.items():
            if oid == order_id and self.balances[lot].material == material:
                out += iss - ret
        return out

    def unit_of(self, material: str) -> str | None:
        return next((b.unit for b in self.balances.values() if b.material == material), None)


def shortages(
    needs: Iterable[tuple[str, Mapping[str, tuple[str, Decimal]]]],
    ledger: Ledger,
    exclude_lots: frozenset[str] = frozenset(),
) -> list[Shortage]:
    """Shortages of orders loaded in the given sequence: each takes its still-undrawn need from the
    stock left by those before it, so the list says which order runs dry, not only that one will.

    ``needs`` yields (order id, {material: (unit, gross quantity)}).
    """
    left: dict[str, Decimal] = {}
    out: list[Shortage] = []
    for order_id, reqs in needs:
        for material, (unit, gross) in sorted(reqs.items()):
            need = gross - ledger.net_issued(order_id, material)
            if need < NEGLIGIBLE:
                continue
            avail = left.get(material)
            if avail is None:
                avail = ledger.in_store(material, exclude_lots)
            if need > avail:
                out.append(Shortage(order_id, material, unit, need, max(avail, Decimal(0))))
            left[material] = max(avail - need, Decimal(0))
    return out
