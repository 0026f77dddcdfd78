"""Inline and end-of-line quality from sensor events: DHU, % defective, Pareto, alerts.

``DhuAggregator.apply(event)`` folds one accepted event (``factory`` and ``station`` set, ``ts``
aware) in O(1) amortised; ``snapshot(...)`` sums the per-hour tallies of a time window. It can
be fed event by event by the live ingest, or replayed from the event store.

Accounting rules:
- Pieces checked for an operation are the pieces produced at it (the ``piece`` events): an
  operator's own inline check sees every piece she sews.
- A defect is charged to whoever produced that bundle at that operation — the worker logged in
  at the station of the latest ``piece`` event for (bundle, op) at or before the defect — not
  to the inspector's tablet that reported it. With no such piece on record it falls back to the
  reporting station and whoever is logged in there.
- DHU = defects × 100 ÷ pieces checked; % defective = defective pieces × 100 ÷ pieces checked.
  A defect event of qty q is q defects on q pieces, except that events from the same station
  for the same bundle, operation and instant describe the same pieces (several defects on one
  garment), so they add defects but not defective pieces.
- Hours are the factory's local clock hours.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from seamline.domain.efficiency import dhu as dhu_of
from seamline.domain.efficiency import hour_start
from seamline.domain.events import Defect, Login, Logout, Piece
from seamline.domain.model import FactoryLayout
from seamline.domain.quality_rollup import QUALITY_SCOPES, QualityHistory, QualityRollupRow, QualitySums

UNKNOWN = "?"
SCOPES = ("operation", "worker", "station", "line")


@dataclass(frozen=True, slots=True)
class DhuThresholds:
    """Alert when a worker's or an operation's DHU for the local day goes above the limit.

    ``min_pieces`` keeps the first few pieces of the day from raising alarms on noise (1 defect
    in 3 pieces is DHU 33).
    """

    worker_dhu: float = 5.0
    operation_dhu: float = 5.0
    min_pieces: int = 30


@dataclass(frozen=True, slots=True)
class DhuAlert:
    factory: str
    scope: str  # worker | operation
    key: str
    day: date
    ts: datetime
    dhu: float
    pieces: int
    defects: int
    threshold: float

    @property
    def message(self) -> str:
        return (
            f"{self.scope} {self.key}: DHU {self.dhu:.1f} over {self.threshold:g} "
            f"({self.defects} defects in {self.pieces} pieces on {self.day.isoformat()})"
        )


@dataclass(slots=True)
class QualityTally:
    pieces: int = 0
    defects: int = 0
    defective: int = 0

    def add(self, other: QualityTally) -> None:
        self.pieces += other.pieces
        self.defects += other.defects
        self.defective += other.defective

    @property
    def dhu(self) -> float | None:
        return dhu_of(self.defects, self.pieces)

    @property
    def pct_defective(self) -> float | None:
        return dhu_of(self.defective, self.pieces)

    def as_dict(self) -> dict[str, Any]:
        d, p = self.dhu, self.pct_defective
        return {
            "pieces": self.pieces,
            "defects": self.defects,
            "defective": self.defective,
            "dhu": None if d is None else round(d, 3),
            "pct_defective": None if p is None else round(p, 3),
        }


@dataclass(frozen=True, slots=True)
class DefectRecord:
    """One defect event, resolved to who made the piece: the unit of Pareto and traceability."""

    event_id: str
    factory: str
    ts: datetime
    hour: datetime
    code: str
    qty: int
    bundle: str
    op: str
    op_key: str
    made_at_station: str
    made_by: str
    made_ts: datetime | None
    line: str
    reported_at_station: str


@dataclass(frozen=True, slots=True)
class ParetoRow:
    code: str
    defects: int
    pct: float
    cum_pct: float


@dataclass(slots=True)
class DhuSnapshot:
    factory: str
    since: datetime | None
    until: datetime | None
    total: QualityTally = field(default_factory=QualityTally)
    by: dict[str, dict[str, QualityTally]] = field(default_factory=dict)
    by_hour: dict[datetime, QualityTally] = field(default_factory=dict)
    by_line_hour: dict[tuple[str, datetime], QualityTally] = field(default_factory=dict)
    pareto: list[ParetoRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "factory": self.factory,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "total": self.total.as_dict(),
            **{scope: {k: t.as_dict() for k, t in sorted(rows.items())} for scope, rows in self.by.items()},
            "by_hour": {h.isoformat(): t.as_dict() for h, t in sorted(self.by_hour.items())},
            "by_line_hour": {f"{ln}@{h.isoformat()}": t.as_dict() for (ln, h), t in sorted(self.by_line_hour.items())},
            "pareto": [
                {"code": r.code, "defects": r.defects, "pct": round(r.pct, 2), "cum_pct": round(r.cum_pct, 2)}
                for r in self.pareto
            ],
        }


def pareto(counts: Mapping[str, int]) -> list[ParetoRow]:
    """Defect codes by count, largest first, with share and cumulative share (%)."""
    total = sum(counts.values())
    rows: list[ParetoRow] = []
    cum = 0
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n <= 0:
            continue
        cum += n
        rows.append(ParetoRow(code, n, n * 100.0 / total, cum * 100.0 / total))
    return rows


def op_key(style: str | None, op: str) -> str:
    """Operation codes are per style; ``STYLE:OP`` keeps two styles' "OP10" apart."""
    return f"{style}:{op}" if style else op


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class PieceRuns:
    """The piece events of one (bundle, operation), packed: who made a bundle's pieces is asked
    for every defect and every trace, so they are kept for the whole retention window.

    As tuples of (datetime, station, worker, qty) they were two thirds of the server's memory
    (about 240 bytes a piece); here a piece is its time in microseconds and its quantity (16
    bytes), and station, worker and UTC offset are kept once per run of pieces that share them
    (a bundle's operation is mostly sewn at one station by one person). Times read back are the
    same instants with the same UTC offsets as the events.
    """

    __slots__ = ("qty", "runs", "us")

    def __init__(self) -> None:
        self.us = array("q")  # event time, microseconds since the epoch
        self.qty = array("q")
        self.runs: list[tuple[int, str, str, tzinfo | None]] = []  # (first index, station, worker, ts offset)

    def __len__(self) -> int:
        return len(self.us)

    def append(self, ts: datetime, station: str, worker: str, qty: int) -> None:
        i = len(self.us)
        self.us.append((ts - _EPOCH) // _US)
        self.qty.append(qty)
        tz = ts.tzinfo
        last = self.runs[-1] if self.runs else None
        if last is None or last[1] != station or last[2] != worker or last[3] != tz:
            self.runs.append((i, station, worker, tz))

    def _run(self, i: int) -> tuple[int, str, str, tzinfo | None]:
        return self.runs[bisect_right(self.runs, i, key=lambda r: r[0]) - 1]

    def _ts(self, i: int, tz: tzinfo | None) -> datetime:
        return (_EPOCH + self.us[i] * _US).astimezone(tz)

    def record(self, i: int) -> tuple[datetime, str, str, int]:
        _, station, worker, tz = self._run(i)
        return self._ts(i, tz), station, worker, self.qty[i]

    def records(self) -> Iterator[tuple[datetime, str, str, int]]:
        """(ts, station, worker, qty) in arrival order."""
        n = len(self.us)
        for j, (start, station, worker, tz) in enumerate(self.runs):
            end = self.runs[j + 1][0] if j + 1 < len(self.runs) else n
            for i in range(start, end):
                yield self._ts(i, tz), station, worker, self.qty[i]

    def latest_at_or_before(self, at: datetime) -> int | None:
        """Index of the latest piece at or before ``at`` (the last to arrive among equal times)."""
        at_us = (at - _EPOCH) // _US
        best = None
        us = self.us
        for i in range(len(us)):
            if us[i] <= at_us and (best is None or us[i] >= us[best]):
                best = i
        return best

    def earliest(self) -> int:
        us = self.us
        return min(range(len(us)), key=us.__getitem__)

    def kept_from(self, cutoff: datetime) -> PieceRuns | None:
        """The pieces at or after ``cutoff`` (None if none is)."""
        c_us = (cutoff - _EPOCH) // _US
        if all(u >= c_us for u in self.us):
            return self
        out = PieceRuns()
        for rec, u in zip(self.records(), self.us, strict=True):
            if u >= c_us:
                out.append(*rec)
        return out if len(out) else None


class _TzByFactory(dict[str, ZoneInfo]):
    """factory id -> ZoneInfo, looked up lazily from the layouts."""

    def __init__(self, layouts: Mapping[str, FactoryLayout]) -> None:
        super().__init__()
        self._layouts = layouts

    def __missing__(self, factory: str) -> ZoneInfo:
        tz = self[factory] = self._layouts[factory].factory.tz
        return tz


class DhuAggregator:
    """Quality tallies per operation, worker, station, line and factory, per local hour."""

    def __init__(
        self, layouts: FactoryLayout | Mapping[str, FactoryLayout], thresholds: DhuThresholds | None = None
    ) -> None:
        if isinstance(layouts, FactoryLayout):
            layouts = {layouts.factory.id: layouts}
        # Keep the caller's dict (not a copy): a factory imported later is seen at once.
        self.layouts: Mapping[str, FactoryLayout] = layouts
        self.thresholds = thresholds or DhuThresholds()
        self._tz: dict[str, ZoneInfo] = _TzByFactory(self.layouts)
        self._logged_in: dict[tuple[str, str], str] = {}  # (factory, station) -> worker
        self._station_of: dict[tuple[str, str], str] = {}  # (factory, worker) -> station
        # (factory, bundle, op) -> its piece events (ts, station, worker, qty) in arrival order
        self._made: dict[tuple[str, str, str], PieceRuns] = defaultdict(PieceRuns)
        self._bundle_ops: dict[tuple[str, str], set[str]] = defaultdict(set)
        # (factory, line, station, worker, operation, local hour) -> tally: the rollup grain
        # (domain/quality_rollup.py); every scope's figure is a sum of these cells.
        self.hourly: dict[tuple[str, str, str, str, str, datetime], QualityTally] = defaultdict(QualityTally)
        # factory -> the hour before which every hour was handed to the rollup table
        self.evicted_before: dict[str, datetime] = {}
        # Set after construction and after a checkpoint is loaded (not pickled): where evicted hours are read.
        self.history: QualityHistory | None = None
        self._daily: dict[tuple[str, str, str, date], QualityTally] = defaultdict(QualityTally)
        self._alerted: set[tuple[str, str, str, date]] = set()
        self._piece_keys: dict[tuple[str, str, str, str, datetime], int] = {}
        self._hour_cache: dict[str, tuple[datetime, datetime, datetime, date]] = {}
        self.defects: list[DefectRecord] = []
        # (factory, bundle) -> defects recorded on it, any operation: the tablet shows the bundle's count.
        self.bundle_defects: Counter[tuple[str, str]] = Counter()
        self.alerts: list[DhuAlert] = []

    # --- helpers ---------------------------------------------------------------------------
    def _factory(self, ev: Piece | Defect | Login | Logout) -> str:
        if ev.factory is not None:
            return ev.factory
        if len(self.layouts) == 1:
            return next(iter(self.layouts))
        raise ValueError(f"event {ev.id} has no factory and there are several layouts")

    def _line_of(self, factory: str, station: str) -> str:
        st = self.layouts[factory].stations.get(station)
        return st.line_id if st is not None else UNKNOWN

    def _style_code(self, factory: str, bundle: str) -> str | None:
        style = self.layouts[factory].style_of_bundle(bundle)
        return style.code if style is not None else None

    def _add(
        self,
        factory: str,
        line: str,
        ts: datetime,
        station: str,
        worker: str,
        okey: str,
        *,
        pieces: int = 0,
        defects: int = 0,
        defective: int = 0,
    ) -> list[DhuAlert]:
        c = self._hour_cache.get(factory)
        if c is not None and c[0] <= ts < c[1]:
            h, day = c[2], c[3]
        else:  # events mostly fall in the current hour: one time-zone conversion per hour, not per piece
            h = hour_start(ts, self._tz[factory])
            day = h.date()
            self._hour_cache[factory] = (h, (h.astimezone(UTC) + timedelta(hours=1)).astimezone(h.tzinfo), h, day)
        fired: list[DhuAlert] = []
        t = self.hourly[(factory, line, station, worker, okey, h)]
        t.pieces += pieces
        t.defects += defects
        t.defective += defective
        for scope, key in (("operation", okey), ("worker", worker)):
            d = self._daily[(factory, scope, key, day)]
            d.pieces += pieces
            d.defects += defects
            d.defective += defective
            alert = self._check(factory, scope, key, day, ts, d)
            if alert is not None:
                fired.append(alert)
        return fired

    def _check(self, factory: str, scope: str, key: str, day: date, ts: datetime, t: QualityTally) -> DhuAlert | None:
        if scope == "worker":
            limit = self.thresholds.worker_dhu
        elif scope == "operation":
            limit = self.thresholds.operation_dhu
        else:
            return None
        if key == UNKNOWN:
            return None
        akey = (factory, scope, key, day)
        value = t.dhu
        if value is None or t.pieces < self.thresholds.min_pieces or value <= limit:
            # Back under the limit re-arms the alert, so a second excursion is reported too.
            if value is not None and value <= limit:
                self._alerted.discard(akey)
            return None
        if akey in self._alerted:
            return None
        self._alerted.add(akey)
        alert = DhuAlert(factory, scope, key, day, ts, value, t.pieces, t.defects, limit)
        self.alerts.append(alert)
        return alert

    # --- apply -----------------------------------------------------------------------------
    def apply(self, ev: object) -> list[DhuAlert]:
        """Fold one event in; returns the alerts it raised (usually none). Other types are ignored."""
        if isinstance(ev, Login):
            f = self._factory(ev)
            assert ev.station is not None
            prev = self._station_of.get((f, ev.worker))
            if prev is not None and prev != ev.station and self._logged_in.get((f, prev)) == ev.worker:
                del self._logged_in[(f, prev)]
            self._logged_in[(f, ev.station)] = ev.worker
            self._station_of[(f, ev.worker)] = ev.station
            return []
        if isinstance(ev, Logout):
            f = self._factory(ev)
            assert ev.station is not None
            if self._logged_in.get((f, ev.station)) == ev.worker:
                del self._logged_in[(f, ev.station)]
                self._station_of.pop((f, ev.worker), None)
            return []
        if isinstance(ev, Piece):
            return self._piece(ev)
        if isinstance(ev, Defect):
            return self._defect(ev)
        return []

    def _piece(self, ev: Piece) -> list[DhuAlert]:
        f = self._factory(ev)
        station = ev.station or UNKNOWN
        worker = self._logged_in.get((f, station), UNKNOWN)
        self._made[(f, ev.bundle, ev.op)].append(ev.ts, station, worker, ev.qty)
        self._bundle_ops[(f, ev.bundle)].add(ev.op)
        okey = op_key(self._style_code(f, ev.bundle), ev.op)
        return self._add(f, self._line_of(f, station), ev.ts, station, worker, okey, pieces=ev.qty)

    def maker_of(self, factory: str, bundle: str, op: str, at: datetime) -> tuple[str, str, datetime] | None:
        """(station, worker, ts) of the latest piece of ``bundle`` at ``op`` at or before ``at``."""
        made = self._made.get((factory, bundle, op))
        if not made:
            return None
        i = made.latest_at_or_before(at)
        if i is None:  # the defect was reported before the piece event arrived: take the first
            i = made.earliest()
        ts, station, worker, _qty = made.record(i)
        return station, worker, ts

    def pieces_of(self, factory: str, bundle: str) -> list[tuple[str, datetime, str, str, int]]:
        """Every piece event of a bundle as (op, ts, station, worker, qty), in time order."""
        out = [
            (op, ts, st, wk, q)
            for op in self._bundle_ops.get((factory, bundle), ())
            for ts, st, wk, q in self._made[(factory, bundle, op)].records()
        ]
        out.sort(key=lambda r: (r[1], r[0]))
        return out

    def _defect(self, ev: Defect) -> list[DhuAlert]:
        f = self._factory(ev)
        reporter = ev.station or UNKNOWN
        maker = self.maker_of(f, ev.bundle, ev.op, ev.ts)
        if maker is not None:
            station, worker, made_ts = maker
        else:
            station, worker, made_ts = reporter, self._logged_in.get((f, reporter), UNKNOWN), None
        pkey = (f, reporter, ev.bundle, ev.op, ev.ts)
        seen = self._piece_keys.get(pkey, 0)
        defective = max(0, ev.qty - seen)
        self._piece_keys[pkey] = max(seen, ev.qty)
        okey = op_key(self._style_code(f, ev.bundle), ev.op)
        line = self._line_of(f, station)
        self.defects.append(
            DefectRecord(
                event_id=ev.id,
                factory=f,
                ts=ev.ts,
                hour=hour_start(ev.ts, self._tz[f]),
                code=ev.defect,
                qty=ev.qty,
                bundle=ev.bundle,
                op=ev.op,
                op_key=okey,
                made_at_station=station,
                made_by=worker,
                made_ts=made_ts,
                line=line,
                reported_at_station=reporter,
            )
        )
        self.bundle_defects[(f, ev.bundle)] += ev.qty
        return self._add(f, line, ev.ts, station, worker, okey, defects=ev.qty, defective=defective)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["history"] = None  # the database is re-attached after a checkpoint is loaded
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def forget_before(self, cutoff: datetime) -> list[QualityRollupRow]:
        """Drop what happened before ``cutoff`` (hour tallies, piece index, defect records) and
        return the dropped hours as rollup rows, for the rollup table (written in the checkpoint's
        transaction, so an hour is in memory or in the table, never both nor neither).

        Day tallies for alerts go with the hours of their day. ``cutoff`` is a local hour start.
        """
        rows: list[QualityRollupRow] = []
        for k in [k for k in self.hourly if k[5] < cutoff]:
            t = self.hourly.pop(k)
            f, line, station, worker, okey, h = k
            rows.append(QualityRollupRow(f, h, line, station, worker, okey, "", t.pieces, t.defects, t.defective))
        codes: Counter[tuple[str, datetime, str, str, str, str, str]] = Counter()
        kept: list[DefectRecord] = []
        for d in self.defects:
            if d.hour < cutoff:
                codes[(d.factory, d.hour, d.line, d.made_at_station, d.made_by, d.op_key, d.code)] += d.qty
            else:
                kept.append(d)
        rows.extend(QualityRollupRow(*k, defects=n) for k, n in codes.items())
        for f in {*self.layouts, *self.evicted_before}:
            prev = self.evicted_before.get(f)
            if prev is None or cutoff > prev:
                self.evicted_before[f] = cutoff
        days = {hour_start(cutoff, tz).date() for tz in self._tz.values()}
        oldest = min(days) if days else cutoff.date()
        for dk in [k for k in self._daily if k[3] < oldest]:
            del self._daily[dk]
        self._alerted = {a for a in self._alerted if a[3] >= oldest}
        for key in list(self._made):
            kept_runs = self._made[key].kept_from(cutoff)
            if kept_runs is not None:
                self._made[key] = kept_runs
            else:
                del self._made[key]
                ops = self._bundle_ops.get((key[0], key[1]))
                if ops is not None:
                    ops.discard(key[2])
                    if not ops:
                        del self._bundle_ops[(key[0], key[1])]
        self._piece_keys = {k: v for k, v in self._piece_keys.items() if k[4] >= cutoff}
        self.defects = kept
        self.bundle_defects = Counter()
        for d in self.defects:
            self.bundle_defects[(d.factory, d.bundle)] += d.qty
        self.alerts = [a for a in self.alerts if a.ts >= cutoff]
        return rows

    # --- queries ---------------------------------------------------------------------------
    def snapshot(
        self,
        factory: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        line: str | None = None,
    ) -> DhuSnapshot:
        """Totals over local hours whose start is in [since, until); Pareto over the same defects.

        ``line`` narrows everything to work made on that line's stations. Hours older than the
        retention window are read from the rollup table (summed by the database), so a past
        month's figures are the same as when its hours were in memory.
        """
        snap, counts, ask = self._in_memory(factory, since, until, line)
        if ask is not None and self.history is not None:
            self._add_past(snap, counts, self.history.quality_sums(snap.factory, *ask, line), self._tz[snap.factory])
        snap.pareto = pareto(counts)
        return snap

    def snapshot_beside(
        self,
        lock: AbstractContextManager[object],
        factory: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        line: str | None = None,
    ) -> DhuSnapshot:
        """``snapshot`` with the database read outside ``lock`` (the ingest lock): memory is summed
        under it, the past hours beside it. A checkpoint in between (the rollup table's generation
        moved: hours may have gone from memory to the table) makes it sum again under the lock."""
        with lock:
            snap, counts, ask = self._in_memory(factory, since, until, line)
            history = self.history
            gen = getattr(history, "generation", None)
        if ask is not None and history is not None:
            sums = history.quality_sums(snap.factory, *ask, line)
            if gen is None or getattr(history, "generation", None) != gen:
                with lock:
                    return self.snapshot(factory, since=since, until=until, line=line)
            self._add_past(snap, counts, sums, self._tz[snap.factory])
        snap.pareto = pareto(counts)
        return snap

    def _in_memory(
        self, factory: str | None, since: datetime | None, until: datetime | None, line: str | None
    ) -> tuple[DhuSnapshot, Counter[str], tuple[datetime, datetime] | None]:
        """The hours in memory summed, the defect codes counted, and which span [start, end) of
        evicted hours the rollup table must add (None: none)."""
        if factory is None:
            if len(self.layouts) != 1:
                raise ValueError("several factories: say which one")
            factory = next(iter(self.layouts))
        if factory not in self.layouts:
            raise KeyError(factory)
        tz = self._tz[factory]
        lo = hour_start(since, tz) if since is not None else None

        def in_window(h: datetime) -> bool:
            return (lo is None or h >= lo) and (until is None or h < until)

        snap = DhuSnapshot(factory, since, until, by={s: {} for s in SCOPES})
        by_op, by_worker, by_station, by_line = (snap.by[s] for s in SCOPES)
        for (f, ln, station, worker, okey, h), t in self.hourly.items():
            if f != factory or (line is not None and ln != line) or not in_window(h):
                continue
            for rows, key in ((by_op, okey), (by_worker, worker), (by_station, station), (by_line, ln)):
                acc = rows.get(key)
                if acc is None:
                    acc = rows[key] = QualityTally()
                acc.add(t)
            snap.total.add(t)
            snap.by_hour.setdefault(h, QualityTally()).add(t)
            snap.by_line_hour.setdefault((ln, h), QualityTally()).add(t)
        counts: Counter[str] = Counter()
        for d in self.defects:
            if d.factory == factory and in_window(d.hour) and (line is None or d.line == line):
                counts[d.code] += d.qty
        ask = None
        evicted = self.evicted_before.get(factory)
        if evicted is not None and (lo is None or lo < evicted):
            end = evicted if until is None else min(until, evicted)
            start = lo if lo is not None else datetime(1900, 1, 1, tzinfo=UTC)
            if start < end:
                ask = (start, end)
        return snap, counts, ask

    @staticmethod
    def _add_past(snap: DhuSnapshot, counts: Counter[str], sums: QualitySums, tz: ZoneInfo) -> None:
        """Fold the database's sums of evicted hours into a snapshot."""
        for (ln, hour), (p, d, dv) in sums.by_line_hour.items():
            t = QualityTally(p, d, dv)
            h = hour.astimezone(tz)
            snap.total.add(t)
            snap.by["line"].setdefault(ln, QualityTally()).add(t)
            snap.by_hour.setdefault(h, QualityTally()).add(t)
            snap.by_line_hour.setdefault((ln, h), QualityTally()).add(t)
        for scope in QUALITY_SCOPES:
            rows = snap.by[scope]
            for key, (p, d, dv) in sums.by.get(scope, {}).items():
                rows.setdefault(key, QualityTally()).add(QualityTally(p, d, dv))
        for code, n in sums.codes.items():
            counts[code] += n
