"""The supervisor's alerts and the bottleneck, from one line's live snapshot.

Pure functions over the plain data of ``LiveState.line_live`` (plus attended hours per worker), so
the rules are testable by hand. The hours rule is the simple one the dashboard needs (regular day
plus an overtime cap); the compliance engine owns the full rule sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AlertRules:
    idle_min: float = 10.0
    # WIP "piling up": at least this many bundles and this many times the line's average.
    wip_min_bundles: int = 4
    wip_factor: float = 2.0
    regular_h: float = 8.0
    overtime_cap_h: float = 3.0
    near_h: float = 0.5


def station_status(st: dict[str, Any]) -> str:
    """running / idle / down / empty (nobody logged in) for the grid's colours."""
    if st.get("downtime"):
        return "down"
    if not st.get("worker"):
        return "empty"
    return "running" if st.get("machine_state") == "running" else "idle"


def efficiency_band(eff: float | None) -> str:
    """Colour band of an efficiency: the trade reads < 50 % as poor and ≥ 70 % as good."""
    if eff is None:
        return "none"
    if eff < 50:
        return "low"
    if eff < 70:
        return "mid"
    return "high"


def working_speed_pct(st: dict[str, Any], min_running_min: float = 10.0) -> float | None:
    """Earned minutes per minute the machine ran, in percent: how fast the station sews when it has
    work. Efficiency today would also count the time it waited for bundles, and a starved station is
    not a slow one. Without enough machine time (manual operations), efficiency today stands in."""
    running_min = (st.get("machine_s_today") or {}).get("running", 0.0) / 60.0
    if running_min >= min_running_min and st.get("earned_min_today"):
        return 100.0 * st["earned_min_today"] / running_min
    return st.get("efficiency_pct_today")


def bottleneck(
    stations: list[dict[str, Any]], sam_of_op: dict[str, float], min_attended_min: float = 15.0
) -> str | None:
    """The station that limits the line's output: the capacity-study rule of industrial engineers.

    A station's capacity is 60 ÷ its operation's SAM × its working speed (pieces an hour); an
    operation's capacity is the sum over the stations sharing it. The operation with the lowest
    capacity caps the line, and within it the slowest station is the one to help. Stations attended
    for less than ``min_attended_min`` today are left out: a few minutes say nothing about speed.
    """
    by_op: dict[str, list[tuple[float, str]]] = {}
    for st in stations:
        op, speed = st.get("op"), working_speed_pct(st)
        sam = sam_of_op.get(op or "", 0.0)
        if not st.get("worker") or not speed or sam <= 0 or st.get("attended_min_today", 0.0) < min_attended_min:
            continue
        by_op.setdefault(op or "", []).append((60.0 / sam * speed / 100.0, st["station"]))
    if not by_op:
        return None
    op = min(by_op, key=lambda o: (sum(c for c, _ in by_op[o]), o))
    return min(by_op[op])[1]


def line_alerts(
    stations: list[dict[str, Any]],
    now: datetime,
    attended_h: dict[str, float],
    rules: AlertRules = AlertRules(),
) -> list[dict[str, Any]]:
    """Alerts as data: kind, station/worker, a figure; the page words them per language."""
    out: list[dict[str, Any]] = []
    for st in stations:
        status = station_status(st)
        # A stop with a reason counts from its start; an idle machine from its last state change.
        since_iso = st.get("downtime_since") if status == "down" else st.get("machine_since")
        if status in ("idle", "down") and since_iso:
            idle_min = (now - datetime.fromisoformat(since_iso)).total_seconds() / 60.0
            if idle_min >= rules.idle_min:
                out.append(
                    {
                        "kind": "idle",
                        "station": st["station"],
                        "minutes": idle_min,
                        "status": status,
                        "reason": st.get("downtime_reason"),
                    }
                )
    wips = [st.get("wip", 0) for st in stations]
    avg = sum(wips) / len(wips) if wips else 0.0
    for st in stations:
        wip = st.get("wip", 0)
        if wip >= rules.wip_min_bundles and wip >= rules.wip_factor * avg:
            out.append({"kind": "wip", "station": st["station"], "bundles": wip})
    limit_h = rules.regular_h + rules.overtime_cap_h
    for st in stations:
        w = st.get("worker")
        if not w:
            continue
        h = attended_h.get(w, 0.0)
        if h >= limit_h - rules.near_h:
            out.append({"kind": "hours_cap", "station": st["station"], "worker": w, "hours": h, "limit": limit_h})
        elif h >= rules.regular_h - rules.near_h:
            out.append(
                {"kind": "hours_regular", "station": st["station"], "worker": w, "hours": h, "limit": rules.regular_h}
            )
    return out
