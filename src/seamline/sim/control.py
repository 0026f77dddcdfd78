"""The plant side of the closed loop: what a controller may change on the simulated floor.

The simulator is the plant; a controller (``seamline.twin``) decides from the sensor events alone.
This module is the narrow set of levers a real floor has, and nothing else:

- ``install_balance``: the line leader hands out new station → operations lists (a balance or a
  re-balance); stations take them at their next bundle;
- ``set_wip_cap``: how many bundles the cutting room feeds into the line at once;
- a dispatch rule (``Engine.dispatcher``): when a station is free and bundles wait for more than
  one of its operations, which operation it takes next (the tablet's "next task");
- an order priority (``Engine.order_priority``): which of the bundles waiting for an operation a
  station takes first — the ticket of the most urgent order, not always the oldest ticket (a
  small order's bundles overtake the pile of a big one, the tail of an order is finished first).

The hooks pass plain values (station ids, operation codes, bundle ids, counts) so the deciding
side needs no type of the simulator and never sees its ground truth.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .balance import check_balance

# The engine imports this module (for ``dispatch_pick``), so its classes are typed loosely here:
# Engine, LineSim, StationSim, Run and BundleSim of ``sim.engine``.
Engine = Any
LineSim = Any
StationSim = Any
Run = Any
BundleSim = Any

# (operation, oldest bundle waiting for it at this station, seconds it has waited, bundles waiting)
Option = tuple[str, str, float, int]


class Dispatcher(Protocol):
    """Picks the next operation for a free station: returns an index into ``options``.

    ``waiting`` is the line's WIP board: bundles waiting per operation of the running style.
    """

    def __call__(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int: ...


class OrderPriority(Protocol):
    """The urgency of an order's bundles (lower goes first; equal: the oldest ticket first)."""

    def __call__(self, order_id: str) -> float: ...


def dispatch_pick(line: LineSim, st: StationSim, run: Run, rule: Dispatcher | None) -> tuple[BundleSim, str] | None:
    """``LineSim.pick`` with a controller's rule choosing among the station's operations.

    Within an operation bundles go in cutting-ticket order (the oldest ticket first) unless the
    engine has an ``order_priority``: then the bundle of the most urgent order first, the oldest
    ticket among equals. The rule only chooses which operation, among the head bundles so found;
    it is asked only when there is a choice. Without a rule the most urgent head bundle goes
    (the oldest ticket among equals).
    """
    now = line.env.now
    prio: OrderPriority | None = line.eng.order_priority
    opts: list[Option] = []
    queues = []
    heads: list[int] = []
    for op in line.ops_of(st, run):
        q = line.ready.get((run.index, op))
        if q:
            k = 0 if prio is None else _most_urgent(q, prio)
            opts.append((op, q[k][2].bundle.id, now - q[k][1], len(q)))
            queues.append(q)
            heads.append(k)
    if not opts:
        return None
    i = 0
    if len(opts) > 1 and rule is None:

        def urgency(j: int) -> tuple[float, int]:
            seq, _t, b = queues[j][heads[j]]
            return (0.0 if prio is None else float(prio(b.bundle.order_id)), seq)

        i = min(range(len(opts)), key=urgency)
    elif len(opts) > 1 and rule is not None:
        waiting = {op: len(q) for (ri, op), q in line.ready.items() if ri == run.index and q}
        i = rule(st.id, opts, waiting)
        if not 0 <= i < len(opts):
            raise ValueError(f"dispatch rule returned {i} for {len(opts)} options at {st.id}")
    b = _pop_at(queues[i], heads[i])
    line._take(run, opts[i][0])
    return b, opts[i][0]


def _most_urgent(q: list[tuple[int, float, BundleSim]], prio: OrderPriority) -> int:
    """Index in the heap ``q`` of the bundle of the most urgent order (oldest ticket among equals)."""
    memo: dict[str, float] = {}

    def key(i: int) -> tuple[float, int]:
        oid = q[i][2].bundle.order_id
        p = memo.get(oid)
        if p is None:
            p = memo[oid] = float(prio(oid))
        return (p, q[i][0])

    return min(range(len(q)), key=key)


def _pop_at(q: list[tuple[int, float, BundleSim]], k: int) -> BundleSim:
    if k == 0:
        return heapq.heappop(q)[2]
    item = q[k]
    q[k] = q[-1]
    q.pop()
    heapq.heapify(q)
    return item[2]


def line_of(eng: Engine, line_id: str) -> LineSim:
    for line in eng.lines:
        if line.line.id == line_id:
            return line
    raise KeyError(f"no simulated line {line_id}")


def install_balance(eng: Engine, line_id: str, style_code: str, balance: Mapping[str, Sequence[str]]) -> int:
    """Give the line's current and coming runs of ``style_code`` this station → operations balance.

    The morning cover for absent people (``LineSim._plan_cover``) is dropped for those runs: the
    new balance replaces it. Idle stations are woken so they look at their new work at once; a
    bundle being sewn is finished first. Returns the number of runs changed.
    """
    line = line_of(eng, line_id)
    ids = {s.id for s in line.stations}
    style = eng.layout.styles[style_code]
    bal = check_balance(style, balance, ids)
    order = {c: i for i, c in enumerate(style.topological_order())}
    current = min((s.run_idx for s in line.stations), default=0)
    changed = 0
    for run in line.runs[current:]:
        if run.style.code != style_code:
            continue
        run.balance = _staffed(
            line, run, {sid: sorted(dict.fromkeys(c), key=order.__getitem__) for sid, c in bal.items()}
        )
        run.by_op = {}
        for sid, codes in run.balance.items():
            for c in codes:
                run.by_op.setdefault(c, []).append(line.by_id[sid])
        line.cover = {k: v for k, v in line.cover.items() if k[1] != run.index}
        for key in [k for k in line.coverers if k[0] == run.index]:
            del line.coverers[key]
        eng.truth.balances.append(
            {
                "line": line_id,
                "run": run.index,
                "style": style_code,
                "orders": run.orders,
                "stations": run.balance,
                "at": eng.now_dt().isoformat(),
            }
        )
        changed += 1
    for st in line.stations:
        if st.wake is not None and not st.wake.triggered:
            st.wake.succeed()
    return changed


def _staffed(line: LineSim, run: Run, bal: dict[str, list[str]]) -> dict[str, list[str]]:
    """A station that already changed over to a later run does not come back for this one: its
    operations here stay with the stations that had them (still on this run, since a station only
    changes over once every operation it had is taken; without this, bundles of a style being
    finished waited for ever at an operation handed to a station that had moved on)."""
    gone = {st.id for st in line.stations if st.run_idx > run.index}
    if not gone:
        return bal
    out = {sid: codes for sid, codes in bal.items() if sid not in gone}
    have = {c for codes in out.values() for c in codes}
    for sid, codes in run.balance.items():
        for c in codes:
            if c not in have and line.remaining.get((run.index, c), 0) > 0 and sid not in gone:
                out.setdefault(sid, []).append(c)
    return out


def set_wip_cap(eng: Engine, line_id: str, bundles: int) -> None:
    """Bundles allowed in the line at once (released, not yet through the final operations)."""
    line = line_of(eng, line_id)
    line.cap = max(1, int(bundles))
    ev = line._wip_event
    if line.wip < line.cap and ev is not None and not ev.triggered:
        ev.succeed()


def wip_bundles(eng: Engine, line_id: str) -> int:
    """Bundles in the line now (for the bench's measurements; controllers count from events)."""
    return line_of(eng, line_id).wip
