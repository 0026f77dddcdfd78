"""Attendance from login/logout events plus manual corrections, and who made which piece.

Why sessions and not a timesheet: the station's badge reader already says who sat where and when,
so hours and piece counts come from the same facts and a worker can check both on the tablet.

Rules (docs/compliance.md):
- a session runs login -> logout of one worker; attended time excludes the scheduled breaks of the
  station's line calendar (``ShiftCalendar.attended_s``);
- the work day is the factory-local date the session *starts* in: a night shift across midnight
  belongs to the evening it started;
- a missing logout closes the session at the shift end, or at the worker's last piece there if that is
  later, and flags it ``missing_logout`` so a supervisor can correct it;
- a login on a second station while logged in elsewhere closes the first session at that instant;
  a second worker logging in at an occupied station closes the first worker's session there;
- corrections (add / adjust / void) are records with who, when and why, applied in order on top of
  the event sessions: nothing is ever edited in place.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from seamline.domain.events import Defect, Login, Logout, Piece
from seamline.domain.model import FactoryLayout, ShiftCalendar


class CorrectionError(ValueError):
    """A manual correction that cannot be applied; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    worker: str
    station: str | None
    start: datetime
    end: datetime
    work_day: date
    calendar: ShiftCalendar = field(repr=False, compare=False)
    flags: tuple[str, ...] = ()
    source: str = "events"

    @property
    def attended_s(self) -> float:
        return self.calendar.attended_s(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Correction:
    """A supervisor's change to attendance: never silent, so who/when/why are mandatory."""

    id: str
    action: Literal["add", "adjust", "void"]
    worker: str
    who: str
    at: datetime
    why: str
    session_id: str | None = None
    station: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.action not in ("add", "adjust", "void"):
            raise CorrectionError(f"correction {self.id}: unknown action {self.action!r}")
        if not self.who.strip() or not self.why.strip():
            raise CorrectionError(f"correction {self.id}: who and why are required")
        if self.at.tzinfo is None:
            raise CorrectionError(f"correction {self.id}: `at` must be timezone-aware")
        for name in ("start", "end"):
            v = getattr(self, name)
            if v is not None and v.tzinfo is None:
                raise CorrectionError(f"correction {self.id}: `{name}` must be timezone-aware")
        if self.action == "add" and (self.start is None or self.end is None):
            raise CorrectionError(f"correction {self.id}: add needs start and end")
        if self.action in ("adjust", "void") and not self.session_id:
            raise CorrectionError(f"correction {self.id}: {self.action} needs session_id")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise CorrectionError(f"correction {self.id}: end must be after start")


@dataclass(frozen=True, slots=True)
class WorkerPiece:
    """A piece event attributed to the worker logged in at its station at that instant."""

    event_id: str
    worker: str
    station: str
    ts: datetime
    work_day: date
    bundle: str
    op: str
    qty: int
    session_id: str


@dataclass(frozen=True, slots=True)
class WorkerDefect:
    """Pieces sent back for a defect, charged to the worker who made that (bundle, op)."""

    event_id: str
    worker: str
    ts: datetime
    day: date  # factory-local date the defect was recorded: deducted in that pay period
    bundle: str
    op: str
    qty: int
    defect: str
    piece_event_id: str


def calendar_for(layout: FactoryLayout, station: str | None, worker: str | None = None) -> ShiftCalendar:
    """The shift calendar of the station's line (else the worker's line, else the default)."""
    st = layout.stations.get(station) if station else None
    if st is not None:
        return layout.calendar_for_line(st.line_id)
    w = layout.workers.get(worker) if worker else None
    if w is not None and w.line_id:
        return layout.calendar_for_line(w.line_id)
    return layout.calendar_for_line("")


def work_day_of(layout: FactoryLayout, ts: datetime) -> date:
    return ts.astimezone(layout.factory.tz).date()


def _shift_end_after(cal: ShiftCalendar, start: datetime) -> tuple[datetime, bool]:
    """First scheduled shift end after ``start``, and whether ``start`` lies within that shift."""
    tz = cal.tz
    local = start.astimezone(tz)
    span = datetime.combine(date(2026, 1, 5), cal.shift_end) - datetime.combine(date(2026, 1, 5), cal.shift_start)
    if span <= timedelta(0):
        span += timedelta(days=1)
    for d in (local.date() - timedelta(days=1), local.date(), local.date() + timedelta(days=1)):
        end = datetime.combine(d, cal.shift_end, tz)
        if end > start:
            return end, end - start <= span + timedelta(hours=1)
    raise AssertionError("unreachable: a shift end exists within two days")


# A session without a logout counts as still open (not forgotten) this long after its last piece.
OPEN_GRACE = timedelta(hours=1)


@dataclass(slots=True)
class _Open:
    login: Login
    station: str
    last_piece: datetime | None = None


def build_sessions(events: Iterable[object], layout: FactoryLayout, *, until: datetime | None = None) -> list[Session]:
    """Sessions from Login/Logout (and Piece, for last activity) events, in timestamp order.

    ``until``: the end of the data (e.g. now); an open session is closed there if that is before its
    shift end, flagged ``open``.
    """
    evs = sorted((e for e in events if isinstance(e, Login | Logout | Piece)), key=lambda e: e.ts)
    open_by_worker: dict[str, _Open] = {}
    worker_at_station: dict[str, str] = {}
    out: list[Session] = []

    def close(w: str, end: datetime | None, flag: str | None) -> None:
        o = open_by_worker.pop(w)
        if worker_at_station.get(o.station) == w:
            del worker_at_station[o.station]
        cal = calendar_for(layout, o.station, w)
        flags: tuple[str, ...] = ()
        if end is None:
            # No logout: close at the shift end, or at the last piece if that is later (pieces prove
            # presence; a login outside the shift only has its pieces). While data is still coming in,
            # a session inside its shift or with a piece in the last OPEN_GRACE is still open.
            shift_end, in_shift = _shift_end_after(cal, o.login.ts)
            last = o.last_piece or o.login.ts
            end = max(shift_end, last) if in_shift else last
            flags = ("missing_logout",)
            if until is not None and (until < end or until - last <= OPEN_GRACE):
                end, flags = max(until, o.login.ts), ("open",)
        elif flag:
            flags = (flag,)
        out.append(
            Session(
                id=o.login.id,
                worker=w,
                station=o.station,
                start=o.login.ts,
                end=max(end, o.login.ts),
                work_day=work_day_of(layout, o.login.ts),
                calendar=cal,
                flags=flags,
            )
        )

    for ev in evs:
        station = ev.station or ""
        if isinstance(ev, Piece):
            w = worker_at_station.get(station)
            if w is not None:
                open_by_worker[w].last_piece = ev.ts
            continue
        w = ev.worker
        if isinstance(ev, Logout):
            if w in open_by_worker:
                close(w, ev.ts, None)
            continue
        # Login
        if w in open_by_worker:
            o = open_by_worker[w]
            shift_end, in_shift = _shift_end_after(calendar_for(layout, o.station, w), o.login.ts)
            # a session left open is stale once its shift is over (or, for a login outside the shift,
            # once a later work day has begun): it ends as a missing logout, not at this login
            stale = (
                (ev.ts >= shift_end) if in_shift else (work_day_of(layout, ev.ts) != work_day_of(layout, o.login.ts))
            )
            if stale:
                close(w, None, None)
            elif o.station == station:
                continue  # repeated login at the same station: the session goes on
            else:
                close(w, ev.ts, "closed_by_login_elsewhere")
        other = worker_at_station.get(station)
        if other is not None:
            close(other, ev.ts, "replaced_at_station")
        open_by_worker[w] = _Open(ev, station)
        worker_at_station[station] = w
    for w in list(open_by_worker):
        close(w, None, None)
    out.sort(key=lambda s: (s.start, s.worker))
    return out


def apply_corrections(
    sessions: Sequence[Session], corrections: Iterable[Correction], layout: FactoryLayout
) -> list[Session]:
    """Effective attendance: the event sessions with the corrections applied in the order made."""
    by_id: dict[str, Session] = {s.id: s for s in sessions}
    for c in sorted(corrections, key=lambda c: c.at):
        if c.action == "add":
            if c.id in by_id:
                raise CorrectionError(f"correction {c.id}: a session with that id exists")
            assert c.start is not None and c.end is not None
            by_id[c.id] = Session(
                id=c.id,
                worker=c.worker,
                station=c.station,
                start=c.start,
                end=c.end,
                work_day=work_day_of(layout, c.start),
                calendar=calendar_for(layout, c.station, c.worker),
                flags=("manual",),
                source="correction",
            )
            continue
        s = by_id.get(c.session_id or "")
        if s is None:
            raise CorrectionError(f"correction {c.id}: no session {c.session_id!r} to {c.action}")
        if s.worker != c.worker:
            raise CorrectionError(f"correction {c.id}: session {s.id} belongs to {s.worker}, not {c.worker}")
        if c.action == "void":
            del by_id[s.id]
            continue
        start = c.start or s.start
        end = c.end or s.end
        if end <= start:
            raise CorrectionError(f"correction {c.id}: end must be after start")
        by_id[s.id] = replace(
            s,
            start=start,
            end=end,
            work_day=work_day_of(layout, start),
            flags=(*(f for f in s.flags if f not in ("missing_logout", "open")), "corrected"),
        )
    return sorted(by_id.values(), key=lambda s: (s.start, s.worker))


def effective_sessions(
    sessions: Iterable[Session],
) -> dict[str, list[Session]]:
    """Per worker, sessions in time order with overlaps cut off (corrections may overlap)."""
    per: dict[str, list[Session]] = defaultdict(list)
    for s in sorted(sessions, key=lambda s: (s.start, s.end)):
        lst = per[s.worker]
        if lst and s.start < lst[-1].end:
            if s.end <= lst[-1].end:
                continue
            s = replace(s, start=lst[-1].end)
        lst.append(s)
    return dict(per)


def attended_by_day(sessions: Iterable[Session]) -> dict[tuple[str, date], float]:
    """Attended seconds per (worker, work day), breaks excluded, overlaps counted once."""
    out: dict[tuple[str, date], float] = defaultdict(float)
    for w, lst in effective_sessions(sessions).items():
        for s in lst:
            out[(w, s.work_day)] += s.attended_s
    return dict(out)


def attribute_pieces(pieces: Iterable[Piece], sessions: Iterable[Session]) -> tuple[list[WorkerPiece], list[Piece]]:
    """Each piece goes to the worker logged in at its station at its instant; the rest are unattributed."""
    by_station: dict[str, list[Session]] = defaultdict(list)
    for s in sessions:
        if s.station:
            by_station[s.station].append(s)
    starts: dict[str, list[datetime]] = {}
    for st, st_sessions in by_station.items():
        st_sessions.sort(key=lambda s: s.start)
        starts[st] = [s.start for s in st_sessions]
    done: list[WorkerPiece] = []
    orphans: list[Piece] = []
    for p in pieces:
        lst = by_station.get(p.station or "")
        hit: Session | None = None
        if lst:
            i = bisect.bisect_right(starts[p.station or ""], p.ts) - 1
            # sessions at one station do not overlap, but corrections might: look back a little
            for j in range(i, max(i - 3, -1), -1):
                if lst[j].start <= p.ts <= lst[j].end:
                    hit = lst[j]
                    break
        if hit is None:
            orphans.append(p)
            continue
        done.append(WorkerPiece(p.id, hit.worker, p.station or "", p.ts, hit.work_day, p.bundle, p.op, p.qty, hit.id))
    return done, orphans


DEFECT_LOOKBACK = timedelta(days=14)


def attribute_defects(
    defects: Iterable[Defect],
    pieces: Iterable[WorkerPiece],
    layout: FactoryLayout,
    *,
    lookback: timedelta = DEFECT_LOOKBACK,
) -> tuple[list[WorkerDefect], list[Defect]]:
    """Charge each defect to the maker: the latest attributed piece of that (bundle, op) before it.

    Only pieces made within ``lookback`` before the defect count, so the answer does not depend on
    how much history a caller happened to load (the hash chain recomputes days and must agree).
    """
    made: dict[tuple[str, str], list[WorkerPiece]] = defaultdict(list)
    for p in sorted(pieces, key=lambda p: p.ts):
        made[(p.bundle, p.op)].append(p)
    done: list[WorkerDefect] = []
    orphans: list[Defect] = []
    for d in defects:
        cands = [p for p in made.get((d.bundle, d.op), []) if d.ts - lookback <= p.ts <= d.ts]
        if not cands:
            orphans.append(d)
            continue
        p = cands[-1]
        done.append(
            WorkerDefect(d.id, p.worker, d.ts, work_day_of(layout, d.ts), d.bundle, d.op, d.qty, d.defect, p.event_id)
        )
    return done, orphans
