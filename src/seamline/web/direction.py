"""Page fields of issue #21: the tablet's next task, its exploration trial and on-standard
efficiency; the supervisor's headline (smoothed bottleneck, capacity against target), the
suggested move, the trials running and grouped alerts.

Layered on the page data of ``views`` (the same dict, with some keys replaced): the figures come
from ``service_layer.line_direction``; this module only words and formats them, zh and en.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import yielding
from ..domain.live import LiveState
from ..domain.model import FactoryLayout, Operation
from ..service_layer.line_direction import LineDirector, TrialTask, on_standard_pct
from . import alerts as al
from .i18n import N_, Fmt

NEXT_KIND_LABEL: dict[str, str] = {
    "same_bundle": N_("same bundle"),
    "next_bundle": N_("next bundle"),
    "fetch": N_("fetch the bundle"),
    "other_op": N_("take other work"),
    "wait": N_("waiting for a bundle"),
}


def _op(layout: FactoryLayout, style_code: str | None, code: str | None) -> Operation | None:
    style = layout.styles.get(style_code or "")
    if style is None or code is None:
        return None
    return style.op_map().get(code)


def _op_name(fmt: Fmt, op: Operation | None) -> str:
    return fmt.name(op.name_zh, op.name_en) if op else "–"


def _worker_name(layout: FactoryLayout, badge: str | None) -> str:
    return layout.workers[badge].name if badge in layout.workers else (badge or "–")


def _where(
    fmt: Fmt, kind: str, bundle: str | None, holder: str | None, upstream: str | None, pcs: int, op_name: str
) -> str:
    _ = fmt.gettext
    if kind == "fetch":
        if holder:
            return _("Fetch bundle {bundle} at {station}").format(bundle=bundle, station=holder)
        return _("Fetch bundle {bundle} from cutting").format(bundle=bundle)
    if kind == "other_op":
        return _("No bundle for your operation: take {op} ({pieces} pieces waiting)").format(
            op=op_name, pieces=fmt.num(pcs)
        )
    if kind == "wait":
        if upstream:
            return _("No bundle ready: the next comes from {station}").format(station=upstream)
        return _("No bundle ready yet")
    return ""


def trial_fields(fmt: Fmt, layout: FactoryLayout, style_code: str | None, station: str, t: TrialTask) -> dict[str, Any]:
    """The tablet's trial, apart from the own next task: "试做：1 扎 上袖 — 学习您的效率", and where
    the bundle is."""
    _ = fmt.gettext
    name = _op_name(fmt, _op(layout, style_code, t.op_code))
    if t.in_hand:
        text = _("Trial in progress: {op} — to learn your time").format(op=name)
        where = ""
    else:
        text = _("Trial: 1 bundle of {op} — to learn your time").format(op=name)
        if t.holder == station:
            where = _("Bundle {bundle} is at your station").format(bundle=t.bundle_id)
        else:
            where = _where(fmt, "fetch", t.bundle_id, t.holder, None, 0, name)
        where = "{} · {}".format(where, _("when your own work leaves you free"))
    return {
        "op": t.op_code,
        "name": name,
        "bundle": t.bundle_id,
        "holder": t.holder,
        "in_hand": t.in_hand,
        "text": text,
        "where": where,
    }


def station_page(
    director: LineDirector, live: LiveState, layout: FactoryLayout, station: str, fmt: Fmt, base: dict[str, Any]
) -> dict[str, Any]:
    """The tablet's data with the next task from the plan and on-standard efficiency."""
    _ = fmt.gettext
    f = layout.factory.id
    line = layout.stations[station].line_id
    now = live.as_of(f).astimezone(live.tz(f))
    day_start, _end = live.day_bounds(f, now)
    dirs = director.directions(layout, live, line, day_start)
    d = dirs.get(station)
    style_code = live.line_style.get((f, line))
    out = dict(base)
    out["trial"] = None
    if d is not None:
        # the bundle in hand decides the style (a bundle of the next style scanned in before the line
        # switched): an operation of another style is not this bundle's task, and a tap on it would be
        # refused by ingest — then the base's current task stays
        held = layout.style_of_bundle(d.current_bundle) if d.current_bundle else None
        cur = _op(layout, held.code if held is not None else style_code, d.current_op)
        if cur is not None:
            out["current"] = {
                "op": cur.code,
                "name": _op_name(fmt, cur),
                "bundle": d.current_bundle,
                "order": layout.bundles[d.current_bundle].order_id if d.current_bundle in layout.bundles else None,
                "sam_txt": fmt.num(cur.sam_min, 2),
            }
        n = d.next
        nop = _op(layout, style_code, n.op_code)
        out["next"] = (
            {
                "op": nop.code,
                "name": _op_name(fmt, nop),
                "bundle": n.bundle_id,
                "order": layout.bundles[n.bundle_id].order_id if n.bundle_id in layout.bundles else None,
                "sam_txt": fmt.num(nop.sam_min, 2),
            }
            if nop is not None
            else None
        )
        out["next_kind"] = n.kind
        out["next_kind_label"] = _(NEXT_KIND_LABEL[n.kind])
        out["next_where"] = _where(fmt, n.kind, n.bundle_id, n.holder, n.upstream, n.pieces_waiting, _op_name(fmt, nop))
        out["directed"] = d.directed
        out["trial"] = trial_fields(fmt, layout, style_code, station, d.trial) if d.trial is not None else None
        out["directed_txt"] = (
            _("Supervisor's move: now {op}").format(op=_op_name(fmt, nop)) if d.directed and nop else ""
        )
    earned, attended, waited = director.worker_figures(layout, live, station, now)
    eff = on_standard_pct(earned, attended, waited) if attended > 0 else None
    out["eff_txt"] = fmt.pct(eff)
    out["eff_band"] = al.efficiency_band(eff)
    out["eff_overall_txt"] = fmt.pct(earned * 100.0 / attended if attended > 0 else None)
    out["waiting_min"] = round(waited, 1)
    out["waiting_txt"] = _("Waiting for work {minutes} min").format(minutes=fmt.num(waited))
    return out


