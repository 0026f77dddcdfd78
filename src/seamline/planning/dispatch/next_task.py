"""The tablet's next task from the plan: the assignment and the WIP, never the current task again.

The tablet asks "after what I am sewing now, what do I do?". Showing the current operation again
(what the de-facto rule did for a station sewing one operation all day) tells the operator
nothing, and "no task" on a starved station leaves her waiting where a supervisor would send her
to fetch work. The rule, for one station:

1. the same bundle's next operation, if it is assigned here and ready (its predecessors are done);
2. a bundle ready for an assigned operation, other than the one in work: order priority, due
   date, then one already at this station before one to fetch, then oldest ready (FIFO). A bundle
   held by another station (or at the cutting table) is a "fetch": the tablet names where it is;
3. no assigned work ready: an operation she is able to do (same machine type, not assigned) with
   bundles ready, the one nearest the end of the line (the least standard work left after it,
   ``to_end_min``), then the one with the most pieces waiting (where the line piles up) — "take".
   Nearest the end first because a helper there turns waiting work into shipped garments at once
   and takes it out of the line (Little's law: less WIP, shorter flow time); upstream her pieces
   join the queue in front of the next station. Issue #21: with "most pieces waiting" alone,
   the demo's jeans line kept its two finished-but-for-inspection bundles waiting 33 minutes while
   idle manual stations helped at an earlier manual operation with a bigger pile;
4. nothing anywhere: wait, naming the assigned operation and the upstream station that feeds it.

Pure and cheap: one pass over the ready bundles of the station's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from seamline.domain.model import Style

_FAR = date.max

KINDS = ("same_bundle", "next_bundle", "fetch", "other_op", "wait")


@dataclass(frozen=True, slots=True)
class ReadyBundle:
    """A bundle whose operation ``op_code`` can be sewn now (its predecessors are done)."""

    bundle_id: str
    op_code: str
    qty: int  # pieces still to sew at this operation
    ready_since: datetime
    holder: str | None  # the station holding it (its last one); None: not started (cutting table)
    due: date | None = None
    priority: int = 0


@dataclass(frozen=True)
class StationPlan:
    station: str
    current_op: str | None  # the operation in work (None: nothing sewn yet)
    current_bundle: str | None
    assigned: Mapping[str, float]  # op code -> share from the line's assignment
    able: frozenset[str]  # op codes the station can also do (its machine type)
    # op code -> the stations assigned its predecessors (where work for it comes from)
    upstream: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # op code -> standard minutes left after it to the end of the line (``sam_to_end``); rule 3
    # takes the operation nearest the end first (empty: most pieces waiting only)
    to_end_min: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NextChoice:
    kind: str  # one of KINDS
    op_code: str | None
    bundle_id: str | None = None
    holder: str | None = None  # fetch: where the bundle is (None with a bundle: cutting table)
    upstream: str | None = None  # wait: the station that feeds the assigned operation
    pieces_waiting: int = 0  # other_op: pieces ready for that operation on the line


def sam_to_end(style: Style) -> dict[str, float]:
    """Each operation's standard minutes still to sew after it, on the longest path to a final
    operation: 0 at the last operation, larger further up the line."""
    succ = style.successors()
    ops = style.op_map()
    out: dict[str, float] = {}
    for code in reversed(style.topological_order()):
        out[code] = max((ops[s].sam_min + out[s] for s in succ.get(code, [])), default=0.0)
    return out


def _key(b: ReadyBundle, station: str) -> tuple[int, date, int, datetime, str]:
    return (-b.priority, b.due or _FAR, 0 if b.holder == station else 1, b.ready_since, b.bundle_id)


# The order bundles are offered in (priority, due date, here before fetched, oldest ready): the
# tablet's trial bundle is chosen by it too (``service_layer.line_direction.choose_trial``).
ready_key = _key


def choose_next(plan: StationPlan, ready: tuple[ReadyBundle, ...] | list[ReadyBundle]) -> NextChoice:
    """The next task of one station (see the module text); never the (bundle, op) in work."""
    current = (plan.current_bundle, plan.current_op)
    # 1. the same bundle's next assigned operation
    same = [
        b
        for b in ready
        if b.bundle_id == plan.current_bundle and b.op_code in plan.assigned and b.op_code != plan.current_op
    ]
    if same:
        b = min(same, key=lambda x: _key(x, plan.station))
        return NextChoice("same_bundle", b.op_code, b.bundle_id, plan.station)
    # 2. another bundle for an assigned operation
    best: ReadyBundle | None = None
    best_k: tuple[int, date, int, datetime, str] | None = None
    other_pcs: dict[str, int] = {}
    for b in ready:
        if (b.bundle_id, b.op_code) == current or b.bundle_id == plan.current_bundle:
            continue
        if b.op_code in plan.assigned:
            k = _key(b, plan.station)
            if best_k is None or k < best_k:
                best, best_k = b, k
        elif b.op_code in plan.able:
            other_pcs[b.op_code] = other_pcs.get(b.op_code, 0) + b.qty
    if best is not None:
        kind = "next_bundle" if best.holder == plan.station else "fetch"
        return NextChoice(kind, best.op_code, best.bundle_id, best.holder)
    # 3. work she can take on another operation
    if other_pcs:
        take = min(other_pcs, key=lambda c: (plan.to_end_min.get(c, 0.0), -other_pcs[c], c))
        pick = min((b for b in ready if b.op_code == take), key=lambda x: _key(x, plan.station))
        return NextChoice("other_op", take, pick.bundle_id, pick.holder, pieces_waiting=other_pcs[take])
    # 4. wait for the assigned operation, naming the station that feeds it
    op = max(plan.assigned, key=lambda c: (plan.assigned[c], c)) if plan.assigned else plan.current_op
    ups = plan.upstream.get(op or "", ())
    return NextChoice("wait", op, None, None, upstream=ups[0] if ups else None)
