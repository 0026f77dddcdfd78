"""The line's bottleneck for the supervisor's headline: capacity-based, smoothed, never starved.

A bottleneck that jumps between stations every few minutes (and once onto a starved final
inspection at 2 %) sends the supervisor running for nothing. Two rules fix it:

- **capacity, not efficiency today**: a station's capacity is 60 ÷ SAM × its on-standard
  efficiency (earned minutes over the minutes it had work), in pieces an hour; an operation's
  capacity is the sum over the stations sharing it; the operation with the least capacity caps
  the line, and within it the slowest station is the one to help. An operation with a starved
  station (waiting for work now, or most of its time) is no candidate: the operation that limits
  the line has work piling up in front of it, and a station that waits has capacity to spare —
  it is a victim of the bottleneck, not the bottleneck.
- **hysteresis**: the marked bottleneck stays until another operation has been the lowest for
  ``hold_min`` minutes in a row *and* is at least ``margin`` below the marked one's capacity;
  a marked station that drops out (logged out, starved) is replaced at once.

Pure: the caller keeps ``BottleneckState`` per line between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HOLD_MIN = 15.0
MARGIN = 0.10
STARVED_SHARE = 0.5  # waited at least this share of its attended time: starved


@dataclass(frozen=True, slots=True)
class StationCapacity:
    station: str
    op_code: str
    pcs_per_h: float  # 60 ÷ SAM × on-standard efficiency
    starved: bool = False


@dataclass(frozen=True, slots=True)
class BottleneckState:
    station: str | None = None
    op_code: str | None = None
    since: datetime | None = None
    challenger: str | None = None  # the station that is the raw bottleneck now, if not the marked
    challenger_since: datetime | None = None


def op_capacity(caps: Sequence[StationCapacity]) -> dict[str, float]:
    """Op code -> pieces an hour of every station sewing it."""
    out: dict[str, float] = {}
    for c in caps:
        if c.pcs_per_h > 0:
            out[c.op_code] = out.get(c.op_code, 0.0) + c.pcs_per_h
    return out


def candidate_ops(caps: Sequence[StationCapacity]) -> dict[str, float]:
    """Op code -> capacity, for the operations none of whose stations is starved."""
    starved = {c.op_code for c in caps if c.starved}
    return {op: cap for op, cap in op_capacity(caps).items() if op not in starved}


def raw_bottleneck(caps: Sequence[StationCapacity]) -> tuple[str, str, float] | None:
    """(station, op, op capacity) of the lowest-capacity candidate operation now."""
    by_op = candidate_ops(caps)
    if not by_op:
        return None
    op = min(by_op, key=lambda o: (by_op[o], o))
    st = min((c for c in caps if c.op_code == op and c.pcs_per_h > 0), key=lambda c: (c.pcs_per_h, c.station))
    return st.station, op, by_op[op]


def smooth_bottleneck(
    prev: BottleneckState,
    caps: Sequence[StationCapacity],
    now: datetime,
    hold_min: float = HOLD_MIN,
    margin: float = MARGIN,
) -> BottleneckState:
    """The marked bottleneck after this observation (see the module text)."""
    raw = raw_bottleneck(caps)
    if raw is None:
        return BottleneckState()
    station, op, cap = raw
    cands = candidate_ops(caps)
    live = {c.station: c for c in caps if c.pcs_per_h > 0 and c.op_code in cands}
    if prev.station is None or prev.station not in live:
        return BottleneckState(station, op, now)
    marked_op = live[prev.station].op_code
    if op == marked_op:
        # the same operation is still the lowest: keep the marked station while it sews it
        return BottleneckState(prev.station, marked_op, prev.since)
    marked_cap = cands[marked_op]
    if cap > marked_cap * (1.0 - margin):
        return BottleneckState(prev.station, marked_op, prev.since)  # not clearly lower: no move
    since = prev.challenger_since if prev.challenger == station and prev.challenger_since else now
    if now - since >= timedelta(minutes=hold_min):
        return BottleneckState(station, op, now)
    return BottleneckState(prev.station, marked_op, prev.since, station, since)
