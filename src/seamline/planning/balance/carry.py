"""The floor's carry-on, as the balance must see it.

A station is handed a LIST of operations, not shares. When it finishes an operation on a bundle
and that was the last missing predecessor of a successor on its own list, it carries the bundle
on to that successor (a progressive bundle system: the operator does not put down a bundle she
can go on with). So a station's share of a successor ``s`` is at least its share of ``s``'s usual
last predecessor ``p``: a plan that gives a station a sliver of ``s`` beside its share of ``p``
is, on the floor, a plan that gives it all of its ``p`` bundles' ``s`` too. Measured on the twin:
such a sliver turned a plan worth 105 garments/h by its shares into 40 on the floor
(docs/closed-loop.md, "What the floor receives: lists, not shares").

A plan is *carry-consistent* when no station holds ``0 < x[w,s] < x[w,p]``. Then the shares the
balance computed are shares the floor can keep to.
"""

from __future__ import annotations

from collections.abc import Mapping

from seamline.domain.model import Style


def last_predecessor(style: Style) -> dict[str, str]:
    """op → the predecessor that is usually finished last on a bundle: the one at the end of the
    longest chain of standard minutes from the cut (for an operation with one predecessor, it)."""
    longest: dict[str, float] = {}
    out: dict[str, str] = {}
    for code in style.topological_order():
        op = style.op(code)
        if op.predecessors:
            out[code] = max(op.predecessors, key=lambda p: (longest[p], p))
        longest[code] = op.sam_min + max((longest[p] for p in op.predecessors), default=0.0)
    return out


def carry_violations(
    shares: Mapping[tuple[str, str], float],
    last: Mapping[str, str],
    *,
    floor: float = 0.0,
    slack: float = 1e-7,
) -> list[tuple[str, str, str]]:
    """(worker, successor, predecessor) for every station whose share of a successor is above
    ``floor`` (so the successor is on its list) but below its share of the successor's usual last
    predecessor by more than ``slack``: on the floor it would sew the successor on every bundle it
    finishes the predecessor on. Sorted by the gap, largest first (the worst sliver is fixed
    first)."""
    out: list[tuple[float, str, str, str]] = []
    for (b, s), v in shares.items():
        p = last.get(s)
        if p is None or v <= floor:
            continue
        vp = shares.get((b, p), 0.0)
        if v < vp - slack:
            out.append((vp - v, b, s, p))
    out.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [(b, s, p) for _gap, b, s, p in out]
