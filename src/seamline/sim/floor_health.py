"""How a floor looks from its events: starved stations, first garments, line efficiency.

A demo that shows half the stations waiting for work and no garment for hours does not look like
a factory (issue #21). These figures are what a visitor sees on the pages, computed from the event
stream alone (what the sensors said), so a test or a benchmark can judge the simulated floor the
same way whether the events come straight from the engine or back from the server's store.

- *starved*: a logged-in station idle outside breaks and outside a stoppage or changeover, i.e.
  waiting for a bundle (with or without the operator's NO_WORK press);
- *first garment*: the first piece of a final operation (a garment leaving the line), in minutes
  after the line's shift start that day;
- *line efficiency*: earned minutes (pieces × operation SAM) ÷ attended minutes (login to logout
  minus breaks), as the live pages compute it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from seamline.domain.model import FactoryLayout

# (topic, payload, ts): what simulate() returns and the replay files hold.
Ev = tuple[str, bytes, datetime]

_dec = msgspec.json.Decoder()


@dataclass(slots=True)
class LineHealth:
    line: str
    stations: int
    attended_min: float = 0.0
    starved_min: float = 0.0
    earned_min: float = 0.0
    garments: int = 0
    first_garment_min: float | None = None
    # Stations that waited more than half of their attended time.
    mostly_starved: list[str] = field(default_factory=list)

    @property
    def starved_share(self) -> float:
        return self.starved_min / self.attended_min if self.attended_min else 0.0

    @property
    def efficiency_pct(self) -> float:
        return 100.0 * self.earned_min / self.attended_min if self.attended_min else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "stations": self.stations,
            "garments": self.garments,
            "first_garment_min": None if self.first_garment_min is None else round(self.first_garment_min, 1),
            "starved_share": round(self.starved_share, 4),
            "efficiency_pct": round(self.efficiency_pct, 1),
            "mostly_starved": self.mostly_starved,
        }


def _minus(a: float, b: float, cuts: list[tuple[float, float]]) -> float:
    """Length of [a, b) outside the (sorted, disjoint) ``cuts``."""
    total = b - a
    for x, y in cuts:
        lo, hi = max(a, x), min(b, y)
        if hi > lo:
            total -= hi - lo
    return max(0.0, total)


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def floor_health(layout: FactoryLayout, events: Iterable[Ev], until: datetime | None = None) -> dict[str, LineHealth]:
    """Per line: starved and attended minutes, earned minutes, garments and the first one's time.

    ``until`` closes sessions still open (default: the last event's time)."""
    by_station: dict[str, list[tuple[datetime, dict[str, object]]]] = defaultdict(list)
    last: datetime | None = None
    for topic, payload, ts in events:
        station = topic.rsplit("/", 2)[-2]
        by_station[station].append((ts, _dec.decode(payload)))
        last = ts if last is None or ts > last else last
    end = until or last
    out = {
        lid: LineHealth(lid, sum(1 for s in layout.stations.values() if s.line_id == lid))
        for lid in sorted(layout.lines)
    }
    if end is None:
        return out
    ops_sam: dict[tuple[str, str], float] = {}
    finals: dict[str, frozenset[str]] = {}
    for code, style in layout.styles.items():
        finals[code] = frozenset(style.final_operations())
        for op in style.operations:
            ops_sam[(code, op.code)] = op.sam_min
    style_of: dict[str, str] = {}
    for b in layout.bundles.values():
        o = layout.orders.get(b.order_id)
        if o is not None:
            style_of[b.id] = o.style_code
    origin = end  # a fixed point to turn datetimes into seconds
    breaks_by_line: dict[str, list[tuple[float, float]]] = {}
    shift_start: dict[tuple[str, str], float] = {}  # (line, date) -> second of the shift start

    def sec(dt: datetime) -> float:
        return (dt - origin).total_seconds()

    for lid in layout.lines:
        cal = layout.calendar_for_line(lid)
        first = min((ts for evs in by_station.values() for ts, _ in evs), default=end)
        day = first.astimezone(cal.tz).date() - timedelta(days=1)
        cuts: list[tuple[float, float]] = []
        while day <= end.astimezone(cal.tz).date():
            s = datetime.combine(day, cal.shift_start, cal.tz)
            e = datetime.combine(
                day if cal.shift_end > cal.shift_start else day + timedelta(days=1), cal.shift_end, cal.tz
            )
            shift_start[(lid, day.isoformat())] = sec(s)
            cuts += [(sec(a), sec(b)) for a, b in cal.break_intervals(s, e)]
            day += timedelta(days=1)
        breaks_by_line[lid] = sorted(cuts)

    for sid, evs in by_station.items():
        st = layout.stations.get(sid)
        if st is None or st.line_id not in out:
            continue
        h = out[st.line_id]
        cal = layout.calendar_for_line(st.line_id)
        breaks = breaks_by_line[st.line_id]
        evs.sort(key=lambda x: x[0])
        login: float | None = None
        idle_from: float | None = None
        stop_from: float | None = None
        stops: list[tuple[float, float]] = []
        idles: list[tuple[float, float]] = []
        att = 0.0
        for ts, ev in evs:
            t = sec(ts)
            kind = ev.get("type")
            if kind == "login":
                login = t
            elif kind == "logout" and login is not None:
                att += _minus(login, t, breaks)
                login = None
            elif kind == "machine":
                if ev.get("state") == "idle":
                    idle_from = t if idle_from is None else idle_from
                elif idle_from is not None:
                    idles.append((idle_from, t))
                    idle_from = None
            elif kind == "downtime" and ev.get("reason") != "NO_WORK":
                if ev.get("phase") == "start":
                    stop_from = t
                elif stop_from is not None:
                    stops.append((stop_from, t))
                    stop_from = None
            elif kind == "piece":
                bundle, op_code = str(ev.get("bundle")), str(ev.get("op"))
                style_code = style_of.get(bundle)
                if style_code is None:
                    continue
                qty = ev.get("qty", 1)
                n = qty if isinstance(qty, int) else 1
                h.earned_min += n * ops_sam.get((style_code, op_code), 0.0)
                if op_code in finals[style_code]:
                    h.garments += n
                    on = ts.astimezone(cal.tz).date().isoformat()
                    m = (t - shift_start.get((st.line_id, on), t)) / 60.0
                    if h.first_garment_min is None or m < h.first_garment_min:
                        h.first_garment_min = m
        if login is not None:
            att += _minus(login, 0.0, breaks)
        if idle_from is not None:
            idles.append((idle_from, 0.0))
        if stop_from is not None:
            stops.append((stop_from, 0.0))
        cuts = _merge(breaks + stops)
        starved = sum(_minus(a, b, cuts) for a, b in idles)
        h.attended_min += att / 60.0
        h.starved_min += starved / 60.0
        if att > 0 and starved > att / 2:
            h.mostly_starved.append(sid)
    for h in out.values():
        h.mostly_starved.sort()
    return out
