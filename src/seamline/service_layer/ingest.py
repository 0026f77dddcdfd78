"""The ingest pipeline: validate → deduplicate → append to the event store → update live state.

MQTT and HTTP feed the same pipeline. Every payload ends in exactly one place: the event store
(accepted), nowhere (a duplicate of an accepted id, counted), or the quarantine table with the raw
bytes and a reason. Nothing an input can contain stops the loop.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..adapters.event_store import EventRow, EventStore, GapRow, QuarantineRow
from ..domain.events import (
    BundleIn,
    BundleOut,
    Defect,
    Login,
    Logout,
    Piece,
    ProtocolError,
    SensorEvent,
    decode_event,
    parse_topic,
)
from ..domain.live import LiveState
from ..domain.model import FactoryLayout

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)


class Projection(Protocol):
    """A feature's own read model, fed every accepted event in acceptance order (after live
    state), and the whole store at start-up. Learning and quality keep theirs this way."""

    name: str

    def apply(self, ev: SensorEvent) -> None: ...


@dataclass(slots=True)
class RawEvent:
    """One payload as it arrived. ``topic`` is set for MQTT; HTTP events carry factory/station."""

    payload: bytes
    source: str = "http"
    topic: str | None = None
    received_at: datetime | None = None


@dataclass(slots=True)
class BatchResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicate": self.duplicate, "rejected": self.rejected}


class _RecentIds:
    """A bounded set of recently seen event ids: the cheap first line of deduplication."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._set: set[str] = set()
        self._order: deque[str] = deque()

    def __contains__(self, x: str) -> bool:
        return x in self._set

    def add(self, x: str) -> None:
        if x in self._set:
            return
        self._set.add(x)
        self._order.append(x)
        if len(self._order) > self.capacity:
            self._set.discard(self._order.popleft())


