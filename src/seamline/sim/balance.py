"""A simple initial line balance: which stations do which operations of a style.

Real balancing is the planning engine's job; the simulator only needs something plausible and
general so any bulletin runs on any line. Each operation goes to stations of its machine type
(or a close substitute) in proportion to its SAM share; when a type has fewer stations than
operations, neighbouring operations (in precedence order) share a station.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from seamline.domain.model import DomainError, Station, Style

# When a line has no machine of the bulletin's type, these can do the work (first that exists).
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "OL3": ("OL4", "OL5"),
    "OL4": ("OL5", "OL3"),
    "OL5": ("OL4", "OL3"),
    "DNLS": ("SNLS",),
    "FOA": ("DNLS", "SNLS"),
    "FL": ("OL4", "SNLS"),
    "BT": ("SNLS",),
    "BL": ("SNLS",),
    "WB": ("DNLS", "SNLS"),
    "BH": ("SNLS",),
    "BS": ("SNLS",),
    "IRON": ("MAN",),
    "MAN": ("IRON",),
}

Balance = dict[str, list[str]]


def initial_balance(style: Style, stations: Sequence[Station]) -> Balance:
    """Assign every operation of ``style`` to one or more of ``stations``: {station_id: [op_code]}.

    Greedy by SAM, largest first: an operation wants ``round(sam / pitch)`` stations (at least one)
    and takes the least-loaded ones that can do it. A substitute machine type counts as one pitch
    more loaded, so it is used when the right machines are overloaded or missing. Each station's
    list is in precedence order.
    """
    if not stations:
        raise DomainError(f"style {style.code}: no stations to balance onto")
    sts = sorted(stations, key=lambda s: (s.position, s.id))
    pitch = style.sam_min / len(sts)
    load: dict[str, float] = {st.id: 0.0 for st in sts}
    pos = {st.id: i for i, st in enumerate(sts)}
    chosen: dict[str, list[str]] = {}
    for op in sorted(style.operations, key=lambda o: -o.sam_min):
        subs = SUBSTITUTES.get(op.machine_type, ())
        cands = [(st, 0.0) for st in sts if st.machine_type == op.machine_type]
        cands += [(st, pitch) for st in sts if st.machine_type in subs]
        if not cands:  # nothing fits: a helper at the least-loaded station does it
            cands = [(st, 2 * pitch) for st in sts]
        want = max(1, round(op.sam_min / pitch)) if pitch > 0 else 1
        ranked = sorted(cands, key=lambda c: (load[c[0].id] + c[1], pos[c[0].id]))
        picked = [st.id for st, _ in ranked[: min(want, len(ranked))]]
        for sid in picked:
            load[sid] += op.sam_min / len(picked)
        chosen[op.code] = picked
    balance: Balance = {}
    for code in style.topological_order():
        for sid in chosen[code]:
            balance.setdefault(sid, []).append(code)
    return {st.id: balance[st.id] for st in sts if st.id in balance}


def check_balance(style: Style, balance: Mapping[str, Sequence[str]], station_ids: set[str]) -> Balance:
    """Validate a given balance for one line: known stations and ops, every op covered."""
    out: Balance = {}
    known = set(style.op_map())
    for sid, codes in balance.items():
        if sid not in station_ids:
            continue  # another line's station in a factory-wide map
        bad = [c for c in codes if c not in known]
        if bad:
            raise DomainError(f"balance for style {style.code}: station {sid} has unknown operations {bad}")
        if codes:
            out[sid] = list(codes)
    covered = {c for codes in out.values() for c in codes}
    missing = [c for c in style.topological_order() if c not in covered]
    if missing:
        raise DomainError(f"balance for style {style.code}: operations {missing} have no station")
    return out
