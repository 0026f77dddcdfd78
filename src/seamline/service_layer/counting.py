"""The counting projection: pieces from motor bursts between bundle scans (issue #20).

Fed every accepted event (and the whole store at start-up) like the other feature projections.
Per factory it keeps a ``learning.signature.BurstCounter``; what it needs beside the bursts comes
from the scans: ``bundle_in`` opens a bundle at the station (its style from the layout, the
operation the station last reported a piece of for that style), real ``piece`` events give the
scan's quantity, ``bundle_out`` reconciles.

Counted pieces are *provisional*: they go into live state as they are counted (``LiveState.
counted_pieces``), so the supervisor sees output while the bundle is in work, and they are retracted
at the bundle's reconciliation, when the tablet's bundle-done ``piece`` event carries the rest of
the scan's quantity. The event store therefore holds exactly the scanned quantity (pay, learning
and quality read it) and a shift total over reconciled bundles is exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ..domain.events import BundleIn, BundleOut, Burst, Bursts, Login, Logout, Piece, SensorEvent
from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..learning.signature import BurstCounter, Flag, Open, Reconciliation


def _op_counts() -> defaultdict[str, int]:
    """A named factory, not a lambda: the projection is pickled into checkpoints."""
    return defaultdict(int)


class CountingProjection:
    name = "motor_counts"

    def __init__(self, layouts: dict[str, FactoryLayout]) -> None:
        self.layouts = layouts
        self.live: LiveState | None = None
        self.counters: dict[str, BurstCounter] = defaultdict(BurstCounter)
        self.worker: dict[tuple[str, str], str | None] = {}
        self.last_op: dict[tuple[str, str, str], str] = {}  # (factory, station, style) -> op
        # Real (scanned / reported) pieces per (factory, station, bundle, op) while a bundle is open.
        self.real: dict[tuple[str, str, str], dict[str, int]] = defaultdict(_op_counts)
        self.counted_total: dict[tuple[str, str], int] = defaultdict(int)
        # The station's order of operations on one bundle: (factory, station, style, op) -> next op.
        self.follow: dict[tuple[str, str, str, str], str] = {}
        self.prev_op: dict[tuple[str, str, str], str] = {}
        self.first_op: dict[tuple[str, str, str], str] = {}  # (factory, station, style) -> first op
        self.station_ops: dict[tuple[str, str, str], list[str]] = {}  # ops a station has sewn, per style
        self.reported: dict[tuple[str, str, str], int] = defaultdict(int)  # (factory, bundle, op) -> pieces
        self.motor: set[tuple[str, str]] = set()  # stations that have reported bursts
        self.bundle_seen: dict[tuple[str, str], datetime] = {}  # (factory, bundle) -> last piece report

    def __getstate__(self) -> dict[str, Any]:
        # Checkpoints pickle each read model apart: live state is saved on its own and bound again
        # after loading (bootstrap.bind_live), never copied into this one.
        state = dict(self.__dict__)
        state["live"] = None
        return state

    def retain(self, cutoff: datetime) -> None:
        """Forget the piece reports of bundles not reported since ``cutoff`` (retention rule of
        docs/history: the window kept in memory); open bundles and signatures are kept."""
        old = {k for k, t in self.bundle_seen.items() if t < cutoff}
        if not old:
            return
        for k in old:
            del self.bundle_seen[k]
        self.reported = defaultdict(int, {k: v for k, v in self.reported.items() if (k[0], k[1]) not in old})

    def bind_live(self, live: LiveState) -> None:
        """Counted pieces feed this live state (bootstrap binds it)."""
        self.live = live

    def _guess_op(self, f: str, s: str, style: str, bundle: str) -> str | None:
        """Which operation the station is about to sew on a bundle: of the operations it has sewn
        for this style, the first the bundle still needs whose predecessors are all reported."""
        lay = self.layouts.get(f)
        st = lay.styles.get(style) if lay else None
        b = lay.bundles.get(bundle) if lay else None
        if st is None or b is None:
            return None
        opmap = st.op_map()

        def done(op: str) -> bool:
            return self.reported.get((f, bundle, op), 0) >= b.qty

        todo = [op for op in self.station_ops.get((f, s, style), []) if not done(op)]
        for op in todo:
            o = opmap.get(op)
            if o is not None and all(done(p) for p in o.predecessors):
                return op
        return todo[0] if todo else (self.first_op.get((f, s, style)) or self.last_op.get((f, s, style)))

    def _style(self, factory: str, bundle: str) -> str | None:
        lay = self.layouts.get(factory)
        st = lay.style_of_bundle(bundle) if lay else None
        return st.code if st else None

    def apply(self, ev: SensorEvent) -> None:
        f, s = ev.factory, ev.station
        if f is None or s is None:
            return
        c = self.counters[f]
        if isinstance(ev, Login):
            self.worker[(f, s)] = ev.worker
        elif isinstance(ev, Logout):
            if self.worker.get((f, s)) == ev.worker:
                self.worker[(f, s)] = None
        elif isinstance(ev, BundleIn):
            style = self._style(f, ev.bundle)
            # Which operation: what the bundle still needs of what this station sews (see _guess_op).
            op = self._guess_op(f, s, style, ev.bundle) if style else None
            self.real.pop((f, s, ev.bundle), None)
            c.bundle_in(s, ev.bundle, ev.ts.timestamp(), style, op, self.worker.get((f, s)))
        elif isinstance(ev, Piece):
            style = self._style(f, ev.bundle)
            if style:
                self.last_op[(f, s, style)] = ev.op
                ops = self.station_ops.setdefault((f, s, style), [])
                if ev.op not in ops:
                    ops.append(ev.op)
                self.reported[(f, ev.bundle, ev.op)] += ev.qty
                self.bundle_seen[(f, ev.bundle)] = ev.ts
            o = c.open.get(s)
            if o is not None and o.bundle == ev.bundle:
                if o.op is None:
                    o.op = ev.op
                real = self.real[(f, s, ev.bundle)]
                real[ev.op] += ev.qty
                lay = self.layouts.get(f)
                b = lay.bundles.get(ev.bundle) if lay else None
                if style and b is not None and real[ev.op] >= b.qty:
                    # The operation is done for the whole bundle: reconcile it now and open a
                    # window for the station's next operation of the same bundle (as learned).
                    prev = self.prev_op.get((f, s, ev.bundle))
                    if prev is not None:
                        self.follow[(f, s, style, prev)] = ev.op
                    else:
                        self.first_op[(f, s, style)] = ev.op
                    self.prev_op[(f, s, ev.bundle)] = ev.op
                    self._reconcile(c, f, s, o, ev.op, real.pop(ev.op), ev.ts)
                    nxt = self._guess_op(f, s, style, ev.bundle) or self.follow.get((f, s, style, ev.op))
                    c.bundle_in(s, ev.bundle, ev.ts.timestamp(), style, nxt, self.worker.get((f, s)))
        elif isinstance(ev, Burst):
            self._burst(c, f, s, ev.ts.timestamp(), ev.run_s, ev.trim, ev.ts)
        elif isinstance(ev, Bursts):
            # An aggregate keeps counts and run seconds, not the gaps: spread its bursts evenly.
            n = max(ev.n, 0)
            t0 = ev.ts.timestamp()
            for i in range(n):
                self._burst(c, f, s, t0 + i * ev.period_s / n, ev.run_s / n, i < ev.trims, ev.ts)
        elif isinstance(ev, BundleOut):
            self.prev_op.pop((f, s, ev.bundle), None)
            o = c.open.get(s)
            if o is None or o.bundle != ev.bundle:
                return
            real = self.real.pop((f, s, ev.bundle), {})
            op = max(real, key=lambda k: real[k]) if real else o.op
            if op is None or not real:
                c.open.pop(s, None)  # no quantity to reconcile against: drop the window
                if o.counted and o.op is not None:
                    self._feed(f, s, o.bundle, o.op, -o.counted, ev.ts)
                return
            self._reconcile(c, f, s, o, op, real[op], ev.ts)

    def _reconcile(self, c: BurstCounter, f: str, s: str, o: Open, op: str, pieces: int, ts: datetime) -> None:
        """The scan's quantity wins: retract the provisional count, let the counter learn."""
        if (f, s) not in self.motor:  # a station without a motor sensor: nothing to reconcile
            c.open.pop(s, None)
            return
        counted = o.counted
        c.bundle_done(s, o.bundle, op, pieces, ts.timestamp())
        if counted and o.op is not None:
            self._feed(f, s, o.bundle, o.op, -counted, ts)

    def _burst(self, c: BurstCounter, f: str, s: str, start_s: float, run_s: float, trim: bool, ts: datetime) -> None:
        self.motor.add((f, s))
        n = c.burst(s, start_s, run_s, trim)
        o = c.open.get(s)
        if n and o is not None and o.op is not None:
            self._feed(f, s, o.bundle, o.op, n, ts)
            lay = self.layouts.get(f)
            b = lay.bundles.get(o.bundle) if lay else None
            if b is not None:
                c.check_quantity(s, b.qty, start_s)

    def _feed(self, f: str, s: str, bundle: str, op: str, qty: int, ts: datetime) -> None:
        self.counted_total[(f, s)] += qty
        if self.live is not None:
            self.live.counted_pieces(f, s, bundle, op, qty, ts)

    # --- reads (under the pipeline lock) ------------------------------------------------------
    def station_bundle(self, factory: str, station: str) -> dict[str, Any]:
        """The open bundle at a station, for the tablet's bundle-done: quantity, the operation,
        pieces already reported as events and pieces counted from bursts (provisional)."""
        c = self.counters.get(factory)
        o = c.open.get(station) if c is not None else None
        if o is None:
            return {"open_bundle": None}
        lay = self.layouts.get(factory)
        b = lay.bundles.get(o.bundle) if lay else None
        real = self.real.get((factory, station, o.bundle), {})
        return {
            "open_bundle": o.bundle,
            "bundle_op": o.op,
            "bundle_qty": b.qty if b else None,
            "bundle_reported": real.get(o.op, 0) if o.op else 0,
            "bundle_counted": o.counted,
        }

    def flags(self, factory: str) -> list[dict[str, Any]]:
        return [_flag_dict(x) for x in reversed(self.counters[factory].flags)] if factory in self.counters else []

    def reconciliations(self, factory: str, limit: int = 200) -> list[dict[str, Any]]:
        c = self.counters.get(factory)
        if c is None:
            return []
        out = []
        for r in list(c.reconciled)[-limit:][::-1]:
            d: dict[str, Any] = asdict(r)
            d["diff"] = r.diff
            out.append(d)
        return out

    def open_bundles(self, factory: str) -> list[dict[str, Any]]:
        c = self.counters.get(factory)
        if c is None:
            return []
        return [
            {
                "station": s,
                "bundle": o.bundle,
                "style": o.style,
                "op": o.op,
                "worker": o.worker,
                "counted": o.counted,
                "bursts": o.window.bursts,
                "signature": o.signature,
            }
            for s, o in sorted(c.open.items())
        ]

    def signatures(self, factory: str) -> list[dict[str, Any]]:
        c = self.counters.get(factory)
        if c is None:
            return []
        out = []
        for style, op in sorted(c.samples):
            sig, which = c.signature_for(style, op, None)
            out.append(
                {
                    "style": style,
                    "op": op,
                    "bundles": len(c.samples[(style, op)]),
                    "signature": which,
                    **(sig.as_dict() if sig else {}),
                }
            )
        return out


def _flag_dict(x: Flag | Reconciliation) -> dict[str, Any]:
    d: dict[str, Any] = asdict(x)
    if "at_s" in d:
        d["at"] = datetime.fromtimestamp(d.pop("at_s"), UTC).isoformat()
    return d


def create(layouts: dict[str, FactoryLayout], engine: Engine | None = None) -> CountingProjection:
    return CountingProjection(layouts)
