"""Cutting an order into bundles: the unit that travels the line with a ticket.

Bundle ids are deterministic (``{order}-{n:04d}``) so that a layout loaded twice, by the server and
by the simulator, names the same bundles.
"""

from __future__ import annotations

from .model import Bundle, Order, Style


def cut_order(order: Order, style: Style, bundle_size: int | None = None) -> list[Bundle]:
    """Split each size x colour quantity into bundles of at most ``bundle_size`` pieces."""
    size = bundle_size or style.bundle_size
    if size < 1:
        raise ValueError(f"bundle size must be >= 1, got {size}")
    bundles: list[Bundle] = []
    n = 0
    for (sz, colour), qty in sorted(order.quantities.items()):
        left = qty
        while left > 0:
            n += 1
            q = min(size, left)
            bundles.append(Bundle(id=f"{order.id}-{n:04d}", order_id=order.id, size=sz, colour=colour, qty=q))
            left -= q
    return bundles
