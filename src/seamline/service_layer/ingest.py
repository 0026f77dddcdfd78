"""The ingest pipeline: validate → deduplicate → append to the event store → update live state.

MQTT and HTTP feed the same pipeline. Every payload ends in exactly one place: the event store
(accepted), nowhere (an identical repeat of a stored event, counted as a duplicate), or the
quarantine table with the raw bytes and a reason: ``invalid`` (breaks the protocol, including its
limits), ``conflict`` (a stored key with other content) or ``failed`` (the database refused it).

Nothing an input can contain stops the loop, by construction rather than by a list of bad inputs:
``decode_wire`` bounds every value that reaches a column, and a batch that still fails to commit
is split until the event that fails alone is found and quarantined with the database's message.
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
    MAX_DEPTH,
    MAX_PAYLOAD_BYTES,
    BundleIn,
    BundleOut,
    Defect,
    Login,
    Logout,
    Piece,
    ProtocolError,
    SensorEvent,
    decode_event,
    decode_wire,
    encode_event,
    nesting_depth,
    parse_topic,
    type_name,
)
from ..domain.live import LiveState
from ..domain.model import FactoryLayout

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)
INT64_MAX = 2**63 - 1  # what a BIGINT column holds (seq_gaps.expected_seq)


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
    size: int | None = None  # as published, when only the start of an oversize payload was kept


@dataclass(slots=True)
class BatchResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicate": self.duplicate, "rejected": self.rejected}


class _RecentKeys:
    """Recently stored event keys with the hash of their stored payload: the cheap first line of
    deduplication. A byte-identical repeat (what a broker redelivers) is a duplicate at once; a
    repeat with other bytes goes to the store, which holds the content to judge it by.

    A key is ``factory NUL station NUL source NUL id`` (NUL cannot occur in a validated field, so
    no two keys join to the same string); hashes are compared only within this process.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._map: dict[str, int] = {}
        self._order: deque[str] = deque()

    def get(self, key: str) -> int | None:
        return self._map.get(key)

    def add(self, key: str, fingerprint: int) -> None:
        if key in self._map:
            return
        self._map[key] = fingerprint
        self._order.append(key)
        if len(self._order) > self.capacity:
            self._map.pop(self._order.popleft(), None)


@dataclass(slots=True)
class _Item:
    """One payload of a batch on its way to the store: an event to append or a row to quarantine."""

    index: int
    raw: RawEvent
    received: datetime
    row: EventRow | None = None
    ev: SensorEvent | None = None
    raw_hash: int = 0  # hash of the payload's bytes
    canon: int | None = None  # hash of its canonical encoding, when needed (``_fp``)
    quarantine: QuarantineRow | None = None
    # Later payloads of the batch with this item's key: judged against what the key holds.
    followers: tuple[_Item, ...] = ()


def _key(factory: str, station: str, source: str, event_id: str) -> str:
    return f"{factory}\x00{station}\x00{source}\x00{event_id}"


def _fp(it: _Item) -> int:
    """The fingerprint of an item's content, computed once and only for a repeat of a key."""
    if it.canon is None:
        assert it.ev is not None
        it.canon = hash(_canonical(it.ev))
    return it.canon


def _fingerprint_of_stored(row: EventRow, stored: str) -> int:
    """The fingerprint of a stored payload, as ``_canonical`` gives it for a new one."""
    try:
        old = decode_event(stored)
    except ProtocolError:  # unreadable now (cannot happen to what ingest stored): not the same
        return hash(("unreadable", stored))
    old.factory, old.station = row.factory_id, row.station_id
    return hash(_canonical(old))


def _canonical(ev: SensorEvent) -> bytes:
    """The event's content as the protocol defines it (unknown fields and formatting aside), with
    factory and station set: what "the same event" means for a repeat."""
    return encode_event(ev)


