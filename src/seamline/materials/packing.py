"""Packing finished garments into cartons: solid packs and ratio (assortment) packs.

A solid carton holds one size and one colour; a ratio carton holds one colour in a fixed size
assortment (S:1 M:2 L:2 XL:1 times ``sets``), what a store receives for one shelf. Buyers fill
ratio cartons first and put the rest in solid cartons; the last carton of an order may be partial.
Pure: packing takes what is sewn and not yet packed, and returns cartons whose contents add up to
exactly what they took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seamline.domain.model import DomainError

Cell = tuple[str, str]  # (size, colour)


@dataclass(frozen=True, slots=True)
class PackSpec:
    solid_qty: int = 24
    ratio: dict[str, int] = field(default_factory=dict, hash=False)  # size -> pieces per set; empty = solid only
    ratio_sets: int = 1

    def __post_init__(self) -> None:
        if self.solid_qty < 1 or self.ratio_sets < 1:
            raise DomainError("solid_qty and ratio_sets must be >= 1")
        if any(v < 1 for v in self.ratio.values()):
            raise DomainError("every size in a ratio pack needs >= 1 piece")


@dataclass(frozen=True, slots=True)
class Carton:
    id: str
    order_id: str
    pack_type: str  # solid | ratio
    contents: dict[Cell, int] = field(hash=False)

    @property
    def qty(self) -> int:
        return sum(self.contents.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order": self.order_id,
            "type": self.pack_type,
            "qty": self.qty,
            "contents": [{"size": s, "colour": c, "qty": q} for (s, c), q in sorted(self.contents.items())],
        }


def carton_id(order_id: str, n: int) -> str:
    return f"{order_id}-C{n:03d}"


def pack(
    order_id: str, available: dict[Cell, int], spec: PackSpec, *, first_no: int = 1, final: bool = False
) -> list[Carton]:
    """Cartons from ``available`` pieces. Only full cartons unless ``final`` (the order is complete
    and its remainders go into partial solid cartons)."""
    left = {k: v for k, v in available.items() if v > 0}
    out: list[Carton] = []
    n = first_no
    colours = sorted({c for _, c in left})
    if spec.ratio:
        per_set = {s: q * spec.ratio_sets for s, q in spec.ratio.items()}
        for colour in colours:
            while all(left.get((s, colour), 0) >= q for s, q in per_set.items()):
                contents = {(s, colour): q for s, q in per_set.items()}
                for k, q in contents.items():
                    left[k] -= q
                out.append(Carton(carton_id(order_id, n), order_id, "ratio", contents))
                n += 1
    for cell in sorted(left, key=lambda k: (k[1], k[0])):
        while left[cell] >= spec.solid_qty or (final and left[cell] > 0):
            q = min(spec.solid_qty, left[cell])
            left[cell] -= q
            out.append(Carton(carton_id(order_id, n), order_id, "solid", {cell: q}))
            n += 1
    return out


def packed_totals(cartons: list[Carton]) -> dict[Cell, int]:
    tot: dict[Cell, int] = {}
    for c in cartons:
        for k, q in c.contents.items():
            tot[k] = tot.get(k, 0) + q
    return tot
