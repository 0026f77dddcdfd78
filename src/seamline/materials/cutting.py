"""Cutting plans: lays (marker ratio × plies) per colour, and the bundles with their tickets.

A lay is fabric of one colour (one shade: colours are never mixed on a table, so shading cannot
show across a garment) spread ``plies`` high and cut through a marker holding ``ratio[size]``
garments of each size. Each lay yields plies × ratio[size] pieces per size; the plan covers every
(size, colour) exactly, so cut = order quantity.

Bundles come from ``seamline.domain.cutting.cut_order`` unchanged: the simulator and ingest name
bundles ``{order}-{nnnn}`` and the plan must agree with them. Each bundle is traced to the lay
that produced its pieces (the first lay holding pieces of its size and colour, in bundle order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from seamline.domain.cutting import cut_order
from seamline.domain.model import Bundle, DomainError, Order, Style

from .bom import Bom
from .ledger import qstr


@dataclass(frozen=True, slots=True)
class CutRules:
    """A cutting room's limits: table height and marker length (garments per marker)."""

    max_plies: int = 60
    max_marker_garments: int = 6
    bundle_size: int | None = None  # None = the style's bundle size

    def __post_init__(self) -> None:
        if self.max_plies < 1 or self.max_marker_garments < 1:
            raise DomainError("max_plies and max_marker_garments must be >= 1")
        if self.bundle_size is not None and self.bundle_size < 1:
            raise DomainError(f"bundle size must be >= 1, got {self.bundle_size}")


@dataclass(frozen=True, slots=True)
class Lay:
    no: int
    colour: str
    plies: int
    ratio: dict[str, int] = field(hash=False)

    @property
    def garments(self) -> int:
        return self.plies * sum(self.ratio.values())

    def pieces(self) -> dict[str, int]:
        return {s: r * self.plies for s, r in self.ratio.items()}


@dataclass(slots=True)
class CutPlan:
    order: Order
    style: Style
    bundle_size: int
    lays: list[Lay]
    bundles: list[Bundle]
    bundle_lay: dict[str, int]
    fabric: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # material -> (unit, qty)

    @property
    def cut_qty(self) -> int:
        return sum(lay.garments for lay in self.lays)

    def as_dict(self) -> dict[str, Any]:
        return {
            "order": self.order.id,
            "style": self.style.code,
            "quantity": self.order.quantity,
            "bundle_size": self.bundle_size,
            "cut_qty": self.cut_qty,
            "lays": [
                {"no": x.no, "colour": x.colour, "plies": x.plies, "ratio": x.ratio, "garments": x.garments}
                for x in self.lays
            ],
            "bundles": [
                {"id": b.id, "size": b.size, "colour": b.colour, "qty": b.qty, "lay": self.bundle_lay[b.id]}
                for b in self.bundles
            ],
            "fabric": {m: {"unit": u, "qty": qstr(q)} for m, (u, q) in self.fabric.items()},
        }


def plan_lays(quantities: dict[str, int], colour: str, rules: CutRules, first_no: int = 1) -> list[Lay]:
    """Lays covering ``quantities`` (size -> pieces) of one colour exactly, as few as two greedy
    heuristics find (a marker-making system does better; these are for planning and tickets).

    Fewer lays means fewer spreads and fewer markers, the cutting room's real cost; each heuristic
    wins on some orders of the example factory, so both run and the plan with fewer lays (then
    fewer plies) is kept.
    """
    plans = [_lays_smallest_size_first(quantities, rules), _lays_most_garments(quantities, rules)]
    best = min(plans, key=lambda p: (len(p), sum(x[0] for x in p)))
    return [
        Lay(no=first_no + i, colour=colour, plies=pl, ratio=dict(sorted(r.items()))) for i, (pl, r) in enumerate(best)
    ]


def _take(left: dict[str, int], plies: int, ratio: dict[str, int]) -> None:
    for s, r in ratio.items():
        left[s] -= r * plies
        if left[s] == 0:
            del left[s]


