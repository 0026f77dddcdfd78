"""Putting events back in order when several ingest processes write one event store.

With MQTT 5 shared subscriptions the broker hands consecutive messages of one station to different
ingest processes, and their transactions commit in any order. Live state is order-sensitive per
station (a piece is earned by whoever is logged in *at that moment*), so the process that keeps
live state reads the store back and restores two orders before folding events in:

``PosTracker``
    The store's ``pos`` comes from a sequence taken *before* commit, so on PostgreSQL a reader
    that has seen pos 105 may later find pos 103 committed (its transaction was still running).
    The tracker remembers every position skipped below the high-water mark and has them re-read
    until they can no longer appear: when every transaction that was running when the hole was
    first seen has ended (the database's transaction horizon passed), or after ``max_wait_s`` at
    the latest. A rolled-back insert or an ``ON CONFLICT DO NOTHING`` duplicate leaves a hole for
    good; those are dropped the same way.

``ReorderBuffer``
    Per (factory, station, source) it releases events in ``seq`` order. An event that arrives
    ahead of a missing ``seq`` is held up to ``wait_s`` for it; then the buffer gives up, records
    the gap and releases what it holds in order. This is also where sequence gaps are detected in
    split mode, since no ingest process sees all of a station's numbers.

Both are pure: the caller passes the clock (``now``, monotonic seconds) and the horizon values.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


# --- positions ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Hole:
    first_seen: float
    horizon: int | None  # the transaction horizon (next xid) when the hole was seen


class PosTracker:
    """High-water mark of the positions read, plus the holes below it that may still fill."""

    def __init__(self, after: int = 0, min_wait_s: float = 0.2, max_wait_s: float = 30.0) -> None:
        self.high = after
        self.min_wait_s = min_wait_s
        self.max_wait_s = max_wait_s
        self._holes: dict[int, _Hole] = {}
        self.filled_late = 0  # holes that did fill: events a plain "pos > high" reader would lose
        self.given_up = 0

    def holes(self) -> list[int]:
        """Positions to re-read on the next poll."""
        return list(self._holes)

    def seen(self, positions: list[int], now: float, horizon: int | None = None) -> None:
        """Record the positions one read returned (new ones above ``high`` and filled holes).

        ``horizon`` is the database's next transaction id as of (or after) that read: every
        transaction that may still commit a skipped position has an id below it.
        """
        for p in sorted(positions):
            if p in self._holes:
                del self._holes[p]
                self.filled_late += 1
            elif p > self.high:
                for q in range(self.high + 1, p):
                    self._holes[q] = _Hole(now, horizon)
                self.high = p

    def expire(self, now: float, oldest_running: int | None = None) -> list[int]:
        """Give up the holes that can no longer fill; returns them.

        A hole goes when it is ``min_wait_s`` old and ``oldest_running`` (the oldest transaction
        still running now) has passed the horizon recorded with it, or when it is ``max_wait_s``
        old whatever the horizon (a stuck or unrelated long transaction must not stall live
        state forever). Without horizons (SQLite: one writer, commits in ``pos`` order) a hole
        goes after ``min_wait_s``.
        """
        gone = []
        for p, h in self._holes.items():
            age = now - h.first_seen
            horizon_passed = h.horizon is None or (oldest_running is not None and oldest_running >= h.horizon)
            if age >= self.max_wait_s or (age >= self.min_wait_s and horizon_passed):
                gone.append(p)
        for p in gone:
            del self._holes[p]
        self.given_up += len(gone)
        return gone


# --- per-station order ----------------------------------------------------------------------------
@dataclass(slots=True)
class Released(Generic[T]):
    item: T
    gap: tuple[int, int] | None = None  # (expected seq, got seq) when this event follows a gap


@dataclass(slots=True)
class _Stream(Generic[T]):
    next_seq: int = 0
    started: bool = False  # released at least one event (before that, the predecessor is unknown)
    last_ts: datetime | None = None
    held: dict[int, list[tuple[T, datetime, float]]] = field(default_factory=dict)
    deadline: float | None = None


class ReorderBuffer(Generic[K, T]):
    """Releases each key's items in ``seq`` order, waiting at most ``wait_s`` for a missing one.

    A key starts expecting seq 0; a key whose first item has a higher seq waits ``wait_s`` in
    case a lower one is still on its way, and then starts there without recording a gap (the
    single-process pipeline records none for a station's first event either).

    An item whose seq is below the expected one is released at once with a gap, like the
    single-process pipeline does for ``seq != previous + 1``: it is either late (it arrived
    after the buffer gave up waiting for it) or the device restarted its numbering. A restart is
    told apart by its timestamp: not earlier than anything released for the key, the numbering
    continues from it; otherwise it is a straggler and the numbering stays where it was.
    """

    def __init__(self, wait_s: float = 3.0) -> None:
        self.wait_s = wait_s
        self._streams: dict[K, _Stream[T]] = {}
        self._waiting: set[K] = set()
        self.held = 0
        self.gaps = 0

    def push(self, key: K, seq: int, ts: datetime, item: T, now: float) -> list[Released[T]]:
        s = self._streams.get(key)
        if s is None:
            s = self._streams[key] = _Stream()
        out: list[Released[T]] = []
        if seq == s.next_seq:
            self._release(s, item, ts, None, out)
            s.next_seq = seq + 1
            self._drain(key, s, now, out)
        elif seq > s.next_seq:
            s.held.setdefault(seq, []).append((item, ts, now))
            self.held += 1
            if s.deadline is None:
                s.deadline = now + self.wait_s
                self._waiting.add(key)
        else:
            restart = s.last_ts is not None and ts >= s.last_ts
            self._release(s, item, ts, (s.next_seq, seq), out)
            if restart:
                s.next_seq = seq + 1
                self._drain(key, s, now, out)
        return out

    def expire(self, now: float) -> list[Released[T]]:
        """Stop waiting for missing seqs whose wait is over; release what follows them, in order."""
        out: list[Released[T]] = []
        for key in [k for k in self._waiting if (d := self._streams[k].deadline) is not None and d <= now]:
            s = self._streams[key]
            while s.held and s.deadline is not None and s.deadline <= now:
                first = min(s.held)
                gap = (s.next_seq, first) if s.started else None
                items = s.held.pop(first)
                self.held -= len(items)
                for i, (item, ts, _t) in enumerate(items):
                    self._release(s, item, ts, gap if i == 0 else (first + 1, first), out)
                s.next_seq = first + 1
                self._drain(key, s, now, out)
        return out

    def flush(self) -> list[Released[T]]:
        """Release everything held, in order per key (at shutdown, or to compare with a replay)."""
        return self.expire(float("inf"))

    # --- internals -----------------------------------------------------------------------------
    def _release(
        self, s: _Stream[T], item: T, ts: datetime, gap: tuple[int, int] | None, out: list[Released[T]]
    ) -> None:
        s.started = True
        if s.last_ts is None or ts > s.last_ts:
            s.last_ts = ts
        if gap is not None:
            self.gaps += 1
        out.append(Released(item, gap))

    def _drain(self, key: K, s: _Stream[T], now: float, out: list[Released[T]]) -> None:
        """Release the held items that now follow on; reset or clear the key's deadline."""
        while s.next_seq in s.held:
            seq = s.next_seq
            items = s.held.pop(seq)
            self.held -= len(items)
            for i, (item, ts, _t) in enumerate(items):
                # Two events with one seq: the second is a repeat of the number, a gap as in
                # the single-process pipeline.
                self._release(s, item, ts, None if i == 0 else (seq + 1, seq), out)
            s.next_seq = seq + 1
        if s.held:
            # The remaining items wait for the next missing seq, counted from the oldest arrival.
            s.deadline = min(t for lst in s.held.values() for _i, _ts, t in lst) + self.wait_s
        else:
            s.deadline = None
            self._waiting.discard(key)

    def __len__(self) -> int:
        return self.held


# --- across stations ------------------------------------------------------------------------------
@dataclass(slots=True)
class _Queued(Generic[T]):
    item: T
    ts: datetime
    hold: bool
    arrived: float


class CrossStationHold(Generic[K, T]):
    """Holds the events that act across stations back ``wait_s`` and releases them in time order.

    One event type reaches beyond its own station: a login, which ends the worker's session at
    any other station. Two stations' streams come from different ingest processes, so a worker's
    login at B (10:02) can arrive before their logout or their earlier login at A (10:00); folded
    in that order, the session at A would end at the wrong time, or the one at B not at all. A
    login is therefore held ``wait_s`` after it arrives, and held logins leave in timestamp order
    (a login whose wait is over takes every held login stamped before it along, first). The
    station's later events queue behind its held login, so each station keeps its own order.
    Everything else passes straight through. Sound when the processes' commit skew stays below
    ``wait_s``, the same bound as the ``ReorderBuffer``'s.
    """

    def __init__(self, wait_s: float = 2.0) -> None:
        self.wait_s = wait_s
        self._queues: dict[K, list[_Queued[T]]] = {}
        self.held = 0

    def push(self, key: K, item: T, ts: datetime, hold: bool, now: float) -> list[T]:
        q = self._queues.get(key)
        if q is None:
            if not hold:
                return [item]
            q = self._queues[key] = []
        q.append(_Queued(item, ts, hold, now))
        self.held += 1
        return []

    def release(self, now: float) -> list[T]:
        out: list[T] = []
        while self._queues:
            # Each queue's head is a held login; the ripe ones are those whose wait is over.
            heads = [(q[0].ts, k) for k, q in self._queues.items()]
            ripe = [ts for (ts, k) in heads if now - self._queues[k][0].arrived >= self.wait_s]
            if not ripe:
                break
            upto = max(ripe)
            due = sorted((h for h in heads if h[0] <= upto), key=lambda h: h[0])
            for _ts, k in due:
                self._pop_head(k, out)
        return out

    def flush(self) -> list[T]:
        return self.release(float("inf"))

    def _pop_head(self, key: K, out: list[T]) -> None:
        """Release the head login and what follows it, up to the station's next login."""
        q = self._queues[key]
        out.append(q[0].item)
        i = 1
        while i < len(q) and not q[i].hold:
            out.append(q[i].item)
            i += 1
        self.held -= i
        del q[:i]
        if not q:
            del self._queues[key]

    def __len__(self) -> int:
        return self.held
