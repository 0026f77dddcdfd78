"""One move that helps the line most: what a supervisor can do in one tap.

A full re-balance moves many people; on the floor a supervisor moves one operator at a time. So
the suggestion is the single move — one worker from her operation to another one she can do —
whose plan, scored by the balance engine (``evaluate_allocation``, on the learned efficiencies of
the ``BalanceProblem``), gives the most pieces an hour. Every operation's pieces are split among
its workers in proportion to their efficiency, before the move and after it (each then spends the
same time on it per garment, the best split of one operation, and what a pull line does by itself:
bundles go to whoever is free), so the gain is the move's, not a re-split. The gain is the plan's pieces an
hour after the move minus before it: the balance's own figure, so it is as good as the
efficiencies it is computed on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from seamline.planning.balance.data import BalancePlan, BalanceProblem
from seamline.planning.balance.solver import evaluate_allocation

MIN_GAIN_PPH = 2.0  # below this a move is not worth the operator's walk

Stations = list[tuple[str, dict[str, float]]]


@dataclass(frozen=True)
class Move:
    badge: str
    from_op: str | None  # None: she had no operation yet
    to_op: str
    before: BalancePlan
    after: BalancePlan
    stations: tuple[tuple[str, Mapping[str, float]], ...]  # the allocation after the move

    @property
    def gain_pph(self) -> float:
        return self.after.pieces_per_hour - self.before.pieces_per_hour


def _resplit(p: BalanceProblem, stations: Stations, op: str) -> None:
    """Re-split ``op`` among the stations that carry it, in proportion to their speed on it: her
    efficiency, divided by the number of operations she carries (her time is shared among them)."""
    wmap = {w.badge: w for w in p.workers}
    o = p.style.op(op)
    carriers = [
        (i, p.efficiency_of(wmap[b], o) / max(1, sum(1 for v in sh.values() if v > 0)))
        for i, (b, sh) in enumerate(stations)
        if sh.get(op, 0) > 0
    ]
    total = sum(e for _, e in carriers)
    if total <= 0:
        return
    for i, e in carriers:
        stations[i][1][op] = e / total


def apply_move(p: BalanceProblem, stations: Stations, badge: str, to_op: str) -> Stations | None:
    """The allocation with ``badge`` moved onto ``to_op`` (dropping her other operations); None if
    that leaves one of her operations with nobody."""
    out: Stations = [(b, dict(sh)) for b, sh in stations]
    if badge not in {b for b, _ in out}:
        out.append((badge, {}))
    i = next(k for k, (b, _) in enumerate(out) if b == badge)
    left = [c for c in out[i][1] if c != to_op]
    for c in left:
        if not any(sh.get(c, 0) > 0 for k, (_, sh) in enumerate(out) if k != i):
            return None
    out[i] = (badge, {to_op: 1.0})
    for c in (*left, to_op):
        _resplit(p, out, c)
    return out


def best_move(
    p: BalanceProblem,
    stations: Stations,
    min_gain_pph: float = MIN_GAIN_PPH,
    workers: frozenset[str] | None = None,
    machine_of: Mapping[str, str] | None = None,
    to_ops: frozenset[str] | None = None,
) -> Move | None:
    """The single move (worker → another operation she can do) with the most pieces an hour gained.

    ``stations``: the current allocation, (badge, {op: share}) in line order; ``workers``: only
    these may move (default: everyone in the problem); ``machine_of``: badge -> the machine type of
    the station she sits at (she stays at it); ``to_ops``: the operations one may move onto
    (default: all). None when no move gains ``min_gain_pph``.
    """
    # Who does what is the allocation; how an operation's pieces split among its workers follows
    # their speed (bundles go to whoever is free): the same split before and after, so the gain is
    # the move's and not a re-split anyone could make without moving.
    stations = [(b, dict(sh)) for b, sh in stations]
    for c in {c for _, sh in stations for c, v in sh.items() if v > 0}:
        _resplit(p, stations, c)
    before = evaluate_allocation(p, stations)
    if before.cycle_min <= 0:
        return None
    elig = p.eligible()
    best: Move | None = None
    current = {b: sh for b, sh in stations}
    for w in p.workers:
        if workers is not None and w.badge not in workers:
            continue
        mine = {c for c, s in current.get(w.badge, {}).items() if s > 0}
        seat = (machine_of or {}).get(w.badge)
        machine = {seat} if seat else {p.style.op(c).machine_type for c in mine} - set(p.flexible_types)
        for o in p.style.operations:
            if o.code in mine or (w.badge, o.code) not in elig or (to_ops is not None and o.code not in to_ops):
                continue
            if machine and o.machine_type not in machine and o.machine_type not in p.flexible_types:
                continue  # she would have to change machine: not a one-tap move
            new = apply_move(p, stations, w.badge, o.code)
            if new is None:
                continue
            after = evaluate_allocation(p, new)
            gain = after.pieces_per_hour - before.pieces_per_hour
            if gain >= min_gain_pph and (best is None or gain > best.gain_pph + 1e-9):
                frm = max(mine, key=lambda c: current[w.badge][c]) if mine else None
                best = Move(w.badge, frm, o.code, before, after, tuple((b, dict(sh)) for b, sh in new))
    return best
