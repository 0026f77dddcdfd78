"""Small lots: split a large order into lots, merge small orders of one style into one lot.

Quick-response buyers order 100-500 pieces per SKU and want them in a week; a line that takes one
1 000-piece order blocks it for days, and a line that changes style for every 120-piece order
loses its morning to changeovers. The planner loads lots instead: a large order becomes several
lots (so other urgent work can go between them), small orders of one style ride together (so the
line stays on the style). Pure functions; every piece of every order is in exactly one lot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from seamline.domain.model import DomainError, Order


@dataclass(frozen=True, slots=True)
class LotPart:
    order_id: str
    size: str
    colour: str
    qty: int


@dataclass(frozen=True, slots=True)
class ProductionLot:
    id: str
    style_code: str
    parts: tuple[LotPart, ...]
    due: date

    @property
    def quantity(self) -> int:
        return sum(p.qty for p in self.parts)

    @property
    def order_ids(self) -> list[str]:
        return sorted({p.order_id for p in self.parts})

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "style": self.style_code,
            "due": self.due.isoformat(),
            "quantity": self.quantity,
            "orders": self.order_ids,
            "parts": [{"order": p.order_id, "size": p.size, "colour": p.colour, "qty": p.qty} for p in self.parts],
        }


def split_order(order: Order, max_lot: int) -> list[ProductionLot]:
    """Lots of at most ``max_lot`` pieces, colour by colour (a lot rarely mixes shades), sizes in order.

    Lots are as equal as the order allows: n = ceil(quantity / max_lot) lots of about quantity / n,
    so a 1 050-piece order with max 500 becomes 350 + 350 + 350, not 500 + 500 + 50.
    """
    if max_lot < 1:
        raise DomainError(f"max lot size must be >= 1, got {max_lot}")
    total = order.quantity
    if total == 0:
        return []
    n = -(-total // max_lot)
    targets = [total // n + (1 if i < total % n else 0) for i in range(n)]
    cells = sorted(order.quantities.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    lots: list[list[LotPart]] = [[] for _ in range(n)]
    i, room = 0, targets[0]
    for (size, colour), qty in cells:
        left = qty
        while left > 0:
            take = min(left, room)
            lots[i].append(LotPart(order.id, size, colour, take))
            left -= take
            room -= take
            if room == 0 and i + 1 < n:
                i += 1
                room = targets[i]
    return [
        ProductionLot(f"{order.id}/L{k + 1}" if n > 1 else order.id, order.style_code, tuple(parts), order.due)
        for k, parts in enumerate(lots)
    ]


def merge_orders(orders: Iterable[Order], max_lot: int, small_below: int | None = None) -> list[ProductionLot]:
    """Group orders of one style, earliest due first, into lots of at most ``max_lot`` pieces.

    Orders of ``small_below`` pieces or more (default: ``max_lot``) are not merged: each is split
    on its own. Small orders are packed first-fit in due order, never split, so an order ships whole
    with the lot it rides in; a lot's due date is its earliest order's.
    """
    if max_lot < 1:
        raise DomainError(f"max lot size must be >= 1, got {max_lot}")
    small_below = max_lot if small_below is None else small_below
    out: list[ProductionLot] = []
    by_style: dict[str, list[Order]] = {}
    for o in orders:
        by_style.setdefault(o.style_code, []).append(o)
    for style, group in sorted(by_style.items()):
        group.sort(key=lambda o: (o.due, -o.priority, o.id))
        bins: list[list[Order]] = []
        for o in group:
            if o.quantity >= small_below or o.quantity > max_lot:
                out.extend(split_order(o, max_lot))
                continue
            for b in bins:
                if sum(x.quantity for x in b) + o.quantity <= max_lot:
                    b.append(o)
                    break
            else:
                bins.append([o])
        for b in bins:
            parts = tuple(
                LotPart(o.id, size, colour, q)
                for o in b
                for (size, colour), q in sorted(o.quantities.items(), key=lambda kv: (kv[0][1], kv[0][0]))
                if q > 0
            )
            lot_id = b[0].id if len(b) == 1 else f"{style}/M-{'+'.join(o.id for o in b)}"
            out.append(ProductionLot(lot_id, style, parts, min(o.due for o in b)))
    out.sort(key=lambda lot: (lot.due, lot.id))
    return out