def line_page(
    director: LineDirector, live: LiveState, layout: FactoryLayout, line: str, fmt: Fmt, base: dict[str, Any]
) -> dict[str, Any]:
    """The line page's data with on-standard efficiency, the headline, the suggestion, grouped alerts."""
    _ = fmt.gettext
    f = layout.factory.id
    now = live.as_of(f).astimezone(live.tz(f))
    day_start, _end = live.day_bounds(f, now)
    style_code = live.line_style.get((f, line))
    style = layout.styles.get(style_code or "")
    figs = director.figures(layout, live, line, now)
    assign, _directed = director.assignment(layout, live, line, day_start)
    caps = director.capacities(layout, live, line, figs, assign)
    bn = director.bottleneck(f, line, caps, now)
    out = dict(base)
    stations = []
    for s in base["stations"]:
        yielding.point()
        fg = figs.get(s["station"])
        row = dict(s)
        if fg is not None:
            eff = fg.on_standard_pct
            row["eff_txt"] = fmt.pct(eff)
            row["band"] = al.efficiency_band(eff)
            row["waiting"] = fg.waiting_since is not None
            row["waiting_txt"] = _("Waiting for work {minutes} min").format(minutes=fmt.num(fg.waiting_min))
        row["bottleneck"] = s["station"] == bn.station
        stations.append(row)
    out["stations"] = stations
    out["bottleneck"] = bn.station
    earned = sum(fg.earned_min for fg in figs.values())
    attended = sum(fg.attended_min for fg in figs.values())
    waited = sum(fg.waiting_min for fg in figs.values())
    eff_line = on_standard_pct(earned, attended, waited) if attended > 0 else None
    kpis = dict(base["kpis"])
    kpis["eff_overall_txt"] = kpis["eff_txt"]
    kpis["eff_txt"] = fmt.pct(eff_line, 1)
    kpis["eff_band"] = al.efficiency_band(eff_line)
    kpis["waiting_txt"] = fmt.duration(waited * 60)
    out["kpis"] = kpis
    # --- headline: the bottleneck and its capacity against the target
    operators = sum(1 for fg in figs.values() if fg.worker)
    target_pph = (
        60.0 * operators * layout.lines[line].target_efficiency_pct / 100.0 / style.sam_min
        if style and operators
        else None
    )
    headline: dict[str, Any] = {"station": bn.station, "text": _("No bottleneck yet: too little work today")}
    if bn.station is not None and style is not None:
        op = _op(layout, style_code, bn.op_code)
        cap = sum(c.pcs_per_h for c in caps if c.op_code == bn.op_code)
        headline = {
            "station": bn.station,
            "op": bn.op_code,
            "cap_pph": round(cap, 1),
            "target_pph": round(target_pph, 1) if target_pph else None,
            "worker_name": _worker_name(layout, figs[bn.station].worker if bn.station in figs else None),
            "text": _("{station} {op}: {capacity} pcs/h against a target of {target} pcs/h").format(
                station=bn.station,
                op=_op_name(fmt, op),
                capacity=fmt.num(cap),
                target=fmt.num(target_pph) if target_pph else "–",
            ),
            "since_txt": fmt.time(bn.since) if bn.since else "",
            "below_target": bool(target_pph and cap < target_pph),
        }
    out["headline"] = headline
    # --- the suggestion (cached per line; computed on the learned efficiencies)
    sug = director.suggestion(layout, line)
    if sug is not None and style is not None:
        m = sug.move
        frm, to = _op(layout, style_code, m.from_op), _op(layout, style_code, m.to_op)
        name = _worker_name(layout, m.badge)
        out["suggestion"] = {
            "badge": m.badge,
            "to_op": m.to_op,
            "from_op": m.from_op,
            "gain_pph": round(m.gain_pph, 1),
            "worker_name": name,
            "text": (
                _("Move {badge} from {from_op} to {to_op}: +{gain} pcs/h").format(
                    badge=m.badge, from_op=_op_name(fmt, frm), to_op=_op_name(fmt, to), gain=fmt.num(m.gain_pph)
                )
                if frm is not None
                else _("Put {badge} on {to_op}: +{gain} pcs/h").format(
                    badge=m.badge, to_op=_op_name(fmt, to), gain=fmt.num(m.gain_pph)
                )
            ),
        }
    else:
        out["suggestion"] = None
    out["accept_url"] = f"/api/v1/lines/{line}/directives"
    # --- the exploration trials running on the line (who tries which operation, since when)
    trials = []
    for tr in director.trials(f, line, day_start):
        name = _op_name(fmt, _op(layout, tr.style, tr.op_code))
        trials.append(
            {
                "station": tr.station,
                "badge": tr.badge,
                "worker_name": _worker_name(layout, tr.badge),
                "op": tr.op_code,
                "text": _("{station} {worker}: trying {op} since {time}").format(
                    station=tr.station,
                    worker=_worker_name(layout, tr.badge),
                    op=name,
                    time=fmt.time(tr.started_at.astimezone(live.tz(f))),
                ),
            }
        )
    out["trials"] = trials
    # --- alerts: the stations waiting for work as one line
    waiting = [(fg.station, fg.waiting_since) for fg in figs.values() if fg.waiting_since is not None]
    if waiting:
        first: datetime = min(t for _s, t in waiting)
        ws = {s for s, _t in waiting}
        alerts = [a for a in base["alerts"] if not (a["kind"] == "idle" and a["station"] in ws)]
        group = {
            "kind": "waiting_group",
            "station": "",
            "stations": sorted(ws),
            "text": _("{n} stations waiting for work since {time}").format(
                n=fmt.num(len(ws)), time=fmt.time(first.astimezone(live.tz(f)))
            ),
        }
        out["alerts"] = [group, *alerts]
    return out


