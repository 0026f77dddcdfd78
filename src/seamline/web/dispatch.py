"""The tablet's "next task": what this station sews after the current operation.

Planning will own dispatch; until it exposes one, this small function derives the next task from
the line's operation sequence, and it is the only place the tablet asks, so swapping it is one
import. Rule: the operations this station does (seen in today's pieces, in bulletin precedence
order) are its work content. After the current operation comes the station's next operation on the
same bundle; after its last one comes the next bundle waiting in the station's WIP, starting again
at its first operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.live import LiveState
from ..domain.model import FactoryLayout, Operation, Style


@dataclass(frozen=True, slots=True)
class Task:
    op: Operation
    bundle: str | None
    order: str | None


@dataclass(frozen=True, slots=True)
class NextTask:
    current: Task | None
    next: Task | None
    # "same_bundle": the next operation of the current bundle; "next_bundle": a waiting bundle;
    # "wait": nothing waiting yet (the next op is shown with no bundle).
    kind: str


def station_ops(live: LiveState, factory: str, station: str, style: Style, since: datetime) -> list[str]:
    """Operation codes the station did since ``since``, in the style's precedence order."""
    seen = {op for (f, s, op, h) in live.op_pieces if f == factory and s == station and h >= since}
    return [c for c in style.topological_order() if c in seen]


def next_task(layout: FactoryLayout, live: LiveState, station: str, since: datetime) -> NextTask:
    f = layout.factory.id
    st = live.stations.get((f, station))
    if st is None:
        return NextTask(None, None, "wait")
    bundle = st.bundle
    style = layout.style_of_bundle(bundle) if bundle else None
    if style is None:
        line_style = live.line_style.get((f, st.line))
        style = layout.styles.get(line_style) if line_style else None
    if style is None:
        return NextTask(None, None, "wait")
    ops = station_ops(live, f, station, style, since)
    cur_code = st.op if st.op in style.op_map() else (ops[0] if ops else None)
    if cur_code is None:
        return NextTask(None, None, "wait")
    if cur_code not in ops:
        ops = [c for c in style.topological_order() if c in {*ops, cur_code}]
    order_of = lambda b: layout.bundles[b].order_id if b in layout.bundles else None  # noqa: E731
    current = Task(style.op(cur_code), bundle, order_of(bundle) if bundle else None)
    i = ops.index(cur_code)
    if i + 1 < len(ops):
        return NextTask(current, Task(style.op(ops[i + 1]), bundle, current.order), "same_bundle")
    waiting = [b for b in st.wip if b != bundle]
    first = style.op(ops[0])
    if waiting:
        b = waiting[0]
        other = layout.style_of_bundle(b)
        if other is not None and other.code != style.code:
            # A style change: the station's first operation of the new style on its machine type.
            mt = layout.stations[station].machine_type
            cands = [other.op(c) for c in other.topological_order() if other.op(c).machine_type == mt]
            first = cands[0] if cands else other.op(other.topological_order()[0])
        return NextTask(current, Task(first, b, order_of(b)), "next_bundle")
    return NextTask(current, Task(first, None, None), "wait")
