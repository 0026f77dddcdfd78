"""Traceability: from a defect or a failed audit back to bundle, operation, worker, station and
time; from a bundle to the fabric lot it was cut from.

Pure functions over the accepted event list and the FactoryLayout (plus the bundle → fabric lot
map that cutting records, see ``store.bundle_lot_map``). The attribution rule is the DHU
aggregator's — a defect belongs to whoever produced that bundle at that operation — so a trace
and the DHU figures never disagree about who made a defect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from seamline.domain.events import Defect
from seamline.domain.model import FactoryLayout

from .audit import AuditDefect
from .dhu import DefectRecord, DhuAggregator


@dataclass(frozen=True, slots=True)
class Step:
    """One operation done on a bundle: who, where, when, how many pieces."""

    op: str
    op_name_en: str | None
    op_name_zh: str | None
    station: str
    line: str
    worker: str
    ts: datetime
    qty: int


@dataclass(frozen=True, slots=True)
class BundleTrace:
    bundle: str
    order_id: str | None
    style: str | None
    size: str | None
    colour: str | None
    qty: int | None
    fabric_lot: str | None
    fabric_roll: str | None
    steps: tuple[Step, ...]
    defects: tuple[DefectRecord, ...]


@dataclass(frozen=True, slots=True)
class DefectTrace:
    """Where a defect came from. ``made_*`` is the production step; ``reported_*`` the finding."""

    code: str
    qty: int
    bundle: str
    op: str
    worker: str
    station: str
    line: str
    made_ts: datetime | None
    reported_ts: datetime | None
    reported_at_station: str | None
    fabric_lot: str | None
    candidates: tuple[Step, ...] = ()  # when the operation is unknown: every step of the bundle


def _replay(events: Iterable[object], layout: FactoryLayout) -> DhuAggregator:
    agg = DhuAggregator(layout)
    # Sensor clocks and tablet uploads interleave: replay in time order so "who was logged in"
    # is answered as of each event (stable on the accepted order for equal times).
    evs = [e for e in events if getattr(e, "factory", None) in (None, layout.factory.id)]
    evs.sort(key=attrgetter("ts"))  # events of any kind: each has a ts
    for e in evs:
        agg.apply(e)
    return agg


def _step(layout: FactoryLayout, bundle: str, op: str, ts: datetime, station: str, worker: str, qty: int) -> Step:
    style = layout.style_of_bundle(bundle)
    o = style.op_map().get(op) if style is not None else None
    st = layout.stations.get(station)
    return Step(
        op, o.name_en if o else None, o.name_zh if o else None, station, st.line_id if st else "?", worker, ts, qty
    )


def trace_bundle(
    events: Iterable[object],
    layout: FactoryLayout,
    bundle_id: str,
    bundle_lots: Mapping[str, tuple[str, str | None]] | None = None,
) -> BundleTrace:
    """Everything known about one bundle: order, style, fabric lot, each step and each defect."""
    agg = _replay(events, layout)
    return _bundle_from(agg, layout, bundle_id, bundle_lots)


def _bundle_from(
    agg: DhuAggregator, layout: FactoryLayout, bundle_id: str, bundle_lots: Mapping[str, tuple[str, str | None]] | None
) -> BundleTrace:
    f = layout.factory.id
    b = layout.bundles.get(bundle_id)
    order = layout.orders.get(b.order_id) if b is not None else None
    lot = (bundle_lots or {}).get(bundle_id)
    steps = tuple(_step(layout, bundle_id, op, ts, st, wk, q) for op, ts, st, wk, q in agg.pieces_of(f, bundle_id))
    defects = tuple(d for d in agg.defects if d.bundle == bundle_id)
    return BundleTrace(
        bundle=bundle_id,
        order_id=b.order_id if b else None,
        style=order.style_code if order else None,
        size=b.size if b else None,
        colour=b.colour if b else None,
        qty=b.qty if b else None,
        fabric_lot=lot[0] if lot else None,
        fabric_roll=lot[1] if lot else None,
        steps=steps,
        defects=defects,
    )


def trace_defect(
    events: Iterable[object],
    layout: FactoryLayout,
    defect: Defect | str,
    bundle_lots: Mapping[str, tuple[str, str | None]] | None = None,
) -> DefectTrace:
    """A reported defect (the event or its id) → bundle, operation, worker, station, time, lot."""
    evs = list(events)
    if isinstance(defect, str):
        found = next((e for e in evs if isinstance(e, Defect) and e.id == defect), None)
        if found is None:
            raise KeyError(f"no defect event with id {defect!r}")
        defect = found
    agg = _replay(evs, layout)
    rec = next((d for d in agg.defects if d.event_id == defect.id), None)
    if rec is None:  # the defect itself was not in the list: attribute it against the replay
        maker = agg.maker_of(layout.factory.id, defect.bundle, defect.op, defect.ts)
        station, worker, made_ts = maker if maker else (defect.station or "?", "?", None)
        st = layout.stations.get(station)
        line = st.line_id if st else "?"
    else:
        station, worker, made_ts, line = rec.made_at_station, rec.made_by, rec.made_ts, rec.line
    lot = (bundle_lots or {}).get(defect.bundle)
    return DefectTrace(
        defect.defect,
        defect.qty,
        defect.bundle,
        defect.op,
        worker,
        station,
        line,
        made_ts,
        defect.ts,
        defect.station,
        lot[0] if lot else None,
    )


def trace_audit(
    events: Iterable[object],
    layout: FactoryLayout,
    defects: Iterable[AuditDefect],
    bundle_lots: Mapping[str, tuple[str, str | None]] | None = None,
    at: datetime | None = None,
) -> list[DefectTrace]:
    """Defects of a (failed) final audit → who made them.

    A defect tagged with bundle and operation goes to the producer of that step; one with only
    a bundle lists every step of the bundle as candidates (the auditor could not tell which
    operation caused it). Defects without a bundle cannot be traced and are skipped.
    """
    agg = _replay(events, layout)
    f = layout.factory.id
    out: list[DefectTrace] = []
    for d in defects:
        if d.bundle_id is None:
            continue
        lot = (bundle_lots or {}).get(d.bundle_id)
        lot_id = lot[0] if lot else None
        if d.op is not None:
            maker = agg.maker_of(f, d.bundle_id, d.op, at) if at is not None else _last_maker(agg, f, d)
            station, worker, made_ts = maker if maker else ("?", "?", None)
            st = layout.stations.get(station)
            out.append(
                DefectTrace(
                    d.code,
                    d.qty,
                    d.bundle_id,
                    d.op,
                    worker,
                    station,
                    st.line_id if st else "?",
                    made_ts,
                    at,
                    None,
                    lot_id,
                )
            )
        else:
            steps = tuple(
                _step(layout, d.bundle_id, op, ts, st, wk, q) for op, ts, st, wk, q in agg.pieces_of(f, d.bundle_id)
            )
            out.append(DefectTrace(d.code, d.qty, d.bundle_id, "?", "?", "?", "?", None, at, None, lot_id, steps))
    return out


def _last_maker(agg: DhuAggregator, factory: str, d: AuditDefect) -> tuple[str, str, datetime] | None:
    assert d.bundle_id is not None and d.op is not None
    steps = [s for s in agg.pieces_of(factory, d.bundle_id) if s[0] == d.op]
    if not steps:
        return None
    _op, ts, st, wk, _qty = steps[-1]
    return st, wk, ts