class IngestPipeline:
    """Synchronous core: one call processes one batch in one transaction."""

    def __init__(
        self,
        store: EventStore,
        live: LiveState,
        layouts: dict[str, FactoryLayout],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        future_tolerance: timedelta = FUTURE_TOLERANCE,
        recent_ids: int = 300_000,
        max_pending: int = 500_000,
        store_only: bool = False,
    ) -> None:
        self.store = store
        self.live = live
        self.layouts = layouts
        self.clock = clock
        self.future_tolerance = future_tolerance
        self.recent = _RecentIds(recent_ids)
        # Scale-out (several ingest processes, docs/deploy.md): store only. Live state and
        # sequence gaps are then kept by the reader that tails the store (service_layer/tail.py),
        # because no one ingest process sees all of a station's events, or sees them in order.
        self.store_only = store_only
        self.lock = threading.RLock()  # held while live state changes; queries take it too
        # (factory, station, source) -> last seq: gaps are per numbering device.
        self._last_seq: dict[tuple[str, str, str], int] = {
            (f, s, "sensor"): st.last_seq for (f, s), st in live.stations.items() if st.last_seq >= 0
        }
        self.projections: list[Projection] = []
        # Accepted events not yet folded into the feature projections. Live state is updated at
        # once; the projections (learning, quality, materials, ...) catch up when ingest is idle
        # or when someone reads them, so a backlog drains at the speed of storage + live state.
        self.pending: list[SensorEvent] = []
        self.max_pending = max_pending
        self.counters = {"accepted": 0, "duplicate": 0, "quarantined": 0, "gaps": 0, "batches": 0}

    # --- validation --------------------------------------------------------------------------
    def _validate(self, raw: RawEvent, now: datetime) -> SensorEvent:
        ev = decode_event(raw.payload)
        if raw.topic is not None:
            factory, station = parse_topic(raw.topic)
            if ev.factory is not None and ev.factory != factory:
                raise ProtocolError(f"payload factory {ev.factory!r} differs from the topic's {factory!r}")
            if ev.station is not None and ev.station != station:
                raise ProtocolError(f"payload station {ev.station!r} differs from the topic's {station!r}")
            ev.factory, ev.station = factory, station
        elif ev.factory is None or ev.station is None:
            raise ProtocolError("an HTTP event needs `factory` and `station`")
        layout = self.layouts.get(ev.factory)
        if layout is None:
            raise ProtocolError(f"unknown factory {ev.factory!r}")
        if ev.station not in layout.stations:
            raise ProtocolError(f"unknown station {ev.station!r} in factory {ev.factory!r}")
        if ev.ts - now > self.future_tolerance:
            raise ProtocolError(
                f"timestamp {ev.ts.isoformat()} is more than {int(self.future_tolerance.total_seconds() // 60)}"
                f" minutes in the future (server time {now.isoformat(timespec='seconds')})"
            )
        if isinstance(ev, (Login, Logout)):
            if ev.worker not in layout.workers:
                raise ProtocolError(f"unknown worker {ev.worker!r}")
        elif isinstance(ev, (Piece, Defect, BundleIn, BundleOut)):
            bundle = layout.bundles.get(ev.bundle)
            if bundle is None:
                raise ProtocolError(f"unknown bundle {ev.bundle!r}")
            if isinstance(ev, (Piece, Defect)):
                style = layout.style_of_bundle(ev.bundle)
                if style is None:
                    raise ProtocolError(f"bundle {ev.bundle!r} has no known order/style")
                if ev.op not in self.live._style_index(ev.factory, style)[0]:
                    raise ProtocolError(f"unknown operation {ev.op!r} for style {style.code!r}")
        return ev

    @staticmethod
    def _row(ev: SensorEvent, raw: RawEvent, received: datetime) -> EventRow:
        worker = bundle = op = None
        qty = None
        if isinstance(ev, (Login, Logout)):
            worker = ev.worker
        elif isinstance(ev, (Piece, Defect)):
            bundle, op, qty = ev.bundle, ev.op, ev.qty
        elif isinstance(ev, (BundleIn, BundleOut)):
            bundle = ev.bundle
        return EventRow(
            event_id=ev.id,
            factory_id=ev.factory or "",
            station_id=ev.station or "",
            seq=ev.seq,
            type=type(ev).__struct_config__.tag,  # type: ignore[attr-defined]
            ts=ev.ts,
            worker=worker,
            bundle=bundle,
            op=op,
            qty=qty,
            payload=raw.payload.decode("utf-8"),
            received_at=received,
        )

    # --- processing --------------------------------------------------------------------------
    def process(self, items: list[RawEvent]) -> BatchResult:
        now = self.clock()
        result = BatchResult()
        accepted: list[tuple[EventRow, SensorEvent]] = []
        quarantined: list[QuarantineRow] = []
        in_batch: set[str] = set()
        for i, raw in enumerate(items):
            received = raw.received_at or now
            try:
                ev = self._validate(raw, now)
            except ProtocolError as e:
                quarantined.append(self._quarantine(raw, received, str(e)))
                result.rejected.append({"index": i, "id": _peek_id(raw.payload), "reason": str(e)})
                continue
            except Exception as e:  # a bug must not stop ingest: keep the payload, say why
                log.exception("unexpected error validating an event")
                reason = f"internal error while validating: {type(e).__name__}: {e}"
                quarantined.append(self._quarantine(raw, received, reason))
                result.rejected.append({"index": i, "id": _peek_id(raw.payload), "reason": reason})
                continue
            if ev.id in in_batch or ev.id in self.recent:
                result.duplicate += 1
                continue
            in_batch.add(ev.id)
            accepted.append((self._row(ev, raw, received), ev))

        by_id = {row.event_id: ev for row, ev in accepted}
        gaps_found: list[GapRow] = []

        def gaps_for(new_rows: list[EventRow]) -> list[GapRow]:
            last: dict[tuple[str, str, str], int] = {}
            for r in new_rows:
                key = (r.factory_id, r.station_id, by_id[r.event_id].source)
                prev = last.get(key, self._last_seq.get(key))
                if prev is not None and r.seq != prev + 1:
                    gaps_found.append(GapRow(r.factory_id, r.station_id, prev + 1, r.seq, r.event_id, now))
                last[key] = r.seq
            return gaps_found

        new_rows = self.store.commit_batch([r for r, _ in accepted], quarantined, None if self.store_only else gaps_for)
        with self.lock:
            if not self.store_only:
                for r in new_rows:
                    ev = by_id[r.event_id]
                    self._last_seq[(r.factory_id, r.station_id, ev.source)] = r.seq
                    self.live.apply(ev)
                    self.pending.append(ev)
                over = len(self.pending) - self.max_pending
                if over > 0:  # bound memory: past the limit, every batch also folds in what it added
                    self.catch_up(over)
            for r, _ in accepted:
                self.recent.add(r.event_id)
        result.accepted = len(new_rows)
        result.duplicate += len(accepted) - len(new_rows)
        c = self.counters
        c["accepted"] += result.accepted
        c["duplicate"] += result.duplicate
        c["quarantined"] += len(quarantined)
        c["gaps"] += len(gaps_found)
        c["batches"] += 1
        return result

    def fold(self, events: list[SensorEvent], gaps: int = 0) -> None:
        """Fold events committed elsewhere (by other ingest processes) into live state and the
        projections, in the order given: the scale-out reader's per-station order."""
        with self.lock:
            for ev in events:
                self.live.apply(ev)
                self.pending.append(ev)
            over = len(self.pending) - self.max_pending
            if over > 0:
                self.catch_up(over)
        self.counters["tailed"] = self.counters.get("tailed", 0) + len(events)
        self.counters["gaps"] += gaps

    def catch_up(self, limit: int | None = None) -> int:
        """Fold pending events into the projections (at most ``limit``); returns how many."""
        with self.lock:
            if not self.pending:
                return 0
            n = len(self.pending) if limit is None else min(limit, len(self.pending))
            batch = self.pending[:n]
            del self.pending[:n]
            for ev in batch:
                for proj in self.projections:
                    try:
                        proj.apply(ev)
                    except Exception:  # a feature's bug must not stop ingest or live state
                        log.exception("projection %s failed on event %s", getattr(proj, "name", proj), ev.id)
            return n

    @staticmethod
    def _quarantine(raw: RawEvent, received: datetime, reason: str) -> QuarantineRow:
        factory = station = None
        if raw.topic:
            with contextlib.suppress(ProtocolError):
                factory, station = parse_topic(raw.topic)
        # Clipped to the quarantine's column widths (adapters/tables.py): PostgreSQL refuses a
        # longer value, which would fail the whole batch and have MQTT redeliver it for ever
        # (SQLite ignores the widths). `raw` keeps the message whole.
        return QuarantineRow(
            received_at=received,
            source=raw.source[:16],
            topic=raw.topic[:256] if raw.topic else raw.topic,
            factory_id=factory[:64] if factory else factory,
            station_id=station[:64] if station else station,
            event_id=_peek_id(raw.payload),
            raw=raw.payload,
            reason=reason,
        )


