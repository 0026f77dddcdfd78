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

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ..domain.events import BundleIn, BundleOut, Burst, Bursts, Login, Logout, Piece, SensorEvent
from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..learning.sensor_only import Allocation, SensorOnlyReconciliation, SensorOnlyStation, assign_ops
from ..learning.signature import MISFIT_MIN_EXCESS, MISFIT_RATIO, BurstCounter, Flag, Open, Reconciliation


def _op_counts() -> defaultdict[str, int]:
    """A named factory, not a lambda: the projection is pickled into checkpoints."""
    return defaultdict(int)


def _so_recs() -> deque[SensorOnlyReconciliation]:
    return deque(maxlen=5000)


def _est_conf() -> list[int]:
    """[estimated, confirmed] pieces of a sensor-only station (named factory: pickled)."""
    return [0, 0]


# Retention (count cap, docs/data-model.md): the bundles a line scanned are kept newest last, for a
# sensor-only station newly assigned an operation to queue the ones still open; older ones go.
LINE_BUNDLES_KEEP = 2000


class CountingProjection:
    name = "motor_counts"

    def __init__(self, layouts: dict[str, FactoryLayout], sensor_only_learning: bool = True) -> None:
        self.layouts = layouts
        # Sensor-only stations teach their signatures the stretches of known pieces (off: only
        # for measuring what that learning is worth, bench/counting.py).
        self.sensor_only_learning = sensor_only_learning
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
        # Sensor-only stations (bursts, never a scan): learning/sensor_only.py.
        self.tablet: set[tuple[str, str]] = set()  # stations that scan (bundle_in / piece)
        self.line_style: dict[tuple[str, str], str] = {}  # (factory, line) -> style of its latest scan
        self.line_ops: dict[tuple[str, str, str], set[str]] = {}  # (factory, line, style) -> ops scanned
        self.line_bundles: dict[tuple[str, str], dict[str, None]] = {}  # bundles the line scanned, in order
        self.sensor_only: dict[tuple[str, str], SensorOnlyStation] = {}
        self.unassigned_bursts: dict[tuple[str, str], int] = defaultdict(int)  # no operation known yet
        self.so_reconciled: dict[str, deque[SensorOnlyReconciliation]] = defaultdict(_so_recs)
        # (factory, station, worker or "", op, local day) -> [estimated, confirmed by a downstream scan]
        self.so_day: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(_est_conf)
        self._ancestors: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
        # Inferred operations are recomputed only when what they depend on changed (a station's
        # first scan or burst, an operation new to a station, the line's style).
        self._flow_ver = 0
        self._assigned: dict[tuple[str, str], tuple[int, str | None]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Checkpoints pickle each read model apart: live state is saved on its own and bound again
        # after loading (bootstrap.bind_live), never copied into this one.
        state = dict(self.__dict__)
        state["live"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A checkpoint taken before a field existed (sensor-only stations) loads with its default.
        fresh = CountingProjection(state.get("layouts", {})).__dict__
        fresh.update(state)
        self.__dict__.update(fresh)

    def retain(self, cutoff: datetime) -> None:
        """Forget the piece reports of bundles not reported since ``cutoff`` (retention rule of
        docs/data-model.md: the window kept in memory); open bundles and signatures are kept.
        Sensor-only stations' day tallies go with the days before ``cutoff``'s local day."""
        first_day: dict[str, str] = {}
        for dk in list(self.so_day):
            lay = self.layouts.get(dk[0])
            if dk[0] not in first_day:
                first_day[dk[0]] = cutoff.astimezone(lay.factory.tz).date().isoformat() if lay else ""
            if dk[4] < first_day[dk[0]]:
                del self.so_day[dk]
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
            self._scanned(f, s, ev.bundle, style, None, ev.ts)
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
                    self._flow_ver += 1
                self.reported[(f, ev.bundle, ev.op)] += ev.qty
                self.bundle_seen[(f, ev.bundle)] = ev.ts
            self._scanned(f, s, ev.bundle, style, ev.op, ev.ts)
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
        if (f, s) not in self.motor:
            self.motor.add((f, s))
            self._flow_ver += 1
        if (f, s) not in self.tablet:
            self._so_burst(c, f, s, start_s, run_s, trim, ts)
            return
        n = c.burst(s, start_s, run_s, trim)
        o = c.open.get(s)
        if n and o is not None and o.op is not None:
            self._feed(f, s, o.bundle, o.op, n, ts)
            lay = self.layouts.get(f)
            b = lay.bundles.get(o.bundle) if lay else None
            if b is not None:
                c.check_quantity(s, b.qty, start_s)

    # --- sensor-only stations (learning/sensor_only.py) ---------------------------------------
    def _line_of(self, f: str, s: str) -> str | None:
        lay = self.layouts.get(f)
        st = lay.stations.get(s) if lay else None
        return st.line_id if st else None

    def _ancestors_of(self, f: str, style: str) -> dict[str, frozenset[str]]:
        """Every operation's transitive predecessors (what must be sewn before it)."""
        a = self._ancestors.get((f, style))
        if a is None:
            st = self.layouts[f].styles[style]
            opmap = st.op_map()
            a = {}
            for code in st.topological_order():
                preds = opmap[code].predecessors
                a[code] = frozenset(preds).union(*(a[p] for p in preds))
            self._ancestors[(f, style)] = a
        return a

    def _scanned(self, f: str, s: str, bundle: str, style: str | None, op: str | None, ts: datetime) -> None:
        """A scan at a tablet station: the line's style and flow, which sensor-only stations
        it feeds (the bundle reached their operation) and reconciles (it passed them)."""
        if (f, s) not in self.tablet:
            self.tablet.add((f, s))
            self._flow_ver += 1
            old = self.sensor_only.pop((f, s), None)
            if old is not None:  # it was counted as sensor-only until its first scan: retract
                for bid, n in old.alloc.items():
                    self._so_feed(f, s, bid, old.op, -n, ts, confirmed=0)
        line = self._line_of(f, s)
        if line is None or style is None:
            return
        if self.line_style.get((f, line)) != style:
            self.line_style[(f, line)] = style
            self._flow_ver += 1
        seen = self.line_bundles.setdefault((f, line), {})
        if bundle not in seen:
            seen[bundle] = None
            while len(seen) > LINE_BUNDLES_KEEP:
                del seen[next(iter(seen))]
        if op is not None:
            self.line_ops.setdefault((f, line, style), set()).add(op)
        if not self.sensor_only:
            return
        lay = self.layouts[f]
        b = lay.bundles.get(bundle)
        if b is None:
            return
        c = self.counters[f]
        anc = self._ancestors_of(f, style)
        for (ff, ss), so in list(self.sensor_only.items()):
            if ff != f or so.style != style:
                continue
            done = self.reported.get((f, bundle, so.op), 0) >= b.qty
            if op is not None and so.op in anc.get(op, frozenset()) and not done:
                # The bundle passed the station's operation with its full quantity.
                diff, rec = so.reconcile(bundle, b.qty, self.worker.get((f, ss)), ts.timestamp())
                self.reported[(f, bundle, so.op)] = b.qty
                self.so_reconciled[f].append(rec)
                self._so_feed(f, ss, bundle, so.op, diff, ts, confirmed=b.qty, estimated=-rec.estimated)
            elif not done and self._reached(f, line, style, so.op, bundle, b.qty):
                if not so.queue and bundle not in so.alloc:
                    self._so_learn(c, f, ss, so)
                self._so_apply(f, ss, so, so.enqueue(bundle, self._qtys(f)), ts)

    def _so_learn(self, c: BurstCounter, f: str, s: str, so: SensorOnlyStation) -> None:
        """A learning point of a sensor-only station (learning/sensor_only.py): the stretch of
        bursts since the last one, whose bundles were all reconciled, is taught to its operation's
        and worker's signatures as a window of known pieces."""
        worker = self.worker.get((f, s))
        sig, _which = c.signature_for(so.style, so.op, worker)
        known = so.close_span(sig)
        if known is None or not self.sensor_only_learning:
            return
        window, pieces = known
        expected = sig.ratio.get("bursts", 0.0) * pieces if sig is not None else 0.0
        if expected and window.bursts > MISFIT_RATIO * expected and window.bursts - expected >= MISFIT_MIN_EXCESS:
            return  # far more bursts than its pieces need (rework, a chattering sensor): not learned
        segments = float(window.dp_pieces(sig.model)) if sig is not None and sig.model is not None else None
        c.teach(so.style, so.op, worker, window, pieces, segments)

    def _reached(self, f: str, line: str, style: str, op: str, bundle: str, qty: int) -> bool:
        """The bundle is ready for ``op``: its scanned predecessors are reported in full."""
        preds = self.layouts[f].styles[style].op(op).predecessors
        scanned = self.line_ops.get((f, line, style), set())
        return all(self.reported.get((f, bundle, p), 0) >= qty for p in preds if p in scanned)

    def _qtys(self, f: str) -> Callable[[str], int]:
        """A bundle's quantity from the layout (0: unknown bundle)."""
        bundles = self.layouts[f].bundles

        def qty(bundle: str) -> int:
            b = bundles.get(bundle)
            return b.qty if b is not None else 0

        return qty

    def _so_burst(
        self, c: BurstCounter, f: str, s: str, start_s: float, run_s: float, trim: bool, ts: datetime
    ) -> None:
        line = self._line_of(f, s)
        style = self.line_style.get((f, line)) if line else None
        if line is None or style is None:
            self.unassigned_bursts[(f, s)] += 1
            return
        lay = self.layouts[f]
        cached = self._assigned.get((f, s))
        if cached is not None and cached[0] == self._flow_ver:
            op = cached[1]
        else:
            stations = [st for st in lay.stations.values() if st.line_id == line]
            so_ids = {st.id for st in stations if (f, st.id) in self.motor and (f, st.id) not in self.tablet}
            scanned = {
                st.id: set(self.station_ops.get((f, st.id, style), ())) for st in stations if (f, st.id) in self.tablet
            }
            op = assign_ops(lay.styles[style], stations, scanned, so_ids).get(s)
            self._assigned[(f, s)] = (self._flow_ver, op)
        if op is None:
            self.unassigned_bursts[(f, s)] += 1
            return
        so = self.sensor_only.get((f, s))
        if so is None or (so.style, so.op) != (style, op):
            if so is not None:  # a new assignment: what was estimated for the old one is withdrawn
                for b, n in so.alloc.items():
                    self._so_feed(f, s, b, so.op, -n, ts, confirmed=0)
            first = so is None and not self.unassigned_bursts.get((f, s))
            so = self.sensor_only[(f, s)] = SensorOnlyStation(s, style, op)
            # Every burst the station ever sent is in this window: its first stretch is known
            # once its bundles are reconciled (after a reassignment or unassigned bursts it is not).
            so.span_valid = first
            qty = self._qtys(f)
            for b in self.line_bundles.get((f, line), {}):
                q = qty(b)
                if q and self.reported.get((f, b, op), 0) < q and self._reached(f, line, style, op, b, q):
                    so.enqueue(b, qty)
        sig, _which = c.signature_for(style, op, self.worker.get((f, s)))
        self._so_apply(f, s, so, so.burst(start_s, run_s, trim, sig, self._qtys(f)), ts)

    def _so_apply(self, f: str, s: str, so: SensorOnlyStation, allocs: list[Allocation], ts: datetime) -> None:
        for a in allocs:
            self._so_feed(f, s, a.bundle, so.op, a.qty, ts, confirmed=0)

    def _so_feed(
        self,
        f: str,
        s: str,
        bundle: str,
        op: str,
        qty: int,
        ts: datetime,
        *,
        confirmed: int,
        estimated: int | None = None,
    ) -> None:
        """Pieces of a sensor-only station into live state and its day tally (estimated vs
        confirmed by a downstream scan): neither is an event, so piece-rate pay never sees them."""
        if qty:
            self._feed(f, s, bundle, op, qty, ts)
        lay = self.layouts.get(f)
        if lay is None:
            return
        day = ts.astimezone(lay.factory.tz).date().isoformat()
        t = self.so_day[(f, s, self.worker.get((f, s)) or "", op, day)]
        t[0] += qty if estimated is None else estimated
        t[1] += confirmed

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
            so = self.sensor_only.get((factory, station))
            return {"open_bundle": None, **({"sensor_only": self._so_dict(factory, so)} if so else {})}
        lay = self.layouts.get(factory)
        b = lay.bundles.get(o.bundle) if lay else None
        real = self.real.get((factory, station, o.bundle), {})
        sig, _which = c.signature_for(o.style, o.op, o.worker) if c is not None else (None, "none")
        trims_pp = sig.ratio.get("trims") if sig is not None else None
        return {
            "open_bundle": o.bundle,
            "bundle_op": o.op,
            "bundle_qty": b.qty if b else None,
            "bundle_reported": real.get(o.op, 0) if o.op else 0,
            "bundle_counted": o.counted,
            # Thread trims: what the sensor saw in this bundle and what the operation's signature
            # expects per piece (None: no trimmer seen, or no signature yet).
            "bundle_bursts": o.window.bursts,
            "bundle_trims": o.window.trims if o.window.trims_seen else None,
            "trims_per_piece": round(trims_pp, 3) if trims_pp else None,
        }

    def _so_dict(self, factory: str, so: SensorOnlyStation) -> dict[str, Any]:
        return {
            "station": so.station,
            "style": so.style,
            "op": so.op,
            "worker": self.worker.get((factory, so.station)),
            "signature": so.signature,
            "bursts": so.window.bursts,
            "trims": so.window.trims if so.window.trims_seen else None,
            "queue": list(so.queue)[:20],
            "estimated": dict(so.alloc),
            "pending": so.pending,
        }

    def sensor_only_stations(self, factory: str, limit: int = 200) -> dict[str, Any]:
        """Sensor-only stations: their inferred operation, estimated pieces per open bundle, the
        reconciliations by downstream scans, and per worker and day the estimated and the
        confirmed pieces (neither is a piece event: piece-rate pay shows them apart, docs/counting)."""
        recs = list(self.so_reconciled.get(factory, ()))[-limit:][::-1]
        days = [
            {"station": s, "worker": w or None, "op": op, "day": day, "estimated": t[0], "confirmed": t[1]}
            for (f, s, w, op, day), t in sorted(self.so_day.items())
            if f == factory
        ]
        return {
            "stations": [
                self._so_dict(factory, so) for (f, _s), so in sorted(self.sensor_only.items()) if f == factory
            ],
            "unassigned_bursts": {s: n for (f, s), n in sorted(self.unassigned_bursts.items()) if f == factory},
            "reconciled": [
                {
                    **{k: v for k, v in asdict(r).items() if k != "at_s"},
                    "diff": r.diff,
                    "at": datetime.fromtimestamp(r.at_s, UTC).isoformat(),
                }
                for r in recs
            ],
            "days": days,
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
                "trims": o.window.trims if o.window.trims_seen else None,
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
                    "trims_per_piece": round(sig.ratio["trims"], 3) if sig and "trims" in sig.ratio else None,
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
