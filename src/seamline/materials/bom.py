"""Bills of materials: what one garment of a style uses, per size and colour, with allowance.

Fabric consumption grows with the size (a 36 waist takes more denim than a 28), and each colour is
a different material (white jersey is not black jersey), so a BOM line names the size and colour
it applies to, ``*`` meaning all. The allowance (end-of-lay loss, shrinkage, cutting waste) is a
percentage on top of the net quantity: it is what the cutting room really draws from stock.
Quantities are ``Decimal``: stock is counted to the centimetre and must add up exactly.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from seamline.domain.model import DomainError, Order

ANY = "*"
KINDS = ("fabric", "trim")
QUANT = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class BomLine:
    style_code: str
    material: str
    kind: str  # fabric | trim
    unit: str  # m, pcs, cone...
    qty_per_piece: Decimal
    allowance_pct: Decimal = Decimal(0)
    size: str = ANY
    colour: str = ANY

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DomainError(f"BOM {self.style_code}/{self.material}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.qty_per_piece <= 0:
            raise DomainError(f"BOM {self.style_code}/{self.material}: quantity per piece must be > 0")
        if self.allowance_pct < 0:
            raise DomainError(f"BOM {self.style_code}/{self.material}: allowance must be >= 0 %")

    def applies(self, size: str, colour: str) -> bool:
        return self.size in (ANY, size) and self.colour in (ANY, colour)

    def gross_per_piece(self) -> Decimal:
        return self.qty_per_piece * (1 + self.allowance_pct / 100)


@dataclass(frozen=True, slots=True)
class Requirement:
    material: str
    kind: str
    unit: str
    qty: Decimal


class Bom:
    """Every BOM line of every style, looked up by style."""

    def __init__(self, lines: Iterable[BomLine] = ()) -> None:
        self.by_style: dict[str, list[BomLine]] = defaultdict(list)
        for ln in lines:
            self.by_style[ln.style_code].append(ln)

    def styles(self) -> list[str]:
        return sorted(self.by_style)

    def lines_for(self, style_code: str, size: str, colour: str) -> list[BomLine]:
        """The most specific line per material: an exact size or colour beats ``*``."""
        best: dict[str, tuple[int, BomLine]] = {}
        for ln in self.by_style.get(style_code, []):
            if not ln.applies(size, colour):
                continue
            rank = (ln.size != ANY) + (ln.colour != ANY)
            cur = best.get(ln.material)
            if cur is None or rank > cur[0]:
                best[ln.material] = (rank, ln)
        return [ln for _, ln in best.values()]

    def requirements(self, style_code: str, quantities: dict[tuple[str, str], int]) -> dict[str, Requirement]:
        """Gross material needed for ``quantities`` ((size, colour) -> pieces), rounded to 0.001."""
        if style_code not in self.by_style:
            raise DomainError(f"style {style_code} has no bill of materials")
        acc: dict[str, Decimal] = defaultdict(Decimal)
        meta: dict[str, BomLine] = {}
        for (size, colour), pieces in sorted(quantities.items()):
            if pieces <= 0:
                continue
            lines = self.lines_for(style_code, size, colour)
            if not any(ln.kind == "fabric" for ln in lines):
                raise DomainError(f"style {style_code}: no fabric in the BOM for size {size}, colour {colour}")
            for ln in lines:
                acc[ln.material] += ln.gross_per_piece() * pieces
                meta[ln.material] = ln
        return {
            m: Requirement(m, meta[m].kind, meta[m].unit, q.quantize(QUANT, ROUND_HALF_UP))
            for m, q in sorted(acc.items())
        }

    def for_order(self, order: Order) -> dict[str, Requirement]:
        return self.requirements(order.style_code, order.quantities)


def _dec(text: str, what: str, row: int) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise DomainError(f"bom.csv row {row}: {what} {text!r} is not a number") from None


def read_bom(path: str | Path) -> Bom:
    """Read ``bom.csv``: style_code, material, kind, unit, size, colour, qty_per_piece, allowance_pct."""
    lines = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            lines.append(
                BomLine(
                    style_code=r["style_code"].strip(),
                    material=r["material"].strip(),
                    kind=r["kind"].strip(),
                    unit=r["unit"].strip(),
                    size=(r.get("size") or ANY).strip() or ANY,
                    colour=(r.get("colour") or ANY).strip() or ANY,
                    qty_per_piece=_dec(r["qty_per_piece"], "qty_per_piece", i),
                    allowance_pct=_dec(r.get("allowance_pct") or "0", "allowance_pct", i),
                )
            )
    return Bom(lines)
