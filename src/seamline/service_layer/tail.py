"""Live state from the event store, for the read side of a scale-out deployment.

When several ingest processes share the MQTT load (``seamline ingest``), none of them sees all of
a station's events, and they commit in any order. The process that serves the API and pages
(``seamline serve --no-ingest``) therefore builds live state by tailing the ``events`` table by
``pos``, restoring the order that matters before folding events in (``domain/ordering.py``):

1. ``PosTracker``: positions skipped below the high-water mark (transactions still running) are
   re-read until the database says they can no longer commit;
2. ``ReorderBuffer``: per (factory, station, source), events are released in ``seq`` order,
   waiting a bounded time for a missing number; that is where sequence gaps are found and
   recorded in split mode;
3. ``CrossStationHold``: logins, the one event that acts on another station (it ends the
   worker's session there), are held back briefly and released in time order.

Start-up is the same loop from ``pos`` 0: the replay goes through the same ordering, so a restart
of the read side rebuilds exactly what it showed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ..adapters.event_store import EventStore, GapRow
from ..domain.events import Login, SensorEvent
from ..domain.ordering import CrossStationHold, PosTracker, ReorderBuffer
from .ingest import IngestPipeline

log = logging.getLogger(__name__)

StreamKey = tuple[str, str, str]  # (factory, station, source)


class LiveTailer:
    """Polls the store, orders what it finds and folds it into the pipeline's live state."""

    def __init__(
        self,
        store: EventStore,
        pipeline: IngestPipeline,
        *,
        reorder_wait_s: float = 3.0,
        login_hold_s: float | None = None,
        hole_min_wait_s: float = 0.2,
        hole_max_wait_s: float = 30.0,
        poll_s: float = 0.05,
        chunk: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
        on_applied: Callable[[list[SensorEvent]], None] | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.positions = PosTracker(0, hole_min_wait_s, hole_max_wait_s)
        self.buffer: ReorderBuffer[StreamKey, SensorEvent] = ReorderBuffer(reorder_wait_s)
        self.hold: CrossStationHold[tuple[str, str], SensorEvent] = CrossStationHold(
            reorder_wait_s if login_hold_s is None else login_hold_s
        )
        self.poll_s = poll_s
        self.chunk = chunk
        self.clock = clock
        self.on_applied = on_applied
        self.read = 0
        self.skipped = 0  # events of factories/stations this process has no layout for
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one step -----------------------------------------------------------------------------
    def poll(self) -> tuple[int, bool]:
        """Read what was committed since the last poll; returns (rows read, more waiting)."""
        got = self.store.read_tail(self.positions.high, self.positions.holes(), self.chunk)
        now = self.clock()
        self.positions.seen([p for p, _ in got.events], now, got.horizon)
        self.positions.expire(now, got.oldest_running)
        released = []
        layouts = self.pipeline.layouts
        for _pos, ev in got.events:
            lay = layouts.get(ev.factory or "")
            if lay is None or ev.station not in lay.stations:
                self.skipped += 1
                continue
            key = (ev.factory or "", ev.station or "", ev.source)
            released += self.buffer.push(key, ev.seq, ev.ts, ev, now)
        released += self.buffer.expire(now)
        self.read += len(got.events)
        evs: list[SensorEvent] = []
        for r in released:
            ev = r.item
            evs += self.hold.push((ev.factory or "", ev.station or ""), ev, ev.ts, isinstance(ev, Login), now)
        evs += self.hold.release(now)
        gaps = [
            GapRow(r.item.factory or "", r.item.station or "", r.gap[0], r.gap[1], r.item.id, datetime.now(UTC))
            for r in released
            if r.gap is not None
        ]
        self.store.add_gaps(gaps)
        if evs or gaps:
            self.pipeline.fold(evs, len(gaps))
            if self.on_applied is not None:
                self.on_applied(evs)
        return len(got.events), got.full

    def catch_up(self, timeout_s: float = 600.0) -> int:
        """Poll until the store has nothing more (start-up replay); returns the rows read."""
        n0 = self.read
        deadline = self.clock() + timeout_s
        while self.clock() < deadline:
            _n, more = self.poll()
            if not more:
                break
        return self.read - n0

    # --- the thread ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="live-tail")
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        delay = self.poll_s
        while not self._stop.is_set():
            try:
                n, more = self.poll()
                self.last_error = None
                delay = self.poll_s
            except Exception as e:  # the database may be away for a while: keep trying
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("tailing the event store failed; retrying in %.1f s", delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            if more:
                continue
            if n == 0 and self.pipeline.pending:
                self.pipeline.catch_up(1000)  # idle: let the feature projections catch up
                continue
            self._stop.wait(self.poll_s)

    def status(self) -> dict[str, object]:
        return {
            "read": self.read,
            "high_pos": self.positions.high,
            "pos_holes": len(self.positions.holes()),
            "holes_filled_late": self.positions.filled_late,
            "holes_given_up": self.positions.given_up,
            "held_for_order": len(self.buffer),
            "logins_held": len(self.hold),
            "seq_gaps": self.buffer.gaps,
            "skipped_unknown": self.skipped,
            "last_error": self.last_error,
        }
