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

from datetime import date

from seamline.planning.dispatch.data import Decision, LineSnapshot, QueuedBundle, StationState, Task

_FAR = date.max.toordinal()


def starving_feeders(snap: LineSnapshot) -> frozenset[str]:
    """Operations whose output feeds a bottleneck that is short of work."""
    starving = {op for op in snap.bottleneck_ops if snap.wip_pcs.get(op, 0) < snap.low_water_pcs}
    if not starving:
        return frozenset()
    return frozenset(op for op, succ in snap.successors.items() if any(s in starving for s in succ))


def _key(b: QueuedBundle, tier: int) -> tuple[int, int, int, float, str]:
    due = b.due.toordinal() if b.due is not None else _FAR
    return (tier, -b.priority, due, b.ready_since.timestamp(), b.bundle_id)


def decide_station(st: StationState, feeders: frozenset[str]) -> Decision:
    if st.badge is None or not st.queue:
        return Decision(st.station_id, None, None)
    best: tuple[tuple[int, int, int, float, str], QueuedBundle, str] | None = None
    second: tuple[tuple[int, int, int, float, str], QueuedBundle, str] | None = None
    assigned = st.assigned
    able = st.able
    for b in st.queue:
        op = b.op_code
        if op in assigned:
            tier, reason = (0, "feeds-bottleneck") if op in feeders else (1, "assigned")
        elif op in able:
            tier, reason = 2, "fallback"
        else:
            continue
        k = _key(b, tier)
        if best is None or k < best[0]:
            second, best = best, (k, b, reason)
        elif second is None or k < second[0]:
            second = (k, b, reason)

    def task(x: tuple[tuple[int, int, int, float, str], QueuedBundle, str] | None) -> Task | None:
        return None if x is None else Task(x[1].bundle_id, x[1].op_code, x[1].qty, x[2])

    return Decision(st.station_id, task(best), task(second))


def dispatch(snap: LineSnapshot) -> dict[str, Decision]:
    """This and next task for every station of the line (pure: same snapshot, same answer)."""
    feeders = starving_feeders(snap)
    return {st.station_id: decide_station(st, feeders) for st in snap.stations}
