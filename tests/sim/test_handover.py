"""A bundle left half done at the shift end by an operator who is absent the next day is handed on."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from seamline.domain.cutting import cut_order
from seamline.domain.events import BundleIn, BundleOut, Piece
from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig, simulate

from .layouts import MONDAY_8, small_factory
from .streams import decoded


def test_a_bundle_in_an_absent_operators_hands_goes_to_another_station_at_the_shift_start() -> None:
    # One line, no spare, 15 % absence: on seed 6 two operators are away on Tuesday and one of them
    # went home on Monday with a bundle half sewn.
    lay = small_factory(n_lines=1, spares=0)
    res = simulate(lay, SimConfig(seed=6, start=MONDAY_8, hours=33, absence_rate=0.15))
    tuesday = MONDAY_8 + timedelta(days=1)
    away = {
        a["station"]
        for a in res.truth["absences"]
        if a["date"] == tuesday.date().isoformat() and a["covered_by"] is None
    }
    dups = {d["event_id"] for d in res.truth["duplicates"]}
    qty = _bundle_qty(lay)
    held: dict[str, str] = {}  # station -> bundle in hand (in, not out) when Monday ended
    last_op: dict[tuple[str, str], str] = {}  # (station, bundle) -> operation of its latest piece
    pieces: dict[tuple[str, str], int] = defaultdict(int)  # (bundle, op) -> pieces, duplicates left out
    tuesday_pieces: dict[tuple[str, str], list[tuple[str, datetime]]] = defaultdict(list)
    out_at: dict[str, set[str]] = defaultdict(set)  # bundle -> stations that scanned it out
    for d in decoded(res):
        ev = d.ev
        if isinstance(ev, BundleIn) and ev.ts < tuesday:
            held[d.station] = ev.bundle
        elif isinstance(ev, BundleOut):
            out_at[ev.bundle].add(d.station)
            if ev.ts < tuesday and held.get(d.station) == ev.bundle:
                del held[d.station]
        elif isinstance(ev, Piece) and ev.id not in dups:
            pieces[(ev.bundle, ev.op)] += ev.qty
            if ev.ts < tuesday:
                last_op[(d.station, ev.bundle)] = ev.op
            else:
                tuesday_pieces[(ev.bundle, ev.op)].append((d.station, ev.ts))
    stranded = [(sid, b, last_op[(sid, b)]) for sid, b in held.items() if sid in away and (sid, b) in last_op]
    assert stranded, "the seed no longer puts a bundle in the hands of an operator absent the next day"
    assert [h["bundle"] for h in res.truth["handovers"]] == [b for _, b, _ in stranded]
    for sid, bundle, op in stranded:
        assert pieces[(bundle, op)] > 0, "she had sewn part of it"
        # The rest is sewn on Tuesday, by another station, within the first hour of the shift...
        who = tuesday_pieces[(bundle, op)]
        assert who and all(s != sid for s, _ in who)
        assert min(t for _, t in who) < tuesday.replace(hour=9)
        # ...exactly the pieces left: none sewn twice, none lost.
        assert pieces[(bundle, op)] == qty[bundle]
        assert out_at[bundle] - {sid}, "another station scanned it out"


def _bundle_qty(lay: FactoryLayout) -> dict[str, int]:
    return {b.id: b.qty for o in lay.orders.values() for b in cut_order(o, lay.styles[o.style_code])}
