"""Piece rates: money per piece of an operation, or per standard minute of work.

Per standard minute lets a factory price a whole bulletin at once (rate x the operation's SAM), with
explicit per-piece prices overriding it for single operations.
Lookup, most specific first: (style, op) -> (any style, op) -> (style, any op) -> (any, any).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from seamline.domain.model import Style


class PayError(ValueError):
    """Pay cannot be computed as configured; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class Rate:
    op: str | None = None
    style: str | None = None
    per_piece: Decimal | None = None
    per_sam_min: Decimal | None = None

    def __post_init__(self) -> None:
        if (self.per_piece is None) == (self.per_sam_min is None):
            raise PayError(f"rate for op {self.op!r} style {self.style!r}: give per_piece or per_sam_min")
        for v in (self.per_piece, self.per_sam_min):
            if v is not None and (not isinstance(v, Decimal) or v < 0):
                raise PayError(f"rate for op {self.op!r}: money must be a Decimal >= 0, got {v!r}")


class RateCard:
    def __init__(self, rates: Iterable[Rate]) -> None:
        self._rates = {(r.style, r.op): r for r in rates}

    def rate_for(self, style: str | None, op: str) -> Rate | None:
        """The most specific rate that prices ``op`` of ``style`` (None: the card does not)."""
        for key in ((style, op), (None, op), (style, None), (None, None)):
            r = self._rates.get(key)
            if r is not None:
                return r
        return None

    def unit_price(self, style: Style | None, op: str) -> Decimal:
        """Money for one good piece of ``op`` (on a bundle of ``style``)."""
        sc = style.code if style else None
        for key in ((sc, op), (None, op), (sc, None), (None, None)):
            r = self._rates.get(key)
            if r is None:
                continue
            if r.per_piece is not None:
                return r.per_piece
            if style is None:
                raise PayError(f"op {op}: per-minute rate needs the style (bundle not in the layout)")
            try:
                sam = style.op(op).sam_min
            except KeyError:
                raise PayError(f"op {op} is not in the bulletin of style {style.code}") from None
            assert r.per_sam_min is not None
            return r.per_sam_min * Decimal(str(sam))
        raise PayError(f"no rate for op {op} (style {sc})")


def parse_rate_card(doc: list[dict]) -> RateCard:
    """``[{"op": "A1", "style": null, "per_piece": "0.12"}, {"per_sam_min": "0.40"}, ...]``; money as strings."""

    def dec(v: object) -> Decimal | None:
        if v is None:
            return None
        if isinstance(v, float):
            raise PayError(f'rate {v!r}: write money as a string ("0.12"), not a float')
        return Decimal(str(v))

    return RateCard(
        Rate(
            op=r.get("op"),
            style=r.get("style"),
            per_piece=dec(r.get("per_piece")),
            per_sam_min=dec(r.get("per_sam_min")),
        )
        for r in doc
    )