class IngestPipeline:
    """Synchronous core: one call processes one batch in one transaction (in several, when the
    batch has to be split to find an event the database refuses)."""

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
        self.recent = _RecentKeys(recent_ids)
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
        self.counters = {
            "accepted": 0,
            "duplicate": 0,
            "quarantined": 0,
            "conflicts": 0,
            "failed": 0,
            "gaps": 0,
            "batches": 0,
        }
        # The last event set aside because the database refused it (time and message): the
        # worker shows it as `last_error` in /api/v1/health.
        self.last_failure: str | None = None

    # --- validation --------------------------------------------------------------------------
    def _validate(self, raw: RawEvent, now: datetime) -> SensorEvent:
        if raw.size is not None and raw.size > MAX_PAYLOAD_BYTES:
            raise ProtocolError(f"payload of {raw.size} bytes is over the limit of {MAX_PAYLOAD_BYTES} bytes")
        ev = decode_wire(raw.payload)
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
            source=ev.source,
            seq=ev.seq,
            type=type_name(type(ev)),
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
        work: list[_Item] = []
        in_batch: dict[str, _Item] = {}
        for i, raw in enumerate(items):
            item = _Item(i, raw, raw.received_at or now)
            try:
                ev = self._validate(raw, now)
            except ProtocolError as e:
                item.quarantine = self._quarantine(raw, item.received, str(e))
                work.append(item)
                continue
            except Exception as e:  # a bug must not stop ingest: keep the payload, say why
                log.exception("unexpected error validating an event")
                reason = f"internal error while validating: {type(e).__name__}: {e}"
                item.quarantine = self._quarantine(raw, item.received, reason)
                work.append(item)
                continue
            item.ev, item.raw_hash = ev, hash(raw.payload)
            key = _key(ev.factory or "", ev.station or "", ev.source, ev.id)
            if self.recent.get(key) == item.raw_hash:  # stored recently, these very bytes
                result.duplicate += 1
                self.counters["duplicate"] += 1
                continue
            first = in_batch.get(key)
            if first is not None:  # judged with the first, once the store says what the key holds
                first.followers += (item,)
                continue
            in_batch[key] = item
            item.row = self._row(ev, raw, item.received)
            work.append(item)
        self._commit(work, result, now)
        result.rejected.sort(key=lambda r: int(r["index"]))
        self.counters["batches"] += 1
        return result

    def _commit(self, work: list[_Item], result: BatchResult, now: datetime) -> None:
        """Commit ``work`` in one transaction; if that fails, split it in halves (in order) and
        commit each, down to the single item that fails alone, which is quarantined with the
        error. A database that is down fails that quarantine too: then the error propagates and
        the worker retries the batch, so nothing is acknowledged that was not stored."""
        if not work:
            return
        try:
            self._commit_once(work, result, now)
            return
        except Exception as e:
            if len(work) > 1:
                log.warning("a batch of %d failed to commit (%s: %s); splitting it", len(work), type(e).__name__, e)
                mid = len(work) // 2
                self._commit(work[:mid], result, now)
                self._commit(work[mid:], result, now)
                return
            error = e
        (item,) = work
        text = _clean(f"{type(error).__name__}: {error}", 2000)
        aside: list[_Item] = []
        if item.row is not None:
            reason = f"the database refused this event: {text}"
            log.error("event set aside: %s", reason)
            for it in (item, *item.followers):
                q = self._quarantine(it.raw, it.received, reason, kind="failed")
                aside.append(_Item(it.index, it.raw, it.received, quarantine=q))
        else:  # a quarantine row that will not store: keep the bytes and the reasons, nothing else
            assert item.quarantine is not None
            q = item.quarantine
            reason = f"{q.reason} (then the database refused its quarantine row: {text})"
            minimal = QuarantineRow(q.received_at, q.source, None, None, None, None, q.raw, _clean(reason, 4000))
            minimal.kind = "failed"
            aside.append(_Item(item.index, item.raw, item.received, quarantine=minimal))
        self._commit_once(aside, result, now)
        self.counters["failed"] += len(aside)
        self.last_failure = f"{datetime.now(UTC).isoformat(timespec='seconds')} {reason}"

    def _commit_once(self, work: list[_Item], result: BatchResult, now: datetime) -> None:
        rows: list[EventRow] = []
        by_row: dict[int, _Item] = {}
        quarantined: list[QuarantineRow] = []
        rejected: list[_Item] = []
        with_followers: list[_Item] = []
        for it in work:
            if it.row is not None:
                rows.append(it.row)
                by_row[id(it.row)] = it
                if it.followers:
                    with_followers.append(it)
            elif it.quarantine is not None:
                quarantined.append(it.quarantine)
                rejected.append(it)
        gaps_found: list[GapRow] = []
        judged: list[tuple[_Item, bool]] = []  # (item, conflict?) for repeats of a key in this work
        held: dict[int, int] = {}  # id(row) -> hash of the stored payload, when the key was stored

        def gaps_for(new_rows: list[EventRow]) -> list[GapRow]:
            gaps_found.clear()
            last: dict[tuple[str, str, str], int] = {}
            for r in new_rows:
                key = (r.factory_id, r.station_id, r.source)
                prev = last.get(key, self._last_seq.get(key))
                if prev is not None and r.seq != prev + 1:
                    # Clamped: a store written before seq was bounded may hold 2**63-1 (issue #18).
                    expected = min(prev + 1, INT64_MAX)
                    gaps_found.append(GapRow(r.factory_id, r.station_id, expected, r.seq, r.event_id, now))
                last[key] = r.seq
            return gaps_found

        def judge(existing: list[tuple[EventRow, str]]) -> list[QuarantineRow]:
            """Inside the transaction: each repeat against what its key holds — the stored
            event, or else the first of the batch, which is being stored now."""
            judged.clear()
            held.clear()
            stored_fp = {id(row): _fingerprint_of_stored(row, stored) for row, stored in existing}
            held.update({id(row): hash(stored.encode()) for row, stored in existing})
            out: list[QuarantineRow] = []
            # Only keys met before (stored) or again (in this batch): usually none.
            firsts = [by_row[id(row)] for row, _stored in existing]
            firsts += [it for it in with_followers if id(it.row) not in stored_fp]
            for first in firsts:
                if id(first.row) in stored_fp:
                    reference = stored_fp[id(first.row)]
                    ref_bytes, repeats = held[id(first.row)], (first, *first.followers)
                else:
                    reference, ref_bytes, repeats = None, first.raw_hash, first.followers
                for it in repeats:
                    if it.raw_hash == ref_bytes:
                        conflict = False
                    else:
                        conflict = _fp(it) != (reference if reference is not None else _fp(first))
                    judged.append((it, conflict))
                    if conflict:
                        assert it.ev is not None
                        out.append(self._conflict(it.raw, it.received, it.ev))
            return out

        new_rows = self.store.commit_batch(rows, quarantined, None if self.store_only else gaps_for, judge)
        # Committed: from here on nothing may raise before the counts are kept.
        with self.lock:
            if not self.store_only:
                for r in new_rows:
                    ev = by_row[id(r)].ev
                    assert ev is not None
                    self._last_seq[(r.factory_id, r.station_id, r.source)] = r.seq
                    try:
                        self.live.apply(ev)
                    except Exception as e:  # stored already: a bug in live state must not stop ingest
                        log.exception("live state failed on event %s", ev.id)
                        self.last_failure = f"{datetime.now(UTC).isoformat(timespec='seconds')} live state failed on"
                        self.last_failure += f" event {ev.id!r}: {type(e).__name__}: {e}"
                    self.pending.append(ev)
                over = len(self.pending) - self.max_pending
                if over > 0:  # bound memory: past the limit, every batch also folds in what it added
                    self.catch_up(over)
            for r in rows:
                h = held.get(id(r), by_row[id(r)].raw_hash)
                self.recent.add(_key(r.factory_id, r.station_id, r.source, r.event_id), h)
        for it in rejected:
            assert it.quarantine is not None
            reason = it.quarantine.reason
            result.rejected.append({"index": it.index, "id": _peek_id(it.raw.payload), "reason": reason})
        conflicts = [it for it, conflict in judged if conflict]
        duplicates = len(judged) - len(conflicts)
        for it in conflicts:
            assert it.ev is not None
            result.rejected.append({"index": it.index, "id": it.ev.id, "reason": self._conflict_reason(it.ev)})
        result.accepted += len(new_rows)
        result.duplicate += duplicates
        c = self.counters
        c["accepted"] += len(new_rows)
        c["duplicate"] += duplicates
        c["quarantined"] += len(quarantined) + len(conflicts)
        c["conflicts"] += len(conflicts) + sum(1 for q in quarantined if q.kind == "conflict")
        c["gaps"] += len(gaps_found)

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
    def _conflict_reason(ev: SensorEvent) -> str:
        return (
            f"conflict: event {ev.id!r} of {ev.factory}/{ev.station} (source {ev.source}) is already stored"
            " with different content; the stored event is kept"
        )

    def _conflict(self, raw: RawEvent, received: datetime, ev: SensorEvent) -> QuarantineRow:
        q = self._quarantine(raw, received, self._conflict_reason(ev), kind="conflict")
        q.factory_id, q.station_id = _clean(ev.factory or "", 64), _clean(ev.station or "", 64)
        return q

    @staticmethod
    def _quarantine(raw: RawEvent, received: datetime, reason: str, kind: str = "invalid") -> QuarantineRow:
        factory = station = None
        if raw.topic:
            with contextlib.suppress(ProtocolError):
                factory, station = parse_topic(raw.topic)
        # Clipped to the quarantine's column widths (adapters/tables.py) and cleaned of what text
        # columns refuse (NUL, lone surrogates): PostgreSQL refuses such a value, which would fail
        # the row. `raw` keeps the message whole up to the protocol's size limit.
        return QuarantineRow(
            received_at=received,
            source=_clean(raw.source, 16),
            topic=_clean(raw.topic, 256) if raw.topic else raw.topic,
            factory_id=_clean(factory, 64) if factory else factory,
            station_id=_clean(station, 64) if station else station,
            event_id=_peek_id(raw.payload),
            raw=raw.payload[:MAX_PAYLOAD_BYTES],
            reason=_clean(reason, 4000),
            kind=kind,
        )


