"""The dispatch rule: which bundle and operation each station does next, and the one after.

Per station, among the bundles queued there:
1. work the current balance assigns to this worker comes first (the plan is the plan);
2. among it, a bundle whose next operation feeds a starving bottleneck (successor WIP below the
   low-water mark) jumps ahead — an idle bottleneck is lost output for the whole line;
3. then higher order priority, earliest due date, oldest ready time (FIFO keeps WIP age low);
4. if nothing assigned is queued, work she is able to do (fallback) by the same order.
Two smallest keys per station (a linear scan, no sort) give "this" and "next": O(queue) per station.
"""

from __future__ import annotations

from datetime import date, datetime

from seamline.planning.dispatch.data import Decision, LineSnapshot, QueuedBundle, StationState, Task

_FAR = date.max
# How a station ranks its queue: (tier, -priority, due, ready since, bundle id), smallest first.
_Key = tuple[int, int, date, datetime, str]
_REASON = ("feeds-bottleneck", "assigned", "fallback")


def starving_feeders(snap: LineSnapshot) -> frozenset[str]:
    """Operations whose output feeds a bottleneck that is short of work."""
    starving = {op for op in snap.bottleneck_ops if snap.wip_pcs.get(op, 0) < snap.low_water_pcs}
    if not starving:
        return frozenset()
    return frozenset(op for op, succ in snap.successors.items() if any(s in starving for s in succ))


def decide_station(st: StationState, feeders: frozenset[str]) -> Decision:
    if st.badge is None or not st.queue:
        return Decision(st.station_id, None, None)
    # Keys are plain tuples compared natively: (tier, -priority, due, ready_since, bundle id).
    # This loop is the whole cost of dispatch, so it avoids calls and allocations where it can.
    best = second = None
    best_b = second_b = None
    assigned = st.assigned
    able = st.able
    for b in st.queue:
        op = b.op_code
        if op in assigned:
            tier = 0 if op in feeders else 1
        elif op in able:
            tier = 2
        else:
            continue
        if second is not None and tier > second[0]:
            continue
        k = (tier, -b.priority, b.due or _FAR, b.ready_since, b.bundle_id)
        if best is None or k < best:
            second, second_b, best, best_b = best, best_b, k, b
        elif second is None or k < second:
            second, second_b = k, b

    def task(k: _Key | None, b: QueuedBundle | None) -> Task | None:
        if k is None or b is None:
            return None
        return Task(b.bundle_id, b.op_code, b.qty, _REASON[k[0]])

    return Decision(st.station_id, task(best, best_b), task(second, second_b))


def dispatch(snap: LineSnapshot) -> dict[str, Decision]:
    """This and next task for every station of the line (pure: same snapshot, same answer)."""
    feeders = starving_feeders(snap)
    return {st.station_id: decide_station(st, feeders) for st in snap.stations}