def overview_page(
    director: LineDirector, live: LiveState, layouts: dict[str, FactoryLayout], fmt: Fmt, base: dict[str, Any]
) -> dict[str, Any]:
    """The overview with each line's and factory's efficiency on standard (overall kept beside)."""
    out = dict(base)
    facs = []
    for fac in base["factories"]:
        layout = layouts[fac["factory"]]
        f = layout.factory.id
        now = live.as_of(f).astimezone(live.tz(f))
        totals = [0.0, 0.0, 0.0]
        lines = []
        for ln in fac["lines"]:
            yielding.point()
            figs = director.figures(layout, live, ln["line"], now)
            e = sum(x.earned_min for x in figs.values())
            a = sum(x.attended_min for x in figs.values())
            w = sum(x.waiting_min for x in figs.values())
            totals = [totals[0] + e, totals[1] + a, totals[2] + w]
            eff = on_standard_pct(e, a, w) if a > 0 else None
            lines.append(
                {
                    **ln,
                    "eff_overall_txt": ln["eff_txt"],
                    "eff_txt": fmt.pct(eff, 1),
                    "eff_band": al.efficiency_band(eff),
                }
            )
        eff_f = on_standard_pct(*totals) if totals[1] > 0 else None
        facs.append(
            {
                **fac,
                "lines": lines,
                "eff_overall_txt": fac["eff_txt"],
                "eff_txt": fmt.pct(eff_f, 1),
                "eff_band": al.efficiency_band(eff_f),
            }
        )
    out["factories"] = facs
    return out
