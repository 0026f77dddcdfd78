"""The tablet's own figures beside the station page data: the bundle's defects, today's pay so far.

Kept apart from ``views.station_data`` because they read two more sources than live state (the
quality projection's per-bundle count, the stored rate card) and those are wired once, here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from babel.numbers import format_currency

from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..pay.rates import PayError
from ..pay.store import RateCards
from ..pay.today import piece_earnings
from .i18n import Fmt

log = logging.getLogger(__name__)
CURRENCY = "CNY"


def worker_pieces_today(live: LiveState, layout: FactoryLayout, worker: str) -> dict[str, int]:
    """op -> good pieces the worker made today, at any station (live state's finest cells)."""
    f = layout.factory.id
    now = live.as_of(f).astimezone(live.tz(f))
    start, end = live.day_bounds(f, now)
    out: dict[str, int] = defaultdict(int)
    for _h, b in live.buckets_between(f, start, end):
        for (_line, _station, w, op), cell in b.fine.items():
            if w == worker and cell.pieces:
                out[op] += cell.pieces
    return dict(out)


def tablet_fields(
    live: LiveState, layout: FactoryLayout, station: str, fmt: Fmt, quality: Any, cards: RateCards
) -> dict[str, Any]:
    """``bundle_defects`` (None without a bundle), ``earnings`` (None without a rate card or a
    worker: the tablet then hides the figure)."""
    f = layout.factory.id
    st = live.stations.get((f, station))
    bundle = st.bundle if st else None
    defects: int | None = None
    if bundle is not None:
        counts = getattr(getattr(quality, "dhu", None), "bundle_defects", None)
        defects = int(counts.get((f, bundle), 0)) if counts is not None else 0
    earnings = None
    worker = st.worker if st else None
    card = cards.get(f) if worker else None
    if card is not None and worker:
        line_style = live.line_style.get((f, st.line)) if st else None
        preferred = layout.styles.get(line_style) if line_style else None
        try:
            earnings = piece_earnings(
                sorted(worker_pieces_today(live, layout, worker).items()), card, preferred, layout.styles
            )
        except PayError as e:  # a card that misses an operation: no figure rather than a wrong one
            log.warning("tablet %s: no earnings: %s", station, e)
    return {
        "bundle_defects": defects,
        "bundle_defects_txt": fmt.num(defects) if defects is not None else "–",
        "earnings": str(earnings) if earnings is not None else None,
        "earnings_txt": format_currency(earnings, CURRENCY, locale=fmt.lang) if earnings is not None else "",
    }