def _peek_id(payload: bytes) -> str | None:
    """The event's id if the payload is JSON with a string id, for the rejection report."""
    import msgspec

    try:
        obj = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return obj["id"][:128]
    return None


# --- the worker thread ------------------------------------------------------------------------
@dataclass(slots=True)
class _Work:
    items: list[RawEvent]
    done: Callable[[BatchResult], None] | None = None
    own_result: bool = False  # an HTTP caller wants the counts of its own batch


class IngestWorker:
    """One thread owns the pipeline; sources put work on its queue.

    Consecutive MQTT arrivals are merged into one transaction (up to ``max_batch`` events): one
    fsync per batch, not per event, is what makes SQLite fast. An HTTP batch is processed on its
    own, in its place in the queue, so its caller gets its own counts. If the database fails, the
    batch is retried with back-off; its MQTT messages stay unacknowledged until it succeeds.
    """

    def __init__(self, pipeline: IngestPipeline, max_batch: int = 5000) -> None:
        self.pipeline = pipeline
        self.max_batch = max_batch
        self.q: queue.Queue[_Work | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ingest")
        self._held: _Work | None = None
        self.last_error: str | None = None
        # Called on this thread between batches (checkpoints, service_layer/history.py): here no
        # batch is half committed, so the store's last position is exactly what has been folded.
        self.between_batches: list[Callable[[], None]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        self.q.put(None)
        self._thread.join(timeout_s)

    def submit(self, items: list[RawEvent], done: Callable[[BatchResult], None] | None = None) -> None:
        self.q.put(_Work(items, done))

    def submit_future(self, items: list[RawEvent]) -> Future[BatchResult]:
        fut: Future[BatchResult] = Future()
        self.q.put(_Work(items, fut.set_result, own_result=True))
        return fut

    def _next(self, block: bool) -> _Work | None:
        if self._held is not None:
            w, self._held = self._held, None
            return w
        return self.q.get() if block else self.q.get_nowait()

    def _run(self) -> None:
        while True:
            # Idle: let the projections catch up, a chunk at a time so new work is not kept waiting.
            while self.pipeline.pending and self.q.empty() and self._held is None:
                self.pipeline.catch_up(1000)
            first = self._next(block=True)
            if first is None:
                return
            works = [first]
            n = len(first.items)
            stop_after = False
            while not first.own_result and n < self.max_batch:
                try:
                    w = self._next(block=False)
                except queue.Empty:
                    break
                if w is None:
                    stop_after = True
                    break
                if w.own_result:
                    self._held = w
                    break
                works.append(w)
                n += len(w.items)
            self._process(works)
            for hook in self.between_batches:
                try:
                    hook()
                except Exception:  # a checkpoint that fails is retried later; ingest goes on
                    log.exception("between-batches hook failed")
            if stop_after:
                return

    def _process(self, works: list[_Work]) -> None:
        items = [it for w in works for it in w.items]
        delay = 0.1
        while True:
            try:
                result = self.pipeline.process(items)
                self.last_error = None
                break
            except Exception as e:
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("ingest batch failed; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        for w in works:
            if w.done is not None:
                try:
                    w.done(result)
                except Exception:
                    log.exception("ingest completion callback failed")
