"""Order progress as a read model: finished garments and earned minutes per order and line.

Live state counts per worker/station/line/hour, never per order; the planner and the overview need
"how far is this order". This projection is fed every accepted event after live state, like the
feature projections, and rebuilt from the event store when the web app starts.

Retention (issue #19): memory holds the open orders and the ones touched within the window. An
order that is finished (every garment made and every standard minute earned) and that nothing has
touched since before the window's start leaves memory at a checkpoint: ``retain`` hands its figures
to the database (``finished_orders``, domain/order_rollup.py), where the pages that list past
orders read them (``finished``). A page's view copies only what memory holds, so its cost follows
the open business, not the years of orders behind it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from ..adapters.event_store import EventStore
from ..adapters.order_state_store import OrderStateStore
from ..domain.events import Piece, SensorEvent
from ..domain.model import FactoryLayout, Operation, Style
from ..domain.order_rollup import FinishedOrderRow
from ..domain.order_state import OVER
from ..service_layer.ingest import IngestPipeline
from ..service_layer.order_states import OrderStates


@dataclass(frozen=True, slots=True)
class LineOrder:
    """Immutable: a piece replaces the entry, so a view shares the entries it copied (copy on write)."""

    first_ts: datetime
    last_ts: datetime
    earned_min: float = 0.0


class StatesSource(Protocol):
    """Where the planner's order states are read (``service_layer.order_states.OrderStates``)."""

    generation: int

    def current(self, factory: str) -> Mapping[str, str]: ...

    def poll(self, force: bool = False) -> bool: ...


class FinishedOrders(Protocol):
    """Where finished orders out of memory are read back (``adapters.history.HistoryStore``)."""

    def finished_orders(self, factory: str) -> Mapping[str, FinishedOrderRow]: ...


_NONE: Mapping[str, FinishedOrderRow] = {}
_NO_STATES: Mapping[str, str] = {}