def _lays_smallest_size_first(quantities: dict[str, int], rules: CutRules) -> list[tuple[int, dict[str, int]]]:
    """Ply height = the smallest remaining size quantity (capped by the table); every size goes into
    the marker as often as that height divides its remainder, and the marker is trimmed to its
    maximum length from the least needed sizes. Each lay empties at least one size, so it ends."""
    left = {s: q for s, q in quantities.items() if q > 0}
    out: list[tuple[int, dict[str, int]]] = []
    while left:
        plies = min(rules.max_plies, min(left.values()))
        ratio = {s: q // plies for s, q in left.items() if q // plies > 0}
        while sum(ratio.values()) > rules.max_marker_garments:
            s = min(ratio, key=lambda k: (ratio[k], left[k], k))
            ratio[s] -= 1
            if ratio[s] == 0:
                del ratio[s]
        out.append((plies, ratio))
        _take(left, plies, ratio)
    return out


def _lays_most_garments(quantities: dict[str, int], rules: CutRules) -> list[tuple[int, dict[str, int]]]:
    """Each lay is the ply height (1..table) that cuts the most garments, the marker filled from the
    sizes with most left; ties go to the lay that empties more sizes. Every lay cuts at least one
    garment, so it ends."""
    left = {s: q for s, q in quantities.items() if q > 0}
    out: list[tuple[int, dict[str, int]]] = []
    while left:
        best: tuple[tuple[int, int, int], int, dict[str, int]] | None = None
        for plies in range(1, min(rules.max_plies, max(left.values())) + 1):
            room = rules.max_marker_garments
            ratio: dict[str, int] = {}
            for s in sorted(left, key=lambda k: (-left[k], k)):
                r = min(left[s] // plies, room)
                if r > 0:
                    ratio[s] = r
                    room -= r
            key = (plies * sum(ratio.values()), sum(1 for s, r in ratio.items() if r * plies == left[s]), plies)
            if best is None or key > best[0]:
                best = (key, plies, ratio)
        assert best is not None
        out.append((best[1], best[2]))
        _take(left, best[1], best[2])
    return out


def plan_cut(order: Order, style: Style, rules: CutRules | None = None, bom: Bom | None = None) -> CutPlan:
    rules = rules or CutRules()
    if order.style_code != style.code:
        raise DomainError(f"order {order.id} is for style {order.style_code}, not {style.code}")
    size = rules.bundle_size or style.bundle_size
    by_colour: dict[str, dict[str, int]] = {}
    for (sz, colour), q in sorted(order.quantities.items()):
        by_colour.setdefault(colour, {})[sz] = q
    lays: list[Lay] = []
    for colour, qs in by_colour.items():
        lays.extend(plan_lays(qs, colour, rules, first_no=len(lays) + 1))
    bundles = cut_order(order, style, size)
    # Trace bundles to lays: pieces of a (size, colour) are taken from its lays in lay order.
    supply: dict[tuple[str, str], list[list[int]]] = {}
    for lay in lays:
        for sz, n in lay.pieces().items():
            supply.setdefault((sz, lay.colour), []).append([lay.no, n])
    bundle_lay: dict[str, int] = {}
    for b in bundles:
        stack = supply[(b.size, b.colour)]
        bundle_lay[b.id] = stack[0][0]
        need = b.qty
        while need > 0:
            take = min(need, stack[0][1])
            stack[0][1] -= take
            need -= take
            if stack[0][1] == 0:
                stack.pop(0)
    fabric: dict[str, tuple[str, Decimal]] = {}
    if bom is not None and order.style_code in bom.by_style:  # tickets need no BOM
        for m, req in bom.for_order(order).items():
            if req.kind == "fabric":
                fabric[m] = (req.unit, req.qty)
    return CutPlan(order, style, size, lays, bundles, bundle_lay, fabric)
