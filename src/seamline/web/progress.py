"""Order progress as a read model: finished garments and earned minutes per order and line.

Live state counts per worker/station/line/hour, never per order; the planner and the overview need
"how far is this order". This projection is fed every accepted event after live state, like the
feature projections, and rebuilt from the event store when the web app starts.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..adapters.event_store import EventStore
from ..domain.events import Piece, SensorEvent
from ..domain.model import FactoryLayout, Operation, Style
from ..service_layer.ingest import IngestPipeline


@dataclass(slots=True)
class LineOrder:
    first_ts: datetime
    last_ts: datetime
    earned_min: float = 0.0


class OrderProgress:
    """Pieces at final operations (finished garments) and earned standard minutes per order.

    Retention: one entry per order (and line), so it grows with master data, not with events.
    """

    name = "web.order_progress"

    def __init__(self, layouts: dict[str, FactoryLayout]) -> None:
        self.layouts = layouts
        self.done: dict[tuple[str, str], int] = defaultdict(int)  # (factory, order) -> garments
        self.earned_min: dict[tuple[str, str], float] = defaultdict(float)
        self.by_line: dict[tuple[str, str, str], LineOrder] = {}  # (factory, line, order)
        # Ids read by the start-up replay that ingest may apply once more (see attach()).
        self._replayed_tail: set[str] = set()
        self._styles: dict[tuple[str, str], tuple[Style, dict[str, Operation], frozenset[str]]] = {}

    def __setstate__(self, state: dict[str, object]) -> None:
        """Checkpoints written before the style cache existed load with an empty one."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_styles", {})

    def frozen_view(self) -> OrderProgress:
        """A copy for a page computed outside the ingest lock (one entry per order: cheap)."""
        v = OrderProgress(self.layouts)
        v.done.update(self.done)
        v.earned_min.update(self.earned_min)
        v.by_line = {k: LineOrder(lo.first_ts, lo.last_ts, lo.earned_min) for k, lo in self.by_line.items()}
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
        earned = ev.qty * op.sam_min
        self.earned_min[key] += earned
        if ev.op in idx[2]:
            self.done[key] += ev.qty
        lk = (lay.factory.id, station.line_id, order.id)
        lo = self.by_line.get(lk)
        if lo is None:
            self.by_line[lk] = LineOrder(ev.ts, ev.ts, earned)
        else:
            lo.first_ts = min(lo.first_ts, ev.ts)
            lo.last_ts = max(lo.last_ts, ev.ts)
            lo.earned_min += earned


class _Runtime(Protocol):
    """What ``attach`` needs of ``seamline.bootstrap.Runtime`` (web does not import the wiring)."""

    store: EventStore
    layouts: dict[str, FactoryLayout]
    pipeline: IngestPipeline


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
            return p
    proj = OrderProgress(rt.layouts)
    tail: deque[str] = deque(maxlen=2 * 5000 + 100)
    with pipeline.lock:
        for _pos, ev in rt.store.iter_events(types=("piece",)):
            proj.apply(ev)
            tail.append(ev.id)
        proj._replayed_tail = set(tail)
        pipeline.projections.append(proj)
    return proj
