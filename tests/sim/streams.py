"""Helpers that read a simulated stream back the way ingest would."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from seamline.domain.events import Login, Logout, Piece, SensorEvent, decode_event, parse_topic
from seamline.sim import SimResult


@dataclass
class Decoded:
    station: str
    ev: SensorEvent


def decoded(res: SimResult) -> list[Decoded]:
    return [Decoded(parse_topic(topic)[1], decode_event(payload)) for topic, payload, _ in res.events]


def pieces_by_worker_op(res: SimResult, style_of_bundle: dict[str, str]) -> dict[tuple[str, str, str], int]:
    """Pieces per (worker logged in at the station, style, op), leaving out flagged duplicates."""
    dups = {d["event_id"] for d in res.truth["duplicates"]}
    who: dict[str, str | None] = {}
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for d in decoded(res):
        ev = d.ev
        if isinstance(ev, Login):
            who[d.station] = ev.worker
        elif isinstance(ev, Logout):
            who[d.station] = None
        elif isinstance(ev, Piece) and ev.id not in dups:
            w = who.get(d.station)
            assert w is not None, f"piece {ev.id} at {d.station} with nobody logged in"
            counts[(w, style_of_bundle[ev.bundle], ev.op)] += ev.qty
    return dict(counts)


def bundle_styles(layout) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from seamline.domain.cutting import cut_order

    out = {b.id: layout.orders[b.order_id].style_code for b in layout.bundles.values()}
    for o in layout.orders.values():
        for b in cut_order(o, layout.styles[o.style_code]):
            out.setdefault(b.id, o.style_code)
    return out
