"""Bundles move like on a real line: precedence, breaks, WIP visits, absences, changeovers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from seamline.domain.events import BundleIn, BundleOut, Downtime, Login, Piece
from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig, SimResult, simulate

from .layouts import MONDAY_8, small_factory
from .streams import bundle_styles, decoded


def test_precedence_respected_for_every_bundle(layout: FactoryLayout, day_result: SimResult) -> None:
    dups = {d["event_id"] for d in day_result.truth["duplicates"]}
    styles = bundle_styles(layout)
    first: dict[tuple[str, str], datetime] = {}
    last: dict[tuple[str, str], datetime] = {}
    for d in decoded(day_result):
        if isinstance(d.ev, Piece) and d.ev.id not in dups:
            key = (d.ev.bundle, d.ev.op)
            first.setdefault(key, d.ev.ts)
            last[key] = d.ev.ts
    checked = 0
    for (bundle, op), t_first in first.items():
        for pred in layout.styles[styles[bundle]].op(op).predecessors:
            assert (bundle, pred) in last, f"{bundle}: {op} started before {pred} was ever done"
            assert last[(bundle, pred)] < t_first, f"{bundle}: {op} at {t_first} overlaps {pred}"
            checked += 1
    assert checked > 500
    # And from the truth: each piece-op of a bundle starts after its predecessors finished the bundle.
    end_of: dict[tuple[str, str], float] = defaultdict(float)
    start_of: dict[tuple[str, str], float] = {}
    for row in day_result.truth["pieces"]:
        _, _, _, _style, op, bundle, start_s, end_s, _, _ = row
        end_of[(bundle, op)] = max(end_of[(bundle, op)], end_s)
        start_of[(bundle, op)] = min(start_of.get((bundle, op), start_s), start_s)
    for (bundle, op), s in start_of.items():
        for pred in layout.styles[styles[bundle]].op(op).predecessors:
            assert s >= end_of[(bundle, pred)]


def test_pieces_happen_inside_bundle_visits(day_result: SimResult) -> None:
    at: dict[str, set[str]] = defaultdict(set)
    visits = 0
    for d in decoded(day_result):
        ev = d.ev
        if isinstance(ev, BundleIn):
            assert ev.bundle not in at[d.station]
            at[d.station].add(ev.bundle)
            visits += 1
        elif isinstance(ev, BundleOut):
            at[d.station].remove(ev.bundle)
        elif isinstance(ev, Piece):
            assert ev.bundle in at[d.station]
    assert visits > 200


def test_no_pieces_during_scheduled_breaks(layout: FactoryLayout, day_result: SimResult) -> None:
    cal = layout.calendars["day"]
    breaks = cal.break_intervals(MONDAY_8, MONDAY_8 + timedelta(hours=10))
    assert len(breaks) == 3
    n = 0
    for d in decoded(day_result):
        if isinstance(d.ev, Piece):
            n += 1
            assert not any(a < d.ev.ts < b for a, b in breaks), d.ev.ts
    assert n > 3000


def test_absent_workers_never_log_in_and_a_spare_covers() -> None:
    lay = small_factory(n_lines=1, spares=2)
    res = simulate(lay, SimConfig(seed=3, start=MONDAY_8, hours=9, absence_rate=0.3))
    absences = res.truth["absences"]
    assert absences, "with 30 % absenteeism somebody is away"
    logins = {(d.station, d.ev.worker) for d in decoded(res) if isinstance(d.ev, Login)}
    logged = {w for _, w in logins}
    for a in absences:
        assert a["worker"] not in logged
        if a["covered_by"]:
            assert (a["station"], a["covered_by"]) in logins
    assert any(a["covered_by"] for a in absences)


def test_style_change_mid_shift_goes_through_a_changeover(day_result: SimResult, layout: FactoryLayout) -> None:
    """Line L1 finishes T-shirts and changes to shorts: each station stops, then sews the new style."""
    styles = bundle_styles(layout)
    changeovers = [c for c in day_result.truth["changeovers"] if c["line"] == "L1"]
    assert changeovers
    ends = {c["station"]: datetime.fromisoformat(c["end"]) for c in changeovers}
    new_style = changeovers[0]["style"]
    open_co: dict[str, datetime] = {}
    sewn_new = 0
    for d in decoded(day_result):
        if isinstance(d.ev, Downtime) and d.ev.reason == "CHANGEOVER":
            if d.ev.phase == "start":
                open_co[d.station] = d.ev.ts
            else:
                assert d.ev.ts - open_co.pop(d.station) >= timedelta(minutes=15)
        if isinstance(d.ev, Piece) and d.station.startswith("L1-") and styles[d.ev.bundle] == new_style:
            assert d.station in ends and d.ev.ts > ends[d.station]
            sewn_new += 1
    assert sewn_new > 0


def test_given_balance_is_followed() -> None:
    lay = small_factory(n_lines=1)
    bal = {
        "L1-S01": ["T10", "T20"],
        "L1-S02": ["T40"],
        "L1-S03": ["T40"],
        "L1-S04": ["T50"],
        "L1-S05": ["T30"],
        "L1-S06": ["T60", "T70"],
        "L1-S09": ["T80"],
    }
    res = simulate(lay, SimConfig(seed=2, start=MONDAY_8, hours=4, balances={"TEE": bal}, absence_rate=0.0))
    done: dict[str, set[str]] = defaultdict(set)
    for d in decoded(res):
        if isinstance(d.ev, Piece) and d.ev.op.startswith("T"):
            done[d.station].add(d.ev.op)
    assert done
    for station, ops in done.items():
        assert ops <= set(bal[station]), (station, ops)


def test_a_station_without_a_worker_stays_silent_and_the_line_still_produces() -> None:
    lay = small_factory(n_lines=1, spares=0)
    lay.workers.pop("W001")  # ten stations, nine people
    res = simulate(lay, SimConfig(seed=1, start=MONDAY_8, hours=9, absence_rate=0.0))
    stations = {d.station for d in decoded(res)}
    empty = set(lay.stations) - stations
    assert len(empty) == 1
    assert res.truth["line_output"]["L1"] > 0