def _clean(s: str, width: int) -> str:
    """``s`` as any text column holds it: no NUL, no lone surrogate, at most ``width`` characters."""
    return s.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:width]


def _peek_id(payload: bytes) -> str | None:
    """The event's id if the payload is JSON with a string id, for the rejection report."""
    import msgspec

    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    if payload.count(b"[") + payload.count(b"{") > MAX_DEPTH and nesting_depth(payload) > MAX_DEPTH:
        return None
    try:
        obj = msgspec.json.decode(payload)
    except Exception:  # whatever the bytes are, peeking must not fail
        return None
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        return _clean(obj["id"], 128)
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
    own, in its place in the queue, so its caller gets its own counts. The pipeline sets aside
    any event that fails on its own, so a batch fails as a whole only while the database is
    unreachable: then it is retried with back-off, its MQTT messages unacknowledged until it
    succeeds (``retrying`` holds the error meanwhile). ``last_error`` keeps the latest error of
    either kind, with its time, after ingest has recovered: someone should look at it.
    """

    def __init__(self, pipeline: IngestPipeline, max_batch: int = 5000) -> None:
        self.pipeline = pipeline
        self.max_batch = max_batch
        self.q: queue.Queue[_Work | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ingest")
        self._held: _Work | None = None
        self.retrying: str | None = None
        self._last_error: str | None = None
        # Called on this thread between batches (checkpoints, service_layer/history.py): here no
        # batch is half committed, so the store's last position is exactly what has been folded.
        self.between_batches: list[Callable[[], None]] = []

    @property
    def last_error(self) -> str | None:
        """The latest error: a batch being retried, or an event the database refused."""
        candidates = [e for e in (self._last_error, self.pipeline.last_failure) if e]
        return max(candidates) if candidates else None  # both start with an ISO time

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
                self.retrying = None
                break
            except Exception as e:
                self.retrying = f"{type(e).__name__}: {e}"
                self._last_error = f"{datetime.now(UTC).isoformat(timespec='seconds')} {self.retrying}"
                log.exception("ingest batch failed; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        for w in works:
            if w.done is not None:
                try:
                    w.done(result)
                except Exception:
                    log.exception("ingest completion callback failed")
