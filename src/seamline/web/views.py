"""Page data: what each page shows, as plain JSON-ready dicts with locale-formatted text.

The server formats every number, time and label (Babel, gettext) so the browser only places text;
the same dict renders the first paint and every Server-Sent-Events update. Callers hold the
pipeline lock (``snapshot`` does) because these read live state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import Any

from ..domain import yielding
from ..domain.efficiency import efficiency_pct
from ..domain.live import LiveState
from ..domain.model import MACHINE_TYPES, FactoryLayout
from ..service_layer.hours_alerts import CACHE as HOURS_ALERTS
from . import alerts as al
from . import plan as pl
from .dispatch import next_task
from .i18n import N_, Fmt
from .progress import OrderProgress

DEFECT_CODES: dict[str, str] = {
    "SKIP_STITCH": N_("Skipped stitch"),
    "BROKEN_STITCH": N_("Broken stitch"),
    "PUCKERING": N_("Puckering"),
    "OPEN_SEAM": N_("Open seam"),
    "UNEVEN_STITCH": N_("Uneven stitch"),
    "STAIN": N_("Stain"),
}
DOWNTIME_REASONS: dict[str, str] = {
    "THREAD": N_("Thread break / rethread"),
    "MECH": N_("Machine breakdown"),
    "QUALITY": N_("Quality problem"),
    "NO_WORK": N_("Waiting for work"),
    "CHANGEOVER": N_("Style changeover"),
}
STATUS_LABELS: dict[str, str] = {
    "running": N_("Running"),
    "idle": N_("Idle"),
    "down": N_("Down"),
    "empty": N_("No operator"),
}
NEXT_KIND: dict[str, str] = {
    "same_bundle": N_("same bundle"),
    "next_bundle": N_("next bundle"),
    "wait": N_("waiting for a bundle"),
}


class NotFound(LookupError):
    """A page asked for a station, line or factory that is not loaded."""


def find_station(layouts: dict[str, FactoryLayout], station: str) -> FactoryLayout:
    for lay in layouts.values():
        if station in lay.stations:
            return lay
    raise NotFound(station)


def find_line(layouts: dict[str, FactoryLayout], line: str) -> FactoryLayout:
    for lay in layouts.values():
        if line in lay.lines:
            return lay
    raise NotFound(line)


def _reason(fmt: Fmt, code: str) -> str:
    msg = DOWNTIME_REASONS.get(code)
    return fmt.gettext(msg) if msg else code


def _mt_name(fmt: Fmt, code: str) -> str:
    en, zh = MACHINE_TYPES.get(code, (code, code))
    return fmt.name(zh, en)


def _line_name(fmt: Fmt, layout: FactoryLayout, line: str) -> str:
    ln = layout.lines.get(line)
    return fmt.split_name(ln.name) if ln else line


def _style_name(fmt: Fmt, layout: FactoryLayout, code: str | None) -> str:
    st = layout.styles.get(code) if code else None
    return fmt.name(st.name_zh, st.name_en) if st else "–"


def station_data(live: LiveState, layout: FactoryLayout, station: str, fmt: Fmt) -> dict[str, Any]:
    """The tablet: who, what (op, SAM, instruction), pieces vs target, efficiency, next task."""
    _ = fmt.gettext
    f = layout.factory.id
    s = layout.stations[station]
    line = layout.lines[s.line_id]
    now = live.as_of(f).astimezone(live.tz(f))
    day_start, day_end = live.day_bounds(f, now)
    st = live.stations.get((f, station))
    worker = st.worker if st else None
    snap: dict[str, Any] = {
        "station": station,
        "worker": worker,
        "downtime": sorted(st.downtime) if st else [],
        "machine_state": st.machine_state if st else "off",
    }
    status = al.station_status(snap)
    nt = next_task(layout, live, station, day_start)
    hour = now.replace(minute=0, second=0, microsecond=0)
    pieces_hour = sum(n for (ps, _op), n in live.bucket_ops(f, hour).items() if ps == station)
    eff = None
    if worker:
        tallies = live.tallies(f, "worker", day_start, day_end, now, [station]).get(worker, {})
        earned = sum(t.earned_min for t in tallies.values())
        attended = sum(t.attended_s for t in tallies.values()) / 60.0
        eff = efficiency_pct(earned, attended)
    op = nt.current.op if nt.current else None
    target_hour = 60.0 * line.target_efficiency_pct / 100.0 / op.sam_min if op else None
    style = layout.style_of_bundle(st.bundle) if st and st.bundle else None

    def task(t: Any) -> dict[str, Any] | None:
        if t is None:
            return None
        return {
            "op": t.op.code,
            "name": fmt.name(t.op.name_zh, t.op.name_en),
            "bundle": t.bundle,
            "order": t.order,
            "sam_txt": fmt.num(t.op.sam_min, 2),
        }

    return {
        "kind": "station",
        "factory": f,
        "station": station,
        "line": s.line_id,
        "line_name": _line_name(fmt, layout, s.line_id),
        "machine_type": s.machine_type,
        "machine_type_name": _mt_name(fmt, s.machine_type),
        "worker": worker,
        "worker_name": layout.workers[worker].name if worker in layout.workers else None,
        "status": status,
        "status_label": _(STATUS_LABELS[status]),
        "downtime": [{"code": c, "label": _reason(fmt, c)} for c in snap["downtime"]],
        "bundle": st.bundle if st else None,
        "order": layout.bundles[st.bundle].order_id if st and st.bundle in layout.bundles else None,
        "style_name": fmt.name(style.name_zh, style.name_en) if style else "–",
        "current": task(nt.current),
        "next": task(nt.next),
        "next_kind": nt.kind,
        "next_kind_label": _(NEXT_KIND[nt.kind]),
        "instruction": fmt.split_name(op.instruction) if op else "",
        "pieces_hour": pieces_hour,
        "pieces_hour_txt": fmt.num(pieces_hour),
        "target_hour_txt": fmt.num(target_hour) if target_hour else "–",
        "hour_pct": min(100.0, 100.0 * pieces_hour / target_hour) if target_hour else 0.0,
        "eff_txt": fmt.pct(eff),
        "eff_band": al.efficiency_band(eff),
        "wip": len(st.wip) if st else 0,
        "wip_txt": fmt.num(len(st.wip) if st else 0),
        "hours_alerts": [
            hours_rule_text(fmt, a)
            for a in HOURS_ALERTS.get(live, layout)
            if worker and a["worker"] == worker and a["severity"] in ("violation", "warning")
        ],
        "clock": now.isoformat(),
        "clock_txt": fmt.datetime(now),
        "events": live.events_applied,
    }


def _worker_hours(
    live: LiveState,
    factory: str,
    start: datetime,
    end: datetime,
    now: datetime,
    stations: list[str] | None = None,
    workers: Collection[str] | None = None,
) -> dict[str, float]:
    """Hours attended per worker (only ``workers``, when given: the page's); open sessions are
    cut only at ``stations`` (the page's)."""
    out: dict[str, float] = {}
    for key, by_hour in live.tallies(factory, "worker", start, end, now, stations).items():
        if workers is None or key in workers:
            out[key] = sum(t.attended_s for t in by_hour.values()) / 3600.0
    return out


def _hours_rule_alerts(live: LiveState, layout: FactoryLayout, stations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The compliance rules' findings (actual or projected to the shift end) for the workers now at
    these stations."""
    at = {st["worker"]: st["station"] for st in stations if st.get("worker")}
    return [
        {"kind": "hours_rule", "station": at[a["worker"]], **a}
        for a in HOURS_ALERTS.get(live, layout)
        if a["worker"] in at and a["severity"] in ("violation", "warning")
    ]


def hours_rule_text(fmt: Fmt, a: dict[str, Any]) -> str:
    msg = str(a["message_zh"] if fmt.lang.startswith("zh") else a["message_en"])
    return fmt.gettext("{message} (if working to the shift end)").format(message=msg) if a["projected"] else msg


def alert_text(fmt: Fmt, a: dict[str, Any], layout: FactoryLayout) -> str:
    _ = fmt.gettext
    if a["kind"] == "hours_rule":
        name = layout.workers[a["worker"]].name if a["worker"] in layout.workers else a["worker"]
        return f"{name} ({a['station']}): {hours_rule_text(fmt, a)}"
    if a["kind"] == "idle":
        dur = fmt.duration(a["minutes"] * 60)
        if a["status"] == "idle":
            return _("Station {station} idle for {duration}").format(station=a["station"], duration=dur)
        return _("Station {station} down for {duration}: {reason}").format(
            station=a["station"], duration=dur, reason=_reason(fmt, a.get("reason") or "")
        )
    if a["kind"] == "wip":
        return _("WIP piling up before {station}: {bundles} bundles").format(
            station=a["station"], bundles=fmt.num(a["bundles"])
        )
    name = layout.workers[a["worker"]].name if a["worker"] in layout.workers else a["worker"]
    msg = (
        _("{worker} at {station}: {hours} today, overtime cap {limit}")
        if a["kind"] == "hours_cap"
        else _("{worker} at {station}: {hours} today, regular day {limit}")
    )
    return msg.format(worker=name, station=a["station"], hours=fmt.hours(a["hours"]), limit=fmt.hours(a["limit"]))


def line_data(
    live: LiveState, layout: FactoryLayout, line: str, fmt: Fmt, rules: al.AlertRules = al.AlertRules()
) -> dict[str, Any]:
    """The supervisor's screen: station grid, hourly output vs target, bottleneck, alerts.

    Once per view of live state and language (``LiveState.memo``): the overview computes every
    line's data, and the line page of the same tick reuses it. Callers must not change it."""
    return live.memo(
        ("line_data", layout.factory.id, line, fmt.lang, rules), lambda: _line_data(live, layout, line, fmt, rules)
    )


def _line_data(live: LiveState, layout: FactoryLayout, line: str, fmt: Fmt, rules: al.AlertRules) -> dict[str, Any]:
    _ = fmt.gettext
    f = layout.factory.id
    ll = live.line_live(f, line)
    now = datetime.fromisoformat(ll["as_of"]).astimezone(live.tz(f))
    day_start, day_end = live.day_bounds(f, now)
    style = layout.styles.get(ll["style"]) if ll["style"] else None
    sams = style.op_map() if style else {}
    sam_of_op = {c: o.sam_min for c, o in sams.items()}
    bn = al.bottleneck(ll["stations"], sam_of_op)
    for st in ll["stations"]:
        sl = live.stations.get((f, st["station"]))
        if sl is not None and sl.downtime:
            reason, since = min(sl.downtime.items(), key=lambda x: x[1])
            st["downtime_since"], st["downtime_reason"] = since.isoformat(), reason
    hours_by_worker = _worker_hours(
        live,
        f,
        day_start,
        day_end,
        now,
        [s["station"] for s in ll["stations"]],
        {s["worker"] for s in ll["stations"] if s["worker"]},
    )
    raw_alerts = [
        a for a in al.line_alerts(ll["stations"], now, hours_by_worker, rules) if not str(a["kind"]).startswith("hours")
    ]
    raw_alerts += _hours_rule_alerts(live, layout, ll["stations"])
    stations = []
    for st in ll["stations"]:
        yielding.point()
        status = al.station_status(st)
        eff = st["efficiency_pct_today"]
        op = sams.get(st["op"] or "")
        stations.append(
            {
                "station": st["station"],
                "position": st["position"],
                "worker": st["worker"],
                "worker_name": st["worker_name"] or "",
                "status": status,
                "status_label": _(STATUS_LABELS[status]),
                "eff_txt": fmt.pct(eff),
                "band": al.efficiency_band(eff),
                "wip": st["wip"],
                "wip_txt": fmt.num(st["wip"]),
                "op": st["op"],
                "op_name": fmt.name(op.name_zh, op.name_en) if op else "",
                "pieces_hour_txt": fmt.num(st["pieces_this_hour"]),
                "bottleneck": st["station"] == bn,
                "alert": any(a["station"] == st["station"] for a in raw_alerts),
            }
        )
    hours = ll["hours"]
    target_day = sum(h["target"] or 0 for h in hours)
    chart = _hour_axis(layout, line, hours, day_start, fmt)
    return {
        "kind": "line",
        "line": line,
        "line_name": _line_name(fmt, layout, line),
        "style_name": _style_name(fmt, layout, ll["style"]),
        "clock": ll["as_of"],
        "clock_txt": fmt.datetime(now),
        "kpis": {
            "output": ll["today"]["output"],
            "output_txt": fmt.num(ll["today"]["output"]),
            "target_txt": fmt.num(target_day),
            "eff_txt": fmt.pct(ll["today"]["efficiency_pct"], 1),
            "eff_band": al.efficiency_band(ll["today"]["efficiency_pct"]),
            "operators_txt": fmt.num(ll["operators"]),
            "wip_txt": fmt.num(ll["wip"]),
            "tph_txt": fmt.num(ll["target_per_hour"]) if ll["target_per_hour"] else "–",
            "defects_txt": fmt.num(ll["today"]["defects"]),
        },
        "stations": stations,
        "bottleneck": bn,
        "chart": chart,
        "alerts": [
            {"kind": a["kind"], "station": a["station"], "text": alert_text(fmt, a, layout)} for a in raw_alerts
        ],
        "downtime": [
            {"label": _reason(fmt, r), "dur_txt": fmt.duration(s)}
            for r, s in sorted(ll["downtime_s_today"].items(), key=lambda x: -x[1])
            if s > 0
        ],
        "events": live.events_applied,
    }


def _hour_axis(
    layout: FactoryLayout, line: str, hours: list[dict[str, Any]], day_start: datetime, fmt: Fmt
) -> dict[str, list[Any]]:
    """Every clock hour of the shift (and any hour with data outside it), so the chart shows the day
    ahead too; hours still to come have no bar and no target."""
    cal = layout.calendar_for_line(line)
    tz = day_start.tzinfo
    by_hour = {datetime.fromisoformat(h["hour"]): h for h in hours}
    first = day_start.replace(hour=cal.shift_start.hour)
    last = day_start.replace(hour=max(cal.shift_end.hour - (0 if cal.shift_end.minute else 1), cal.shift_start.hour))
    axis = {first + timedelta(hours=i) for i in range(int((last - first).total_seconds() // 3600) + 1)}
    axis |= set(by_hour)
    out: dict[str, list[Any]] = {"hours": [], "output": [], "target": []}
    for h in sorted(axis):
        row = by_hour.get(h)
        out["hours"].append(fmt.time(h.astimezone(tz)))
        out["output"].append(row["output"] if row else None)
        out["target"].append(round(row["target"], 1) if row and row["target"] is not None else None)
    return out


def _order_row(fmt: Fmt, layout: FactoryLayout, p: pl.OrderPlan, now: datetime | None = None) -> dict[str, Any]:
    risk = pl.at_risk(layout, p)
    # past its due date and not finished: late (逾期), not "at risk" (the planning board says the same)
    late = bool(
        risk
        and now is not None
        and p.line is not None
        and now > pl.due_end(layout.calendar_for_line(p.line), p.order.due)
    )
    return {
        "order": p.order.id,
        "customer": p.order.customer,
        "style_name": _style_name(fmt, layout, p.order.style_code),
        "qty_txt": fmt.num(p.order.quantity),
        "done_txt": fmt.num(p.done),
        "progress_pct": round(p.progress_pct, 1),
        "progress_txt": fmt.pct(p.progress_pct),
        "due_txt": fmt.date(datetime.combine(p.order.due, datetime.min.time())),
        "remaining_txt": fmt.num(p.remaining_sam_min),
        "capacity_txt": fmt.num(p.capacity_until_due_min),
        "finish_txt": fmt.datetime(p.finish) if p.finish else _done_label(fmt),
        "line_name": _line_name(fmt, layout, p.line) if p.line else "–",
        "at_risk": risk,
        "late": late,
        "state_txt": fmt.gettext("Late") if late else fmt.gettext("At risk") if risk else "",
    }


def _done_label(fmt: Fmt) -> str:
    return fmt.gettext("Done")


def overview_data(
    live: LiveState,
    layouts: dict[str, FactoryLayout],
    progress: OrderProgress,
    fmt: Fmt,
    pause: Callable[[], None] | None = None,
) -> dict:
    """Every line at a glance, today's output and efficiency, orders at risk. ``pause`` is called
    between lines: the page thread gives way to ingest there (web/page_worker.py)."""
    factories = []
    for layout in layouts.values():
        f = layout.factory.id
        now = live.as_of(f).astimezone(live.tz(f))
        lines = []
        for lid in sorted(layout.lines):
            if pause is not None:
                pause()
            d = line_data(live, layout, lid, fmt)
            lines.append(
                {
                    "line": lid,
                    "line_name": d["line_name"],
                    "style_name": d["style_name"],
                    **d["kpis"],
                    "down": sum(1 for s in d["stations"] if s["status"] == "down"),
                    "down_txt": fmt.num(sum(1 for s in d["stations"] if s["status"] == "down")),
                    "alerts_txt": fmt.num(len(d["alerts"])),
                    "hours": d["chart"],
                }
            )
        if pause is not None:
            pause()
        day_start, day_end = live.day_bounds(f, now)
        fac = live.efficiency(f, "factory", day_start, day_end, now)
        fac_row = fac[0] if fac else {"output": 0, "efficiency_pct": None, "pieces": 0}
        progress.poll_states()  # a state the CLI changed reaches the next view
        risky = [_order_row(fmt, layout, p, now) for p in pl.orders_at_risk(layout, progress, live, now)]
        factories.append(
            {
                "factory": f,
                "name": layout.factory.name,
                "clock": now.isoformat(),
                "clock_txt": fmt.datetime(now),
                "output_txt": fmt.num(fac_row["output"]),
                "output": fac_row["output"],
                "eff_txt": fmt.pct(fac_row["efficiency_pct"], 1),
                "eff_band": al.efficiency_band(fac_row["efficiency_pct"]),
                "lines": lines,
                "at_risk": risky,
                "orders_txt": fmt.num(len(layout.orders)),
            }
        )
    return {"kind": "overview", "factories": factories, "events": live.events_applied}


def plan_data(live: LiveState, layout: FactoryLayout, progress: OrderProgress, fmt: Fmt) -> dict[str, Any]:
    """Today's de-facto balance per line; the board and the orders come from ``web/board.py``."""
    f = layout.factory.id
    now = live.as_of(f).astimezone(live.tz(f))
    day_start, _end = live.day_bounds(f, now)
    line_ids = sorted(layout.lines)
    balances = []
    for lid in line_ids:
        style_code, loads = pl.balance(layout, live, lid, day_start)
        style = layout.styles.get(style_code) if style_code else None
        n = len(loads)
        pitch = style.sam_min / n if style and n else None
        ops = style.op_map() if style else {}
        done_ops = {c for sl in loads for c, _share in sl.ops}
        missing = [c for c in style.topological_order() if c not in done_ops] if style else []
        balances.append(
            {
                "line": lid,
                "line_name": _line_name(fmt, layout, lid),
                "style_name": _style_name(fmt, layout, style_code),
                "missing_txt": fmt.gettext("Not sewn yet today: {ops}").format(
                    ops=", ".join(fmt.name(ops[c].name_zh, ops[c].name_en) for c in missing)
                )
                if missing
                else "",
                "pitch_txt": fmt.num(pitch, 2) if pitch else "–",
                "pitch_label": fmt.gettext("Pitch time {minutes} min").format(minutes=fmt.num(pitch, 2))
                if pitch
                else "",
                "stations": [
                    {
                        "station": sl.station,
                        "worker_name": layout.workers[sl.worker].name if sl.worker in layout.workers else "",
                        "ops_txt": ", ".join(
                            f"{fmt.name(ops[c].name_zh, ops[c].name_en)} {fmt.pct(share * 100)}" for c, share in sl.ops
                        ),
                        "load_txt": fmt.num(sl.load_min, 2),
                        "load_pct": round(100 * sl.load_min / pitch, 1) if pitch else 0,
                        "load_pct_txt": fmt.pct(100 * sl.load_min / pitch) if pitch else "–",
                    }
                    for sl in loads
                ],
            }
        )
    return {
        "kind": "plan",
        "tz": layout.factory.timezone,
        "clock": now.isoformat(),
        "clock_txt": fmt.datetime(now),
        "now_ms": now.timestamp() * 1000,
        "balances": balances,
        "events": live.events_applied,
    }
