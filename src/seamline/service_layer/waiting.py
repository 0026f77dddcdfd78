"""Waiting for work, from the events: the off-standard time that is not the operator's loss.

A station **waits for work** while someone is logged in there and either
- no bundle is in work at it (no ``bundle_in`` without its ``bundle_out``; a piece counts as work
  on its bundle, for sources that report pieces without scanning bundles), and no other stop is
  open (a machine breakdown is downtime, not waiting), or
- the operator pressed "waiting for work" (downtime reason ``NO_WORK``) and has not ended it.

Seconds are counted like attended time (scheduled breaks excluded, by the line's calendar) per
station, worker and local day; an interval still open counts up to the query's ``as_of``. This is
what on-standard efficiency subtracts (docs/data-model.md, "On-standard efficiency").

An ingest projection (``name = "waiting"``): fed every accepted event, rebuilt from the store at
start-up, checkpointed with the others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..domain.events import BundleIn, BundleOut, Downtime, Login, Logout, Piece, SensorEvent
from ..domain.model import FactoryLayout

NO_WORK = "NO_WORK"


@dataclass(slots=True)
class _Station:
    worker: str | None = None
    in_work: set[str] = field(default_factory=set)
    stops: set[str] = field(default_factory=set)  # open downtime reasons
    since: datetime | None = None  # waiting since (None: not waiting)


@dataclass(frozen=True, slots=True)
class WaitingNow:
    station: str
    worker: str
    since: datetime


class WaitingProjection:
    name = "waiting"

    def __init__(self, layouts: dict[str, FactoryLayout]) -> None:
        self.layouts = layouts
        self.stations: dict[tuple[str, str], _Station] = {}
        # (factory, station, worker, local date) -> waiting seconds (closed intervals)
        self.seconds: dict[tuple[str, str, str, date], float] = defaultdict(float)

    # --- folding -----------------------------------------------------------------------------
    @staticmethod
    def _waiting(st: _Station) -> bool:
        if st.worker is None:
            return False
        if NO_WORK in st.stops:
            return True
        return not st.in_work and not st.stops

    def _add(self, factory: str, station: str, worker: str, start: datetime, end: datetime) -> None:
        lay = self.layouts.get(factory)
        if lay is None or end <= start or station not in lay.stations:
            return
        cal = lay.calendar_for_line(lay.stations[station].line_id)
        tz = lay.factory.tz
        s = start
        while s < end:
            local = s.astimezone(tz)
            nxt = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(tz)
            e = min(end, nxt)
            secs = cal.attended_s(s, e)
            if secs > 0:
                self.seconds[(factory, station, worker, local.date())] += secs
            s = e

    def apply(self, ev: SensorEvent) -> None:
        f, sid = ev.factory, ev.station
        if f is None or sid is None or f not in self.layouts:
            return
        if not isinstance(ev, (Login, Logout, BundleIn, BundleOut, Piece, Downtime)):
            return
        key = (f, sid)
        st = self.stations.get(key)
        if st is None:
            st = self.stations[key] = _Station()
        was, worker_before = self._waiting(st), st.worker
        ts = ev.ts
        if isinstance(ev, Login):
            st.worker = ev.worker
        elif isinstance(ev, Logout):
            if st.worker == ev.worker:
                st.worker = None
                st.in_work.clear()
        elif isinstance(ev, BundleIn):
            st.in_work.add(ev.bundle)
        elif isinstance(ev, BundleOut):
            st.in_work.discard(ev.bundle)
        elif isinstance(ev, Piece):
            st.in_work.add(ev.bundle)
        elif ev.phase == "start":
            st.stops.add(ev.reason)
        else:
            st.stops.discard(ev.reason)
        now = self._waiting(st)
        if was and (not now or st.worker != worker_before):
            if st.since is not None and worker_before is not None:
                self._add(f, sid, worker_before, st.since, max(ts, st.since))
            st.since = None
        if now and st.since is None:
            st.since = ts

    def retain(self, cutoff: datetime) -> None:
        day = cutoff.date()
        for k in [k for k in self.seconds if k[3] < day]:
            del self.seconds[k]

    def frozen_view(self) -> WaitingProjection:
        """A copy for pages computed outside the ingest lock: taken with live state's view (under
        the lock, in a fraction of a millisecond), so reading it never holds ingest up. Only the
        stations waiting now are copied; the closed seconds are a few entries per station a day."""
        v = object.__new__(WaitingProjection)
        v.layouts = self.layouts
        v.stations = {
            k: _Station(st.worker, set(), set(), st.since)
            for k, st in self.stations.items()
            if st.since is not None and st.worker is not None
        }
        v.seconds = defaultdict(float, self.seconds)
        return v

    # --- queries -----------------------------------------------------------------------------
    def waiting_s(
        self, factory: str, day: date, as_of: datetime, stations: set[str] | None = None
    ) -> dict[tuple[str, str], float]:
        """(station, worker) -> waiting seconds on local ``day`` up to ``as_of`` (open intervals cut)."""
        out: dict[tuple[str, str], float] = defaultdict(float)
        for (f, s, w, d), secs in self.seconds.items():
            if f == factory and d == day and (stations is None or s in stations):
                out[(s, w)] += secs
        lay = self.layouts[factory]
        tz = lay.factory.tz
        start = datetime.combine(day, datetime.min.time(), tz)
        for (f, s), st in self.stations.items():
            if f != factory or st.since is None or st.worker is None or (stations is not None and s not in stations):
                continue
            a, b = max(st.since, start), min(as_of, start + timedelta(days=1))
            if b > a and s in lay.stations:
                out[(s, st.worker)] += lay.calendar_for_line(lay.stations[s].line_id).attended_s(a, b)
        return dict(out)

    def waiting_now(self, factory: str, stations: set[str] | None = None) -> list[WaitingNow]:
        """Stations waiting for work at the latest event, with since when."""
        return [
            WaitingNow(s, st.worker, st.since)
            for (f, s), st in sorted(self.stations.items())
            if f == factory and st.since is not None and st.worker is not None and (stations is None or s in stations)
        ]


def create(layouts: dict[str, FactoryLayout], engine: object) -> WaitingProjection:
    return WaitingProjection(layouts)