class OrderProgress:
    """Pieces at final operations (finished garments) and earned standard minutes per order.

    Retention: the open orders and the orders touched within the window (see the module text);
    ``ran`` (the lines that sewed each style) is bounded by styles × lines.
    """

    name = "web.order_progress"

    def __init__(self, layouts: dict[str, FactoryLayout]) -> None:
        self.layouts = layouts
        self.done: dict[tuple[str, str], int] = defaultdict(int)  # (factory, order) -> garments
        self.earned_min: dict[tuple[str, str], float] = defaultdict(float)
        self.by_line: dict[tuple[str, str, str], LineOrder] = {}  # (factory, line, order)
        # (factory, style, line): lines that ever sewed the style, orders in memory or not (the
        # plan puts a new order of a style on a line that knows it).
        self.ran: set[tuple[str, str, str]] = set()
        self.history: FinishedOrders | None = None
        self.version = 0  # bumped by every change: a view is copied again only after one
        self._view: tuple[tuple[int, int, int], OrderProgress] | None = None
        # A view's finished orders, read when it was taken (under the ingest lock, as the orders
        # in memory were): a checkpoint moving an order to the table after the view was taken
        # neither counts it twice nor loses it. The table is read once a checkpoint (cached).
        self._pinned: dict[str, Mapping[str, FinishedOrderRow]] | None = None
        # The planner's order states (hold / cancelled / closed): bound at start-up, pinned in a view.
        self.states: StatesSource | None = None
        self._pinned_states: dict[str, Mapping[str, str]] | None = None
        # Ids read by the start-up replay that ingest may apply once more (see attach()).
        self._replayed_tail: set[str] = set()
        self._styles: dict[tuple[str, str], tuple[Style, dict[str, Operation], frozenset[str]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["history"] = None  # the database is re-attached after a checkpoint is loaded
        state["_view"] = None
        state["_pinned"] = None
        state["states"] = None  # bound again at start-up (attach)
        state["_pinned_states"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        """Checkpoints written before the style cache, ``ran`` or retention existed load too."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_styles", {})
        self.__dict__.setdefault("history", None)
        self.__dict__.setdefault("version", 0)
        self.__dict__.setdefault("_view", None)
        self.__dict__.setdefault("_pinned", None)
        self.__dict__.setdefault("states", None)
        self.__dict__.setdefault("_pinned_states", None)
        if "ran" not in self.__dict__:
            self.ran = set()
            for f, lid, oid in self.by_line:
                order = self.layouts[f].orders.get(oid) if f in self.layouts else None
                if order is not None:
                    self.ran.add((f, order.style_code, lid))

    def bind_history(self, history: FinishedOrders) -> None:
        """Where finished orders are read back from (set at start-up, after a checkpoint is loaded)."""
        self.history = history

    def bind_states(self, states: StatesSource) -> None:
        """Where the planner's order states come from (set at start-up)."""
        self.states = states

    def order_states(self, factory: str) -> Mapping[str, str]:
        """The factory's orders that are not open (order id -> hold / cancelled / closed)."""
        pinned = self._pinned_states
        if pinned is not None:
            return pinned.get(factory, _NO_STATES)
        st = self.states
        return st.current(factory) if st is not None else _NO_STATES

    def poll_states(self) -> None:
        """Read order states changed by another process (the CLI); cheap, at most once a second."""
        if self.states is not None:
            self.states.poll()

    def finished(self, factory: str) -> Mapping[str, FinishedOrderRow]:
        """The factory's orders that left memory finished (order id -> figures)."""
        pinned = self._pinned
        if pinned is not None:
            return pinned.get(factory, _NONE)
        h = self.history
        return h.finished_orders(factory) if h is not None else _NONE

    def done_of(self, factory: str) -> dict[str, int]:
        """Garments finished per order, in memory or finished and out of it."""
        out = {oid: r.done for oid, r in self.finished(factory).items()}
        for (pf, oid), n in self.done.items():
            if pf == factory:
                out[oid] = out.get(oid, 0) + n
        return out

    def frozen_view(self) -> OrderProgress:
        """A copy for a page computed outside the ingest lock: the orders in memory only (the
        open ones), entries shared (they are immutable); the same copy again until something
        changed (pages only read a view)."""
        # a checkpoint (the finished table) or a planner's order state changes a view too
        key = (self.version, int(getattr(self.history, "generation", 0)), int(getattr(self.states, "generation", 0)))
        last = self._view
        if last is not None and last[0] == key:
            return last[1]
        v = OrderProgress.__new__(OrderProgress)
        v.layouts = self.layouts
        v.done = dict(self.done)  # plain dicts: a shared view must not grow on a read
        v.earned_min = dict(self.earned_min)
        v.by_line = dict(self.by_line)
        v.ran = set(self.ran)
        v.history = self.history
        v._replayed_tail = set()
        v._styles = self._styles
        v.version, v._view = self.version, None
        v._pinned = {f: self.finished(f) for f in self.layouts} if self.history is not None else None
        v.states = self.states
        v._pinned_states = {f: self.order_states(f) for f in self.layouts}
        self._view = (key, v)
        return v

    def apply(self, ev: SensorEvent) -> None:
        if not isinstance(ev, Piece):
            return
        if self._replayed_tail and ev.id in self._replayed_tail:
            self._replayed_tail.discard(ev.id)
            return
        lay = self.layouts.get(ev.factory or "")
        if lay is None:
            return
        bundle = lay.bundles.get(ev.bundle)
        station = lay.stations.get(ev.station or "")
        if bundle is None or station is None:
            return
        order = lay.orders.get(bundle.order_id)
        style = lay.styles.get(order.style_code) if order else None
        if order is None or style is None:
            return
        idx = self._styles.get((lay.factory.id, style.code))
        if idx is None or idx[0] is not style:  # once per style (and again if master data changes)
            finals = frozenset(o.code for o in style.operations) - {p for o in style.operations for p in o.predecessors}
            idx = self._styles[(lay.factory.id, style.code)] = (style, style.op_map(), finals)
        op = idx[1].get(ev.op)
        if op is None:
            return
        key = (lay.factory.id, order.id)
        self.version += 1
        earned = ev.qty * op.sam_min
        self.earned_min[key] += earned
        if ev.op in idx[2]:
            self.done[key] += ev.qty
        lk = (lay.factory.id, station.line_id, order.id)
        lo = self.by_line.get(lk)
        if lo is None:
            self.by_line[lk] = LineOrder(ev.ts, ev.ts, earned)
            self.ran.add((lay.factory.id, order.style_code, station.line_id))
        else:
            self.by_line[lk] = LineOrder(min(lo.first_ts, ev.ts), max(lo.last_ts, ev.ts), lo.earned_min + earned)

    def retain(self, cutoff: datetime) -> list[FinishedOrderRow]:
        """Let go of the orders finished before ``cutoff`` and hand their figures to the database.

        Finished means finished for every reader: every garment made (the board) and every
        standard minute earned (the overview's plan), so neither would plan it again; or over by
        the planner's word (cancelled, closed short): no reader plans those either. An order
        still sewn (a rework) within the window stays, whatever its count.
        """
        lines: dict[tuple[str, str], list[tuple[str, LineOrder]]] = defaultdict(list)
        for (f, lid, oid), lo in self.by_line.items():
            lines[(f, oid)].append((lid, lo))
        out: list[FinishedOrderRow] = []
        for key, los in lines.items():
            f, oid = key
            lay = self.layouts.get(f)
            order = lay.orders.get(oid) if lay is not None else None
            style = lay.styles.get(order.style_code) if lay is not None and order is not None else None
            if order is None or style is None:
                continue
            if max(lo.last_ts for _l, lo in los) >= cutoff:
                continue
            done, earned = self.done.get(key, 0), self.earned_min.get(key, 0.0)
            before = self.finished(f).get(oid)  # reopened by a rework after it left once
            done_all = done + (before.done if before else 0)
            earned_all = earned + (before.earned_min if before else 0.0)
            over = self.order_states(f).get(oid) in OVER
            if not over and (done_all < order.quantity or order.quantity * style.sam_min - earned_all > 0):
                continue
            best_earned, best_line = max((lo.earned_min, lid) for lid, lo in los)
            first = min(lo.first_ts for _l, lo in los)
            last = max(lo.last_ts for _l, lo in los)
            out.append(FinishedOrderRow(f, oid, done, earned, best_line, best_earned, first, last))
            self.done.pop(key, None)
            self.earned_min.pop(key, None)
            for lid, _lo in los:
                del self.by_line[(f, lid, oid)]
        if out:
            self.version += 1
        return out


class _Runtime(Protocol):
    """What ``attach`` needs of ``seamline.bootstrap.Runtime`` (web does not import the wiring)."""

    store: EventStore
    layouts: dict[str, FactoryLayout]
    pipeline: IngestPipeline
    engine: Engine


def create(layouts: dict[str, FactoryLayout], engine: object) -> OrderProgress:
    """The projection as bootstrap makes it: checkpointed and replayed with the others."""
    return OrderProgress(layouts)


def attach(rt: _Runtime) -> OrderProgress:
    """The runtime's order-progress projection (bootstrap made it, from the checkpoint and the tail).

    A runtime built without it (older wiring) gets one built from the store and hooked into
    ingest without losing or doubling events.

    Ingest commits a batch to the store and only then takes the pipeline lock to apply it, so a
    batch committed while we replay (under the lock) would be applied to us a second time right
    after. The worker commits one batch at a time, so remembering the ids of the last events the
    replay read (more than one batch) and skipping them once is enough
    (ids are unique, so a kept id never hides a new event).
    """
    pipeline = rt.pipeline
    for p in pipeline.projections:
        if isinstance(p, OrderProgress):
            if p.states is None:
                p.bind_states(OrderStates(OrderStateStore(rt.engine)))
            return p
    proj = OrderProgress(rt.layouts)
    proj.bind_states(OrderStates(OrderStateStore(rt.engine)))
    tail: deque[str] = deque(maxlen=2 * 5000 + 100)
    with pipeline.lock:
        for _pos, ev in rt.store.iter_events(types=("piece",)):
            proj.apply(ev)
            tail.append(ev.id)
        proj._replayed_tail = set(tail)
        pipeline.projections.append(proj)
    return proj
