"""The append-only event store: accepted events, the quarantine and sequence gaps.

One batch is one transaction: the accepted events, the quarantined payloads and the gaps found
are committed together, so a crash loses a whole uncommitted batch (which the broker redelivers,
since it was not acknowledged) and never half of one.

Idempotency lives in the database: the unique key (event_id, factory_id, station_id, source) —
an id is the numbering device's own, so one station cannot shadow another's event by reusing its
id. Inserting a batch reports which keys were new, and hands the stored payload of each key that
was already there to ``judge_existing`` (inside the transaction), so a repeat that slipped past
the pipeline's in-memory cache (after a restart, or from another ingest process) is still counted
once, and a repeat with different content is still recorded as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, text

from ..domain.events import SensorEvent, decode_event
from . import tables as t

# What a page of the quarantine shows of each raw payload (``EventStore.quarantine``).
RAW_PREVIEW_BYTES = 1024

_EVENT_COLS = (
    "event_id",
    "factory_id",
    "station_id",
    "source",
    "seq",
    "type",
    "ts",
    "worker",
    "bundle",
    "op",
    "qty",
    "payload",
    "received_at",
)


@dataclass(slots=True)
class EventRow:
    event_id: str
    factory_id: str
    station_id: str
    source: str
    seq: int
    type: str
    ts: datetime
    worker: str | None
    bundle: str | None
    op: str | None
    qty: int | None
    payload: str
    received_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _EVENT_COLS}

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The deduplication key, in the unique index's column order."""
        return (self.event_id, self.factory_id, self.station_id, self.source)


@dataclass(slots=True)
class QuarantineRow:
    received_at: datetime
    source: str
    topic: str | None
    factory_id: str | None
    station_id: str | None
    event_id: str | None
    raw: bytes
    reason: str
    kind: str = "invalid"  # invalid | conflict | failed (the database refused it)


@dataclass(slots=True)
class GapRow:
    factory_id: str
    station_id: str
    expected_seq: int
    got_seq: int
    event_id: str
    detected_at: datetime


def _sqlite_ts(d: datetime) -> str:
    """The text SQLAlchemy's SQLite dialect stores for a (UTC, naive) datetime
    (``isoformat`` is several times faster than ``strftime`` and gives the same text)."""
    return d.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass(slots=True)
class TailRead:
    """One poll of the store by the scale-out reader (``EventStore.read_tail``)."""

    events: list[tuple[int, SensorEvent]]  # (pos, event), by pos
    horizon: int | None  # next transaction id after the read (PostgreSQL), else None
    oldest_running: int | None  # oldest transaction still running (PostgreSQL), else None
    full: bool  # the read hit its limit: more rows are waiting


def _copy_events_pg(conn: Any, rows: list[EventRow]) -> tuple[set[tuple[str, str, str, str]], dict[int, str]]:
    """Insert a batch on PostgreSQL; returns the keys that were new and, by position in ``rows``,
    the stored payload of each row whose key was already there.

    A multi-row ``INSERT ... VALUES`` of a 5,000-event batch spends most of its time in the
    driver building and parsing a statement with 60,000 parameters (about ten times SQLite's cost
    per event). COPY into a session-local staging table and one ``INSERT ... SELECT ... ON
    CONFLICT DO NOTHING`` keep the database as the arbiter of duplicates (across processes too)
    at a fraction of the cost; ``ORDER BY ord`` gives ``pos`` in the batch's order.
    """
    cols = ",".join(_EVENT_COLS)
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS events_in (ord integer, event_id text, factory_id text,"
            " station_id text, source text, seq bigint, type text, ts timestamptz, worker text, bundle text, op text,"
            " qty integer, payload text, received_at timestamptz) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY events_in (ord,{cols}) FROM STDIN") as copy:
            for i, r in enumerate(rows):
                copy.write_row((i, *(getattr(r, c) for c in _EVENT_COLS)))
        cur.execute(
            f"INSERT INTO events ({cols}) SELECT {cols} FROM events_in ORDER BY ord"
            " ON CONFLICT (event_id, factory_id, station_id, source) DO NOTHING"
            " RETURNING event_id, factory_id, station_id, source"
        )
        new = {tuple(x) for x in cur.fetchall()}
        existing: dict[int, str] = {}
        if len(new) < len(rows):
            cur.execute(
                "SELECT i.ord, i.event_id, i.factory_id, i.station_id, i.source, e.payload FROM events_in i"
                " JOIN events e ON e.event_id = i.event_id AND e.factory_id = i.factory_id"
                " AND e.station_id = i.station_id AND e.source = i.source"
            )
            for o, *key, stored in cur.fetchall():
                if tuple(key) not in new:
                    existing[o] = stored
        return new, existing
    finally:
        cur.close()


class EventStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"

    # --- writing -------------------------------------------------------------------------
    def commit_batch(
        self,
        rows: list[EventRow],
        quarantined: list[QuarantineRow],
        gaps_for: Callable[[list[EventRow]], list[GapRow]] | None = None,
        judge_existing: Callable[[list[tuple[EventRow, str]]], list[QuarantineRow]] | None = None,
    ) -> list[EventRow]:
        """Append a batch in one transaction; returns the rows that were new (in input order).

        ``rows`` must not repeat a key. ``judge_existing`` is called (when there are rows) with
        each row whose key was already stored and the stored payload, and returns rows to
        quarantine in the same transaction (the conflicts).
        """
        if self.is_sqlite:
            return self._commit_sqlite(rows, quarantined, gaps_for, judge_existing)
        return self._commit_generic(rows, quarantined, gaps_for, judge_existing)

    def _commit_sqlite(
        self,
        rows: list[EventRow],
        quarantined: list[QuarantineRow],
        gaps_for: Callable[[list[EventRow]], list[GapRow]] | None,
        judge_existing: Callable[[list[tuple[EventRow, str]]], list[QuarantineRow]] | None,
    ) -> list[EventRow]:
        # The raw driver path: SQLAlchemy's per-row overhead is larger than SQLite's own insert
        # cost. SQLite has one writer at a time, so "which keys exist" checked inside the write
        # transaction (BEGIN IMMEDIATE) cannot race with another writer.
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("BEGIN IMMEDIATE")
            new = rows
            quarantined = list(quarantined)
            if rows:
                wanted = {r.key for r in rows}
                stored: dict[tuple[str, str, str, str], str] = {}
                ids = sorted({r.event_id for r in rows})
                for i in range(0, len(ids), 900):
                    chunk = ids[i : i + 900]
                    # `event_id` leads the unique index, so this is an index lookup.
                    cur.execute(
                        "SELECT event_id, factory_id, station_id, source, payload FROM events"
                        f" WHERE event_id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    )
                    for e, f, s, src, payload in cur.fetchall():
                        if (e, f, s, src) in wanted:
                            stored[(e, f, s, src)] = payload
                if stored:
                    new = [r for r in rows if r.key not in stored]
                if judge_existing is not None:
                    quarantined += judge_existing([(r, stored[r.key]) for r in rows if r.key in stored])
                cur.executemany(
                    f"INSERT INTO events ({','.join(_EVENT_COLS)}) VALUES ({','.join('?' * len(_EVENT_COLS))})",
                    [
                        (
                            r.event_id,
                            r.factory_id,
                            r.station_id,
                            r.source,
                            r.seq,
                            r.type,
                            _sqlite_ts(r.ts),
                            r.worker,
                            r.bundle,
                            r.op,
                            r.qty,
                            r.payload,
                            _sqlite_ts(r.received_at),
                        )
                        for r in new
                    ],
                )
            if quarantined:
                cur.executemany(
                    "INSERT INTO quarantine (received_at, source, topic, factory_id, station_id, event_id, raw,"
                    " reason, kind) VALUES (?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            _sqlite_ts(q.received_at),
                            q.source,
                            q.topic,
                            q.factory_id,
                            q.station_id,
                            q.event_id,
                            q.raw,
                            q.reason,
                            q.kind,
                        )
                        for q in quarantined
                    ],
                )
            gaps = gaps_for(new) if gaps_for else []
            if gaps:
                cur.executemany(
                    "INSERT INTO seq_gaps (factory_id, station_id, expected_seq, got_seq, event_id, detected_at)"
                    " VALUES (?,?,?,?,?,?)",
                    [
                        (g.factory_id, g.station_id, g.expected_seq, g.got_seq, g.event_id, _sqlite_ts(g.detected_at))
                        for g in gaps
                    ],
                )
            raw.commit()
            return new
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def _commit_generic(
        self,
        rows: list[EventRow],
        quarantined: list[QuarantineRow],
        gaps_for: Callable[[list[EventRow]], list[GapRow]] | None,
        judge_existing: Callable[[list[tuple[EventRow, str]]], list[QuarantineRow]] | None,
    ) -> list[EventRow]:
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        with self.engine.begin() as conn:
            new = rows
            quarantined = list(quarantined)
            if rows:
                # Take the transaction id before drawing any `pos` from the sequence, so that a
                # reader that finds a position skipped knows its holder by the transaction
                # horizon (the scale-out tailer, domain/ordering.PosTracker). Otherwise PostgreSQL
                # may assign it only at the first row written, after a whole batch of nextval().
                conn.execute(text("SELECT pg_current_xact_id()"))
                existing: dict[int, str] = {}
                if conn.dialect.name == "postgresql":
                    inserted, existing = _copy_events_pg(conn, rows)
                else:
                    key_cols = ["event_id", "factory_id", "station_id", "source"]
                    stmt = (
                        pg_insert(t.events)
                        .on_conflict_do_nothing(index_elements=key_cols)
                        .returning(*(t.events.c[c] for c in key_cols))
                    )
                    inserted = {tuple(x) for x in conn.execute(stmt, [r.as_dict() for r in rows])}
                new = [r for r in rows if r.key in inserted]
                if judge_existing is not None:
                    quarantined += judge_existing([(rows[o], p) for o, p in sorted(existing.items())])
            if quarantined:
                conn.execute(
                    insert(t.quarantine),
                    [
                        {
                            "received_at": q.received_at,
                            "source": q.source,
                            "topic": q.topic,
                            "factory_id": q.factory_id,
                            "station_id": q.station_id,
                            "event_id": q.event_id,
                            "raw": q.raw,
                            "reason": q.reason,
                            "kind": q.kind,
                        }
                        for q in quarantined
                    ],
                )
            gaps = gaps_for(new) if gaps_for else []
            if gaps:
                conn.execute(insert(t.seq_gaps), _gap_values(gaps))
            return new

    # --- reading -------------------------------------------------------------------------
    def iter_events(
        self,
        factory: str | None = None,
        types: tuple[str, ...] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        after_pos: int = 0,
        chunk: int = 20_000,
    ) -> Iterator[tuple[int, SensorEvent]]:
        """Accepted events in the order they were accepted, decoded, with factory/station set."""
        pos = after_pos
        while True:
            q = select(t.events.c.pos, t.events.c.factory_id, t.events.c.station_id, t.events.c.payload).where(
                t.events.c.pos > pos
            )
            if factory is not None:
                q = q.where(t.events.c.factory_id == factory)
            if types is not None:
                q = q.where(t.events.c.type.in_(types))
            if start is not None:
                q = q.where(t.events.c.ts >= start)
            if end is not None:
                q = q.where(t.events.c.ts < end)
            q = q.order_by(t.events.c.pos).limit(chunk)
            with self.engine.connect() as conn:
                batch = conn.execute(q).all()
            if not batch:
                return
            for p, f, s, payload in batch:
                ev = decode_event(payload)
                ev.factory = f
                ev.station = s
                yield p, ev
            pos = batch[-1][0]
            if len(batch) < chunk:
                return

    def read_tail(self, after: int, holes: list[int], limit: int = 20_000) -> TailRead:
        """Events above ``after`` (at most ``limit``, by ``pos``) plus those of the ``holes`` that
        are committed by now, for a reader that keeps live state from the store (scale-out).

        On PostgreSQL the answer also carries the transaction horizon: the next transaction id,
        read *after* the rows (every transaction that may still commit a position skipped in them
        has a lower id, since writers take their id before drawing positions), and the oldest
        transaction still running, read *before* the rows (once it has reached a hole's horizon,
        the hole's holder had ended before this read, so the hole can no longer fill). See
        ``domain/ordering.PosTracker``.
        """
        c = t.events.c
        cols = (c.pos, c.factory_id, c.station_id, c.payload)
        with self.engine.connect() as conn:
            oldest = horizon = None
            if not self.is_sqlite:
                # Before the rows: a hole whose horizon this reaches was settled before the read.
                oldest = conn.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar()
            rows = conn.execute(select(*cols).where(c.pos > after).order_by(c.pos).limit(limit)).all()
            full = len(rows) >= limit
            if holes:
                for i in range(0, len(holes), 5000):
                    rows = [*rows, *conn.execute(select(*cols).where(c.pos.in_(holes[i : i + 5000]))).all()]
            if not self.is_sqlite:
                # After the rows: the holder of any position skipped in them has a lower id.
                horizon = conn.execute(text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")).scalar()
        out = []
        for p, f, s, payload in rows:
            ev = decode_event(payload)
            ev.factory = f
            ev.station = s
            out.append((p, ev))
        out.sort(key=lambda x: x[0])
        return TailRead(out, horizon, oldest, full)

    def add_gaps(self, gaps: list[GapRow]) -> None:
        """Record sequence gaps found outside ingest (by the scale-out reader's reorder buffer)."""
        if not gaps:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(t.seq_gaps), _gap_values(gaps))

    def count_events(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())

    def quarantine(
        self,
        limit: int = 100,
        offset: int = 0,
        before: int | None = None,
        kind: str | None = None,
        preview_bytes: int = RAW_PREVIEW_BYTES,
    ) -> list[dict[str, Any]]:
        """A page of the quarantine, newest first: ``before`` (a ``qid``) is the cursor of the
        next page, ``offset`` skips rows. The raw payload is cut to ``preview_bytes`` in the
        database (a page of large rejects must not cost its full size); ``raw_bytes`` tells the
        whole size and ``quarantine_entry`` gives one whole."""
        c = t.quarantine.c
        cols = [c.qid, c.received_at, c.source, c.topic, c.factory_id, c.station_id, c.event_id, c.reason, c.kind]
        q = select(*cols, func.substr(c.raw, 1, preview_bytes).label("raw"), func.length(c.raw).label("raw_bytes"))
        if before is not None:
            q = q.where(c.qid < before)
        if kind is not None:
            q = q.where(c.kind == kind)
        q = q.order_by(c.qid.desc()).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            out = []
            for r in conn.execute(q).mappings():
                d = dict(r)
                d["raw"] = bytes(d["raw"] or b"").decode("utf-8", "replace")
                d["raw_truncated"] = d["raw_bytes"] > preview_bytes
                out.append(d)
            return out

    def quarantine_entry(self, qid: int) -> dict[str, Any] | None:
        """One quarantined payload, whole (``raw`` as text with undecodable bytes replaced, and
        ``raw_base64`` exactly as received)."""
        import base64

        with self.engine.connect() as conn:
            r = conn.execute(select(t.quarantine).where(t.quarantine.c.qid == qid)).mappings().first()
        if r is None:
            return None
        d = dict(r)
        raw = bytes(d["raw"])
        d["raw"] = raw.decode("utf-8", "replace")
        d["raw_base64"] = base64.b64encode(raw).decode("ascii")
        d["raw_bytes"] = len(raw)
        return d

    def count_quarantine(self, kind: str | None = None) -> int:
        q = select(func.count()).select_from(t.quarantine)
        if kind is not None:
            q = q.where(t.quarantine.c.kind == kind)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def gaps(self, factory: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        q = select(t.seq_gaps).order_by(t.seq_gaps.c.gid.desc()).limit(limit)
        if factory is not None:
            q = q.where(t.seq_gaps.c.factory_id == factory)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


def _gap_values(gaps: list[GapRow]) -> list[dict[str, object]]:
    """Rows for ``seq_gaps``, whether ingest or the scale-out reader found the gaps."""
    return [
        {
            "factory_id": g.factory_id,
            "station_id": g.station_id,
            "expected_seq": g.expected_seq,
            "got_seq": g.got_seq,
            "event_id": g.event_id,
            "detected_at": g.detected_at,
        }
        for g in gaps
    ]
