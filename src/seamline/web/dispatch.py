"""The tablet's "next task": what this station sews after the current operation.

Planning owns the rule (``seamline.planning.dispatch``: the balance's assigned work first, work
that feeds a starving bottleneck ahead of it, then priority, due date and FIFO; fallback work the
station is able to do). This module only builds the snapshot that rule decides from, out of live
state, and it is the one place the tablet asks, so changing either side stays a local edit.

The snapshot, per station of the line:
- assigned: the operations the station did today, with its share of each operation's pieces
  (the de-facto balance; the planner's balance replaces it once plans are stored);
- able: the style's operations on the station's machine type;
- queue: for the bundle in work, the station's next operation on it; for every other bundle at the
  station, the station's first operation — each ready since the bundle arrived at the station.
Bottleneck operations are not computed per tablet (it would cost a whole line view every second
per tablet), so "feeds the bottleneck" does not reorder here yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from ..domain.live import LiveState, StationLive
from ..domain.model import FactoryLayout, Operation, Style
from ..planning.dispatch.data import LineSnapshot, QueuedBundle, StationState
from ..planning.dispatch.rule import dispatch

_FAR = datetime.max.replace(tzinfo=UTC)


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
    # "wait": nothing waiting yet (the station's first operation is shown with no bundle).
    kind: str


def _line_style(layout: FactoryLayout, live: LiveState, st: StationLive) -> Style | None:
    style = layout.style_of_bundle(st.bundle) if st.bundle else None
    if style is None:
        code = live.line_style.get((layout.factory.id, st.line))
        style = layout.styles.get(code) if code else None
    return style


def _shares(live: LiveState, factory: str, stations: set[str], since: datetime) -> dict[str, dict[str, float]]:
    """station -> op -> share of the op's pieces today made at that station."""
    per_op: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (s, op, _h), n in live.op_pieces_between(factory, since, _FAR).items():
        if s in stations:
            per_op[op][s] += n
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for op, by_st in per_op.items():
        total = sum(by_st.values())
        for s, n in by_st.items():
            out[s][op] = n / total
    return out


def _queue(layout: FactoryLayout, st: StationLive, style: Style, own_ops: list[str]) -> tuple[QueuedBundle, ...]:
    out: list[QueuedBundle] = []
    for b, since in st.wip.items():
        bundle = layout.bundles.get(b)
        order = layout.orders.get(bundle.order_id) if bundle else None
        bstyle = layout.style_of_bundle(b) or style
        ops = own_ops if bstyle.code == style.code else []
        if not ops:  # another style (a changeover): its first operation on this machine type
            mt = layout.stations[st.station].machine_type
            ops = [c for c in bstyle.topological_order() if bstyle.op(c).machine_type == mt][:1]
        if b == st.bundle and st.op in ops:
            i = ops.index(st.op)
            if i + 1 >= len(ops):
                continue  # the station's last operation on this bundle is the one in work
            op = ops[i + 1]
        elif ops:
            op = ops[0]
        else:
            continue
        out.append(
            QueuedBundle(
                b,
                op,
                bundle.qty if bundle else 0,
                since,
                order.due if order else None,
                order.priority if order else 0,
            )
        )
    return tuple(out)


def next_task(layout: FactoryLayout, live: LiveState, station: str, since: datetime) -> NextTask:
    f = layout.factory.id
    st = live.stations.get((f, station))
    if st is None:
        return NextTask(None, None, "wait")
    style = _line_style(layout, live, st)
    if style is None:
        return NextTask(None, None, "wait")
    line_stations = {s.id for s in layout.stations.values() if s.line_id == st.line}
    shares = _shares(live, f, line_stations, since)
    order_ix = {c: i for i, c in enumerate(style.topological_order())}
    own = sorted((c for c in shares.get(station, {}) if c in order_ix), key=order_ix.__getitem__)
    cur_code = st.op if st.op in order_ix else (own[0] if own else None)
    if cur_code is None:
        return NextTask(None, None, "wait")
    if cur_code not in own:
        own = sorted({*own, cur_code}, key=order_ix.__getitem__)
    mt = layout.stations[station].machine_type
    able = frozenset(c for c in order_ix if style.op(c).machine_type == mt)
    queue = _queue(layout, st, style, own)
    wip_pcs: dict[str, int] = defaultdict(int)
    for q in queue:
        wip_pcs[q.op_code] += q.qty
    snap = LineSnapshot(
        stations=(StationState(station, st.worker or "", dict(shares.get(station, {cur_code: 1.0})), able, queue),),
        wip_pcs=wip_pcs,
        successors={c: tuple(v) for c, v in style.successors().items()},
        as_of=live.as_of(f),
    )
    decision = dispatch(snap)[station]

    def order_of(b: str | None) -> str | None:
        return layout.bundles[b].order_id if b in layout.bundles else None

    current = Task(style.op(cur_code), st.bundle, order_of(st.bundle))
    nxt = decision.this
    if nxt is None:
        return NextTask(current, Task(style.op(own[0]), None, None), "wait")
    nstyle = layout.style_of_bundle(nxt.bundle_id) or style
    kind = "same_bundle" if nxt.bundle_id == st.bundle else "next_bundle"
    return NextTask(current, Task(nstyle.op(nxt.op_code), nxt.bundle_id, order_of(nxt.bundle_id)), kind)
