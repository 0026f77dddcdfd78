"""Work in progress already on a line when the simulation starts.

A real sewing line never starts empty: yesterday's bundles sit along it, some nearly finished,
some just cut. An empty line needs hours before the first garment leaves it (a 12-piece jeans
bundle takes about 13 minutes of critical-path SAM × 12 pieces ÷ efficiency, roughly four hours,
to cross the line), so a demo started on an empty line shows idle stations and no output for
most of a morning. ``preloaded`` spreads the oldest bundles of a line's first run evenly along the
line instead.

Which operations of a bundle are done is precedence-closed: a bundle that is a share ``f`` of
the way through has done every operation that ends, on the critical-path schedule (each operation
as early as its predecessors allow, at its SAM), within ``f`` × the critical-path length. If an
operation is done so is each of its predecessors, since a successor cannot end before they do.
"""

from __future__ import annotations

from collections.abc import Iterable

from seamline.domain.model import Style


def earliest_ends(style: Style) -> dict[str, float]:
    """Each operation's end (SAM minutes) when every operation starts as soon as its predecessors end."""
    ops = style.op_map()
    end: dict[str, float] = {}
    for code in style.topological_order():
        op = ops[code]
        end[code] = max((end[p] for p in op.predecessors), default=0.0) + op.sam_min
    return end


def done_at(style: Style, share: float) -> frozenset[str]:
    """Operations done on a bundle ``share`` (0..1) of the way through the line; never all finals."""
    end = earliest_ends(style)
    length = max(end.values(), default=0.0)
    cut = min(max(share, 0.0), 1.0) * length
    done = {c for c, e in end.items() if e <= cut + 1e-9}
    if set(style.final_operations()) <= done:  # a finished bundle is no longer work in progress
        done -= set(style.final_operations())
    return frozenset(done)


def preload_shares(n: int) -> list[float]:
    """How far along each of ``n`` bundles is, oldest first: evenly spread over (0, 1)."""
    return [1.0 - (k + 0.5) / n for k in range(n)]


def with_predecessors(style: Style, done: Iterable[str]) -> frozenset[str]:
    """``done`` (unknown codes dropped) with every predecessor of a done operation: a bundle's
    stored pieces may miss a few of an earlier operation, but it was sewn before the later one."""
    ops = style.op_map()
    out: set[str] = set()
    todo = [c for c in done if c in ops]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(ops[c].predecessors)
    return frozenset(out)
