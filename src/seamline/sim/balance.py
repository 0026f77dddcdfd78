"""A simple initial line balance: which stations do which operations of a style.

Real balancing is the planning engine's job; the simulator only needs something plausible and
general so any bulletin runs on any line. Each operation goes to stations of its machine type
(or a close substitute) in proportion to its SAM share; when a type has fewer stations than
operations, neighbouring operations (in precedence order) share a station.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from seamline.domain.machines import SUBSTITUTES
from seamline.domain.model import DomainError, Station, Style

__all__ = ["SUBSTITUTES", "Balance", "check_balance", "initial_balance"]

Balance = dict[str, list[str]]

# Minutes of work on a substitute machine per standard minute: an operator seldom has the grade on
# the bulletin's machine type there (the simulator draws their speed from that grade, median 50 %
# of standard at grade 0 against 72-98 % at the usual grades 2-4), and the machine lacks the
# folder or attachment. Counting a substitute as fast as the right machine loaded, e.g., a jeans
# waistband onto four lockstitch stations that then sewed it at half speed and starved the line.
SUBSTITUTE_SLOWDOWN = 1.5


def _cost(op_mt: str, st: Station) -> float:
    return 1.0 if st.machine_type == op_mt else SUBSTITUTE_SLOWDOWN


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
        picked = [st for st, _ in ranked[: min(want, len(ranked))]]
        for st in picked:
            load[st.id] += op.sam_min / len(picked) * _cost(op.machine_type, st)
        chosen[op.code] = [st.id for st in picked]
    _relieve(style, sts, chosen)
    _fill_idle(style, sts, chosen)
    balance: Balance = {}
    for code in style.topological_order():
        for sid in chosen[code]:
            balance.setdefault(sid, []).append(code)
    return {st.id: balance[st.id] for st in sts if st.id in balance}


def _eligible(op_mt: str, sts: Sequence[Station]) -> list[Station]:
    subs = SUBSTITUTES.get(op_mt, ())
    fit = [st for st in sts if st.machine_type == op_mt or st.machine_type in subs]
    return fit or list(sts)


def _relieve(style: Style, sts: Sequence[Station], chosen: dict[str, list[str]], rounds: int = 300) -> None:
    """Local search: give the bottleneck station's operations a helper station while that lowers
    the bottleneck. Lines rarely have the machine mix a bulletin wants; sharing is how they cope."""
    ops = style.op_map()
    by_id = {st.id: st for st in sts}

    def cost(code: str, sid: str) -> float:
        return _cost(ops[code].machine_type, by_id[sid])

    def loads() -> dict[str, float]:
        out = {st.id: 0.0 for st in sts}
        for code, sids in chosen.items():
            for sid in sids:
                out[sid] += ops[code].sam_min / len(sids) * cost(code, sid)
        return out

    for _ in range(rounds):
        load = loads()
        worst = max(load, key=lambda sid: (load[sid], sid))
        top = load[worst]
        best: tuple[float, str, str] | None = None
        for code in sorted((c for c, sids in chosen.items() if worst in sids), key=lambda c: -ops[c].sam_min):
            sids = chosen[code]
            share_old = ops[code].sam_min / len(sids)
            share_new = ops[code].sam_min / (len(sids) + 1)
            for st in _eligible(ops[code].machine_type, sts):
                if st.id in sids:
                    continue
                after = max(
                    load[st.id] + share_new * cost(code, st.id),
                    *(load[sid] + (share_new - share_old) * cost(code, sid) for sid in sids),
                )
                if after < top - 1e-9 and (best is None or after < best[0]):
                    best = (after, code, st.id)
        if best is None:
            return
        chosen[best[1]].append(best[2])


def _fill_idle(style: Style, sts: Sequence[Station], chosen: dict[str, list[str]]) -> None:
    """A station left without work takes a share of the heaviest operation its machine can do.

    ``_relieve`` only adds a helper where that lowers the bottleneck on paper (equal workers);
    a station it leaves empty then waits all day although its operator could share an operation
    of their machine type, which evens out the unequal speeds of real operators (issue #21: a
    polo on a tee line left five stations with nothing to do)."""
    ops = style.op_map()
    for st in sts:
        if any(st.id in sids for sids in chosen.values()):
            continue
        fit = [
            c
            for c, sids in chosen.items()
            if st.machine_type == ops[c].machine_type or st.machine_type in SUBSTITUTES.get(ops[c].machine_type, ())
        ]
        if not fit:
            continue
        # Own machine type before a substitute, then the largest share per station.
        best = max(fit, key=lambda c: (st.machine_type == ops[c].machine_type, ops[c].sam_min / len(chosen[c]), c))
        chosen[best].append(st.id)


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
