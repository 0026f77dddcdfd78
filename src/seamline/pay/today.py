"""Today's piece-rate earnings so far, for the worker's tablet.

The tablet shows what the day's good pieces are worth at the card's base rates, so a worker can
check the count against their own as the day goes. It is not the payslip: overtime premiums,
defect returns and the wage floor are settled there (``pay.payslip``), from the stored events.

Live state keeps a worker's pieces per operation and hour, not per style; operation codes are per
style, so each code is priced with the style the line is sewing if that style has it, else with
the first style (by code) that does. A per-minute rate needs no style beyond the SAM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from seamline.domain.model import Style
from seamline.pay.rates import PayError, RateCard

CENT = Decimal("0.01")


def style_for_op(op: str, preferred: Style | None, styles: Mapping[str, Style]) -> Style | None:
    """The style whose bulletin prices ``op``: the line's own first, else the first by code."""
    if preferred is not None and op in preferred.op_map():
        return preferred
    for code in sorted(styles):
        if op in styles[code].op_map():
            return styles[code]
    return None


def piece_earnings(
    pieces: Iterable[tuple[str, int]], card: RateCard, preferred: Style | None, styles: Mapping[str, Style]
) -> Decimal:
    """Money for ``(op, pieces)`` pairs at base rates, rounded half-up to the cent.

    Raises ``PayError`` when an operation has no rate or a per-minute rate cannot find its SAM: a
    figure that silently leaves pieces out would be wrong money on the worker's screen.
    """
    total = Decimal(0)
    for op, n in pieces:
        if n == 0:
            continue
        style = style_for_op(op, preferred, styles)
        rate = card.rate_for(style.code if style else None, op)
        if rate is None:
            raise PayError(f"no rate for op {op}")
        if rate.per_piece is not None:
            total += Decimal(n) * rate.per_piece
        else:
            total += Decimal(n) * card.unit_price(style, op)
    return total.quantize(CENT, rounding=ROUND_HALF_UP)
