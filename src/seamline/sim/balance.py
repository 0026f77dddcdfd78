"""A simple initial line balance: which stations do which operations of a style.

Real balancing is the planning engine's job; the simulator only needs something plausible and
general so any bulletin runs on any line. Each operation goes to stations of its machine type
(or a close substitute) in proportion to its SAM share; when a type has fewer stations than
operations, neighbouring operations (in precedence order) share a station.
"""

from __future__ import annotations

from collections import defaultdict
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
    """Assign every operation of ``style`` to one or more of ``stations``: {station_id: [op_code]}."""
    if not stations:
        raise DomainError(f"style {style.code}: no stations to balance onto")
    by_type: dict[str, list[Station]] = defaultdict(list)
    for st in sorted(stations, key=lambda s: (s.position, s.id)):
        by_type[st.machine_type].append(st)
    order = style.topological_order()
    ops = style.op_map()

    # Group operations by the machine type that will do them.
    groups: dict[str, list[str]] = defaultdict(list)
    orphans: list[str] = []
    for code in order:
        mt = ops[code].machine_type
        if mt in by_type:
            groups[mt].append(code)
            continue
        sub = next((s for s in SUBSTITUTES.get(mt, ()) if s in by_type), None)
        if sub is None:
            orphans.append(code)
        else:
            groups[sub].append(code)

    balance: Balance = {st.id: [] for st in stations}
    load: dict[str, float] = {st.id: 0.0 for st in stations}
    for mt, codes in groups.items():
        sts = by_type[mt]
        if len(sts) >= len(codes):
            _spread(codes, sts, ops, balance, load, style)
        else:
            _pack(codes, sts, ops, balance, load)
    # No machine of a fitting type: the least-loaded station does it (a helper at a table).
    for code in orphans:
        sid = min(load, key=lambda s: (load[s], s))
        balance[sid].append(code)
        load[sid] += ops[code].sam_min
    return {sid: codes for sid, codes in balance.items() if codes}


def _spread(codes, sts, ops, balance, load, style) -> None:  # type: ignore[no-untyped-def]
    """More stations than operations: each op gets ≥ 1 station, the rest by largest SAM share."""
    total = sum(ops[c].sam_min for c in codes)
    n = len(sts)
    share = {c: ops[c].sam_min / total * n for c in codes}
    count = {c: 1 for c in codes}
    spare = n - len(codes)
    while spare > 0:
        # Give the next station to the op with the highest SAM per station it has now.
        c = max(codes, key=lambda c: (share[c] / count[c], -codes.index(c)))
        count[c] += 1
        spare -= 1
    i = 0
    for c in codes:
        for _ in range(count[c]):
            balance[sts[i].id].append(c)
            load[sts[i].id] += ops[c].sam_min / count[c]
            i += 1


def _pack(codes, sts, ops, balance, load) -> None:  # type: ignore[no-untyped-def]
    """Fewer stations than operations: consecutive ops share a station, about equal SAM each."""
    total = sum(ops[c].sam_min for c in codes)
    target = total / len(sts)
    i, acc = 0, 0.0
    for k, c in enumerate(codes):
        left_codes = len(codes) - k
        left_sts = len(sts) - i
        # Move on when this station is full, but never leave a station without work.
        full = acc + ops[c].sam_min / 2 > target or left_codes <= left_sts - 1
        if balance[sts[i].id] and full and i + 1 < len(sts):
            i += 1
            acc = 0.0
        balance[sts[i].id].append(c)
        load[sts[i].id] += ops[c].sam_min
        acc += ops[c].sam_min


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
