"""Hour rollups and projection checkpoints in the database (tables in ``tables_history``).

Two rollup tables: live state's (``hour_rollups``: pieces, earned minutes, attended and machine
time) and quality's (``quality_rollups``: pieces checked, defects by code, defective pieces).
Rollups and checkpoints are written in one transaction (``HistoryStore.save``): the hours evicted from memory and
the pickled read models that no longer hold them, at one event-store position. A crash between
two checkpoints therefore never counts an hour twice: on restart the tail after the checkpoint
is replayed into a state that still has those hours in memory, and the rollups in the table are
exactly the ones that state has dropped.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import astuple, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select

from ..domain.live import ROLLUP_FIELDS, RollupCell, RollupRow
from ..domain.model import FactoryLayout
from ..domain.order_rollup import FinishedOrderRow
from ..domain.quality_rollup import QUALITY_SCOPES, QualityRollupRow, QualitySums
from .tables_history import finished_orders, hour_rollups, projection_checkpoints, quality_rollups

# Bump when a read model's pickled shape changes: an old checkpoint is then ignored (full replay).
# 2: quality's piece index packed (quality/dhu.PieceRuns).
# 3: quality hands its evicted hours to ``quality_rollups`` (migration 0013): an older checkpoint's
#    quality had dropped them without a trace, so the first start after the upgrade replays the
#    whole store once, which backfills the table from the stored events.
CHECKPOINT_VERSION = "3"
_KEY = ("factory_id", "hour", "line_id", "station_id", "worker", "op")
_QKEY = (*_KEY, "code")
_QFIELDS = ("pieces", "defects", "defective")
assert tuple(f.name for f in fields(RollupCell)) == ROLLUP_FIELDS


class _Pickler(pickle.Pickler):
    """Master data and the engine are not state: they are referred to, and re-attached on load,
    so a checkpoint stays small and a re-imported layout is the one used after a restart."""

    def __init__(self, f: io.BytesIO, layouts: Mapping[str, FactoryLayout], engine: Engine) -> None:
        super().__init__(f, protocol=pickle.HIGHEST_PROTOCOL)
        self._layouts, self._engine = layouts, engine

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._layouts:
            return ("layouts",)
        if obj is self._engine:
            return ("engine",)
        if isinstance(obj, FactoryLayout):
            return ("layout", obj.factory.id)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, f: io.BytesIO, layouts: Mapping[str, FactoryLayout], engine: Engine) -> None:
        super().__init__(f)
        self._layouts, self._engine = layouts, engine

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "layouts":
            return self._layouts
        if pid[0] == "engine":
            return self._engine
        if pid[0] == "layout":
            return self._layouts[pid[1]]
        raise pickle.UnpicklingError(f"unknown reference {pid!r}")


class HistoryStore:
    def __init__(self, engine: Engine, layouts: Mapping[str, FactoryLayout]) -> None:
        self.engine = engine
        self.layouts = layouts
        # (factory, start, end) -> rows: the table changes only at a checkpoint, and pages ask for
        # the same past span (e.g. the month so far, for the hours rules) every few seconds.
        self._cache: dict[tuple[str, datetime, datetime], list[RollupRow]] = {}
        self._generation = 0  # bumped when the table changes: a read begun before is not cached
        self._finished: dict[str, dict[str, FinishedOrderRow]] = {}  # factory -> order -> row

    @property
    def generation(self) -> int:
        """Changes whenever the rollup tables do (a checkpoint or a clear)."""
        return self._generation

    # --- rollups -------------------------------------------------------------------------------
    def rollups(self, factory: str, start: datetime, end: datetime) -> list[RollupRow]:
        """Rollup rows of hours in [start, end)."""
        key = (factory, start, end)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        gen = self._generation
        c = hour_rollups.c
        q = select(hour_rollups).where(c.factory_id == factory, c.hour >= start, c.hour < end)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = [
            RollupRow(
                r.factory_id,
                r.hour,
                r.line_id,
                r.station_id,
                r.worker,
                r.op,
                RollupCell(*(getattr(r, n) for n in ROLLUP_FIELDS)),
            )
            for r in rows
        ]
        if len(self._cache) >= 32:
            self._cache.clear()
        if gen == self._generation:
            self._cache[key] = out
        return out

    def rollup_tallies(
        self, factory: str, scope: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime, int, float, float, int, int]]:
        """Per key of ``scope`` (worker, station, line, factory) and hour in [start, end): pieces,
        earned_min, attended_s, output, defects summed by the database (rows with none of them,
        machine and downtime time, are left out; so are rows without a worker for ``worker``)."""
        ckey = (f"tallies:{scope}:{factory}", start, end)
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit  # type: ignore[return-value]
        gen = self._generation
        c = hour_rollups.c
        keycol = {"worker": c.worker, "station": c.station_id, "line": c.line_id}.get(scope)
        sums = (
            func.sum(c.pieces),
            func.sum(c.earned_min),
            func.sum(c.attended_s),
            func.sum(c.output),
            func.sum(c.defects),
        )
        cond = [
            c.factory_id == factory,
            c.hour >= start,
            c.hour < end,
            or_(c.pieces != 0, c.earned_min != 0, c.output != 0, c.defects != 0, c.attended_s != 0),
        ]
        if scope == "worker":
            cond.append(c.worker != "")
        if keycol is None:
            q = select(c.hour, *sums).where(*cond).group_by(c.hour)
        else:
            q = select(keycol, c.hour, *sums).where(*cond).group_by(keycol, c.hour)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out = [
            (
                "" if keycol is None else r[0],
                r[-6],
                int(r[-5] or 0),
                float(r[-4] or 0.0),
                float(r[-3] or 0.0),
                int(r[-2] or 0),
                int(r[-1] or 0),
            )
            for r in rows
        ]
        if len(self._cache) >= 32:
            self._cache.clear()
        if gen == self._generation:
            self._cache[ckey] = out  # type: ignore[assignment]
        return out

    # --- finished orders ---------------------------------------------------------------------
    def finished_orders(self, factory: str) -> Mapping[str, FinishedOrderRow]:
        """Orders of ``factory`` that order progress handed over (order id -> row); cached until
        the next checkpoint, so a page asking every second costs a dictionary lookup."""
        hit = self._finished.get(factory)
        if hit is not None:
            return hit
        gen = self._generation
        c = finished_orders.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(finished_orders).where(c.factory_id == factory)).all()
        out = {
            r.order_id: FinishedOrderRow(
                r.factory_id, r.order_id, r.done, r.earned_min, r.line_id, r.line_earned_min, r.first_ts, r.last_ts
            )
            for r in rows
        }
        if gen == self._generation:
            self._finished[factory] = out
        return out

    @staticmethod
    def _add_finished(conn: Any, rows: Sequence[FinishedOrderRow]) -> None:
        """Insert, or merge into the order's row (an order reopened by a late rework, evicted again)."""
        c = finished_orders.c
        for r in rows:
            old = conn.execute(select(finished_orders).where(c.factory_id == r.factory, c.order_id == r.order)).first()
            if old is not None:
                prev = FinishedOrderRow(
                    old.factory_id,
                    old.order_id,
                    old.done,
                    old.earned_min,
                    old.line_id,
                    old.line_earned_min,
                    old.first_ts,
                    old.last_ts,
                )
                r = prev.merged(r)
                conn.execute(delete(finished_orders).where(c.factory_id == r.factory, c.order_id == r.order))
            conn.execute(
                insert(finished_orders),
                [
                    {
                        "factory_id": r.factory,
                        "order_id": r.order,
                        "done": r.done,
                        "earned_min": r.earned_min,
                        "line_id": r.line,
                        "line_earned_min": r.line_earned_min,
                        "first_ts": r.first_ts,
                        "last_ts": r.last_ts,
                    }
                ],
            )

    def count_finished_orders(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(finished_orders)).scalar_one())

    def max_pos(self) -> int:
        """The event store's last position (0 when empty)."""
        from .tables import events

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(events.c.pos), 0))).scalar_one())

    def count_rollups(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(hour_rollups)).scalar_one())

    @staticmethod
    def _add_rollups(conn: Any, rows: list[RollupRow]) -> None:
        """Add rows to the table; an hour already there (a late event for an evicted hour) is summed."""
        if not rows:
            return
        merged: dict[tuple[Any, ...], list[float]] = {}
        for r in rows:
            k = (r.factory, r.hour.astimezone(UTC), r.line, r.station, r.worker, r.op)
            acc = merged.get(k)
            v = astuple(r.cell)
            merged[k] = list(v) if acc is None else [a + b for a, b in zip(acc, v, strict=True)]
        c = hour_rollups.c
        hours_by_factory: dict[str, set[datetime]] = {}
        for k in merged:
            hours_by_factory.setdefault(k[0], set()).add(k[1])
        for f, hours in hours_by_factory.items():
            hs = sorted(hours)
            for i in range(0, len(hs), 500):
                chunk = hs[i : i + 500]
                old = conn.execute(
                    select(hour_rollups).where(c.factory_id == f, or_(*[c.hour == h for h in chunk]))
                ).all()
                if not old:
                    continue
                for r in old:
                    k = (r.factory_id, r.hour.astimezone(UTC), r.line_id, r.station_id, r.worker, r.op)
                    prev = [getattr(r, n) for n in ROLLUP_FIELDS]
                    acc = merged.get(k)
                    merged[k] = prev if acc is None else [a + b for a, b in zip(acc, prev, strict=True)]
                conn.execute(delete(hour_rollups).where(c.factory_id == f, or_(*[c.hour == h for h in chunk])))
        values = [dict(zip(_KEY + ROLLUP_FIELDS, (*k, *v), strict=True)) for k, v in merged.items()]
        for i in range(0, len(values), 5000):
            conn.execute(insert(hour_rollups), values[i : i + 5000])

    # --- quality rollups -----------------------------------------------------------------------
    def quality_sums(self, factory: str, start: datetime, end: datetime, line: str | None) -> QualitySums:
        """Quality of the hours in [start, end) (of one line if ``line`` is set), summed by the
        database per line and hour, per key of each scope and per defect code: a month's figures
        are a few hundred rows whatever the number of stations and workers."""
        ckey = (f"quality:{factory}:{line}", start, end)
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit  # type: ignore[return-value]
        gen = self._generation
        c = quality_rollups.c
        cond = [c.factory_id == factory, c.hour >= start, c.hour < end]
        if line is not None:
            cond.append(c.line_id == line)
        totals = [*cond, c.code == ""]
        sums = (func.sum(c.pieces), func.sum(c.defects), func.sum(c.defective))
        out = QualitySums()
        with self.engine.connect() as conn:
            for r in conn.execute(select(c.line_id, c.hour, *sums).where(*totals).group_by(c.line_id, c.hour)):
                out.by_line_hour[(r[0], r[1])] = (int(r[2] or 0), int(r[3] or 0), int(r[4] or 0))
            for scope in QUALITY_SCOPES:
                col = {"operation": c.op, "worker": c.worker, "station": c.station_id}[scope]
                q = select(col, *sums).where(*totals).group_by(col)
                out.by[scope] = {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in conn.execute(q)}
            q = select(c.code, func.sum(c.defects)).where(*cond, c.code != "").group_by(c.code)
            out.codes = {r[0]: int(r[1] or 0) for r in conn.execute(q)}
        if len(self._cache) >= 32:
            self._cache.clear()
        if gen == self._generation:
            self._cache[ckey] = out  # type: ignore[assignment]
        return out

    def count_quality_rollups(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(quality_rollups)).scalar_one())

    @staticmethod
    def _add_quality_rollups(conn: Any, rows: Sequence[QualityRollupRow]) -> None:
        """Add quality rows; a cell already in the table (a late event for an evicted hour) is summed."""
        if not rows:
            return
        merged: dict[tuple[Any, ...], list[int]] = {}
        for r in rows:
            k = (r.factory, r.hour.astimezone(UTC), r.line, r.station, r.worker, r.op, r.code)
            v = [r.pieces, r.defects, r.defective]
            acc = merged.get(k)
            merged[k] = v if acc is None else [a + b for a, b in zip(acc, v, strict=True)]
        c = quality_rollups.c
        hours_by_factory: dict[str, set[datetime]] = {}
        for k in merged:
            hours_by_factory.setdefault(k[0], set()).add(k[1])
        for f, hours in hours_by_factory.items():
            hs = sorted(hours)
            for i in range(0, len(hs), 500):
                where = (c.factory_id == f, or_(*[c.hour == h for h in hs[i : i + 500]]))
                old = conn.execute(select(quality_rollups).where(*where)).all()
                if not old:
                    continue
                for r in old:
                    k = (r.factory_id, r.hour.astimezone(UTC), r.line_id, r.station_id, r.worker, r.op, r.code)
                    prev = [r.pieces, r.defects, r.defective]
                    acc = merged.get(k)
                    merged[k] = prev if acc is None else [a + b for a, b in zip(acc, prev, strict=True)]
                conn.execute(delete(quality_rollups).where(*where))
        values = [dict(zip(_QKEY + _QFIELDS, (*k, *v), strict=True)) for k, v in merged.items()]
        for i in range(0, len(values), 5000):
            conn.execute(insert(quality_rollups), values[i : i + 5000])

    # --- checkpoints ---------------------------------------------------------------------------
    def save(
        self,
        pos: int,
        states: Mapping[str, object],
        rollups: list[RollupRow],
        quality: Sequence[QualityRollupRow] = (),
        finished: Sequence[FinishedOrderRow] = (),
    ) -> int:
        """Write the evicted hours (live state's and quality's), the finished orders order progress
        let go, and every read model's state at
        ``pos`` in one transaction; returns the checkpoint's size in bytes."""
        now = datetime.now(UTC)
        t = projection_checkpoints
        self._generation += 1
        self._cache.clear()
        self._finished.clear()
        size = 0
        with self.engine.begin() as conn:
            self._add_rollups(conn, rollups)
            self._add_quality_rollups(conn, quality)
            self._add_finished(conn, finished)
            conn.execute(delete(t))
            # One read model's bytes at a time (as ``load`` reads them): memory peaks at the read
            # models plus the largest one's pickle, not plus all of them.
            for name, obj in states.items():
                buf = io.BytesIO()
                _Pickler(buf, self.layouts, self.engine).dump(obj)
                blob = buf.getvalue()
                del buf
                size += len(blob)
                conn.execute(
                    insert(t),
                    [{"name": name, "pos": pos, "version": CHECKPOINT_VERSION, "taken_at": now, "state": blob}],
                )
                del blob
        self._generation += 1
        self._cache.clear()
        self._finished.clear()
        return size

    def load(self) -> tuple[int, dict[str, object]] | None:
        """The latest checkpoint (position, name -> state), or None if there is none usable."""
        t = projection_checkpoints
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.pos, t.c.version)).all()
            if not rows or any(r.version != CHECKPOINT_VERSION for r in rows) or len({r.pos for r in rows}) != 1:
                return None
            # One read model at a time: its bytes are dropped before the next is read, so start-up
            # peaks at the read models plus the largest one's bytes, not plus all of them.
            states = {}
            for r in rows:
                blob = conn.execute(select(t.c.state).where(t.c.name == r.name)).scalar_one()
                states[r.name] = _Unpickler(io.BytesIO(blob), self.layouts, self.engine).load()
                del blob
        return rows[0].pos, states

    def clear(self) -> None:
        """Forget checkpoints and rollups (``seamline rebuild`` starts from the event store)."""
        self._generation += 1
        self._cache.clear()
        self._finished.clear()
        with self.engine.begin() as conn:
            conn.execute(delete(projection_checkpoints))
            conn.execute(delete(finished_orders))
            conn.execute(delete(hour_rollups))
            conn.execute(delete(quality_rollups))


__all__ = ["CHECKPOINT_VERSION", "HistoryStore"]
