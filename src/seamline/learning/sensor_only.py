"""Counting at a sensor-only station: a motor sensor, no tablet, no scans (issue #20).

Such a station never says which bundle or operation it sews. Both come from around it:

- **Operation** (``assign_ops``): the line's current style (the bundles scanned at its tablet
  stations), the layout's line order and machine types: the station sews an operation on its
  machine type that no tablet station of the line reports and that lies, in precedence order,
  between what the scanning stations before and after it sew; several such stations share those
  operations in line order (the first of a station's share is counted).
- **Bundles** (``SensorOnlyStation.queue``): a bundle joins the station's queue when the operation's
  scanned predecessors are reported for all its pieces (or, with none scanned, when the line first
  sees the bundle); counted pieces fill the queue first in, first out, each bundle up to its
  quantity (the rest waits in ``pending`` for the next bundle).
- **Count**: the operation's signature (``learning/signature.py``, learned at tablet stations where
  the same operation is scanned) applied to all the station's bursts since the assignment; pieces
  are *estimated*, never stored as events.
- **Learn**: when a bundle reaches the station and every bundle before it has been reconciled
  (its queue was empty), all the bursts since the previous such moment belong to bundles whose
  quantities the scans told: that stretch is a window of *known* pieces, and it is taught to the
  operation's and the worker's signatures like a scanned bundle. Nothing else is: a stretch cut
  where the estimate says a bundle ended would teach the estimate its own error.
- **Reconcile**: a downstream scan of the bundle (a piece reported for an operation that needs this
  one) shows the bundle passed with its full quantity; the bundle's estimate is replaced by that
  quantity (the difference is fed to live state and recorded) and the running estimate is
  re-based so the difference is not counted again. Cold start (no signature): nothing is
  estimated, and the reconciliation alone credits the bundle's quantity, later.

Pure: the projection (service_layer/counting.py) feeds it and passes counted pieces to live state.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.model import Station, Style
from .signature import Signature, Window, restore_slots

MAX_QUEUE = 200  # bundles waiting at a station: older ones are dropped (never reconciled)
MAX_WINDOW_BURSTS = 20_000  # bursts in one running window (a few days of one station)
MAX_SPANS = 1000  # stretches between learning points kept for the API and the bench


@dataclass(frozen=True, slots=True)
class Allocation:
    """Pieces attributed to a bundle (``qty`` < 0: a retraction)."""

    bundle: str
    qty: int


@dataclass(frozen=True, slots=True)
class SensorOnlyReconciliation:
    station: str
    bundle: str
    style: str
    op: str
    worker: str | None
    pieces: int  # the bundle's quantity, shown by the downstream scan
    estimated: int  # what the motor count had given the bundle
    signature: str  # operation | none (cold start: reconciliation only)
    at_s: float

    @property
    def diff(self) -> int:
        return self.estimated - self.pieces


def assign_ops(
    style: Style, stations: list[Station], scanned: dict[str, set[str]], sensor_only: set[str]
) -> dict[str, str]:
    """Which operation each sensor-only station of a line sews (see the module docstring).

    ``stations``: the line's stations; ``scanned``: per tablet station of the line, the operations
    it reports for ``style``; ``sensor_only``: ids of the line's sensor-only stations. A station's
    operation lies, in precedence order, after what the scanning stations before it on the line
    sew and before what those after it sew (bundles move forward); among those, the operations on
    its machine type that nobody scans, shared out in line order among the sensor-only stations
    of that type between the same two scanning neighbours."""
    order = style.topological_order()
    index = {c: i for i, c in enumerate(order)}
    opmap = style.op_map()
    done = set().union(*scanned.values()) if scanned else set()
    line = sorted(stations, key=lambda s: (s.position, s.id))
    anchors: list[tuple[int, int, int]] = []  # position, lowest and highest op index of a scanning station
    for st in line:
        idx = [index[c] for c in scanned.get(st.id, ()) if c in index]
        if idx:
            anchors.append((st.position, min(idx), max(idx)))
    groups: dict[tuple[str, int, int], list[Station]] = {}
    for st in line:
        if st.id not in sensor_only:
            continue
        lo = max((a[2] for a in anchors if a[0] < st.position), default=-1)
        hi = min((a[1] for a in anchors if a[0] > st.position), default=len(order))
        groups.setdefault((st.machine_type, lo, hi), []).append(st)
    out: dict[str, str] = {}
    for (mt, lo, hi), peers in groups.items():
        cands = [c for c in order[lo + 1 : max(hi, lo + 1)] if opmap[c].machine_type == mt and c not in done]
        if not cands:
            continue
        for i, st in enumerate(peers):
            out[st.id] = cands[min(i * len(cands) // len(peers), len(cands) - 1)]
    return out


@dataclass(slots=True)
class SensorOnlyStation:
    """One sensor-only station's count for one (style, operation) assignment."""

    station: str
    style: str
    op: str
    window: Window = field(default_factory=Window)
    last_end_s: float | None = None
    counted: int = 0  # pieces of the running estimate already attributed (re-based at reconciliation)
    queue: deque[str] = field(default_factory=deque)  # bundles this station works on, first in first out
    alloc: dict[str, int] = field(default_factory=dict)  # bundle -> estimated pieces
    pending: int = 0  # counted pieces with no bundle in the queue yet
    signature: str = "none"
    # The stretch of bursts since the last learning point (see the module docstring): where it
    # starts in the window, its trims there, the bundles that reached the station in it and are
    # not reconciled yet, and the pieces of those that are; not valid until the first learning
    # point (the station may have sewn part of a bundle before its operation was inferred). Only
    # the open bundles are held, so a stretch whose queue never empties costs no more than its
    # queue; an invalid stretch holds nothing.
    span_start: int = 0
    span_trims: int = 0
    span_bundles: set[str] = field(default_factory=set)
    span_known: int = 0
    span_valid: bool = False
    # Per closed stretch: the pieces estimated from its bursts by the signature before it was
    # learned from, and the pieces the scans confirmed (None: not known, not learned from).
    spans: deque[tuple[float, int | None]] = field(default_factory=lambda: deque(maxlen=MAX_SPANS))

    def __setstate__(self, state: object) -> None:
        restore_slots(self, state)  # a checkpoint from before stretches: none known yet

    def close_span(self, sig: Signature | None) -> tuple[Window, int] | None:
        """A learning point (call before a bundle joins an empty queue): the stretch since the
        last one, and its known pieces when every bundle in it was reconciled."""
        i0, i1, w = self.span_start, self.window.bursts, self.window
        part = Window(
            bursts=i1 - i0,
            trims=w.trims - self.span_trims,
            run_s=sum(w.runs_s[i0:i1]),
            gaps_s=w.gaps_s[i0 : max(i1 - 1, i0)],
            runs_s=w.runs_s[i0:i1],
            trims_seen=w.trims_seen,
        )
        n = self.span_known
        known = self.span_valid and not self.span_bundles and n > 0 and part.bursts > 0
        if part.bursts:
            self.spans.append((sig.estimate(part) if sig is not None else 0.0, n if known else None))
        self.span_start, self.span_trims = i1, w.trims
        self.span_bundles, self.span_known, self.span_valid = set(), 0, True
        return (part, n) if known else None

    def _span_unknown(self) -> None:
        """The stretch's total cannot be known any more: stop tracking it until the next point."""
        self.span_valid, self.span_bundles, self.span_known = False, set(), 0

    def enqueue(self, bundle: str, qty: Callable[[str], int]) -> list[Allocation]:
        """A bundle reached the station's operation; pending pieces go to it at once."""
        if bundle in self.alloc or bundle in self.queue:
            return []
        self.queue.append(bundle)
        if self.span_valid:
            self.span_bundles.add(bundle)
        while len(self.queue) > MAX_QUEUE:
            self.alloc.pop(self.queue.popleft(), None)
            self._span_unknown()  # a bundle dropped unreconciled: the stretch's total is unknown
        return self._allocate(0, qty)

    def burst(
        self, start_s: float, run_s: float, trim: bool, sig: Signature | None, qty: Callable[[str], int]
    ) -> list[Allocation]:
        """Fold one burst; returns the pieces newly attributed to bundles."""
        if self.window.bursts >= MAX_WINDOW_BURSTS:
            # A fresh window (memory stays bounded over weeks): everything the old one held is
            # attributed or reconciled already; the next bursts count from zero.
            self.window, self.counted, self.last_end_s = Window(), 0, None
            self.span_start, self.span_trims = 0, 0
            self._span_unknown()
        self.window.add(start_s, run_s, trim, self.last_end_s)
        self.last_end_s = start_s + run_s
        if sig is None:
            self.signature = "none"
            return []
        self.signature = "operation"
        est = math.floor(sig.estimate(self.window) + 0.5)
        delta = est - self.counted
        if delta <= 0:
            return []
        self.counted = est
        return self._allocate(delta, qty)

    def _allocate(self, n: int, qty: Callable[[str], int]) -> list[Allocation]:
        n += self.pending
        self.pending = 0
        out: list[Allocation] = []
        for b in self.queue:
            if n <= 0:
                break
            room = qty(b) - self.alloc.get(b, 0)
            if room <= 0:
                continue
            k = min(room, n)
            self.alloc[b] = self.alloc.get(b, 0) + k
            out.append(Allocation(b, k))
            n -= k
        self.pending = n
        return out

    def reconcile(
        self, bundle: str, pieces: int, worker: str | None, at_s: float
    ) -> tuple[int, SensorOnlyReconciliation]:
        """The bundle passed downstream with ``pieces``: returns the correction for live state."""
        est = self.alloc.pop(bundle, 0)
        if bundle in self.queue:
            self.queue.remove(bundle)
        if bundle in self.span_bundles:
            self.span_bundles.discard(bundle)
            self.span_known += pieces
        else:  # a bundle that passed without reaching the station's queue in this stretch
            self._span_unknown()
        diff = pieces - est
        # Pieces of the running estimate now accounted for by the scan: do not count them again.
        self.counted += diff
        rec = SensorOnlyReconciliation(
            self.station, bundle, self.style, self.op, worker, pieces, est, self.signature, at_s
        )
        return diff, rec
