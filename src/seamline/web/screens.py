"""The role screens beyond the floor's live pages: quality, materials and the auditor's reports.

Each is one server-rendered page in the site's frame (header, navigation, language toggle), built
from the feature's own read models: the quality projection and the audit records, the routing
projection and the material ledger, the compliance period computation. Chinese first, English
beside it, like every page. The quality and materials pages refresh themselves by fetching their
own HTML again (``refresh.js``): they change by the minute, not by the second, and a person who
may open the page may also fetch it, so there is no second access rule to keep in step (the live
stream of the overview is for the floor's roles; an auditor opening a page that used it was
refused and the page never updated, issue #22). The auditor's reports are about closed days and
are not refreshed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_currency
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..plugins import optional_modules
from ..quality import aql as aql_tables
from ..quality.audit import DEFAULT_CLASS_AQLS
from ..quality.defect_codes import describe as defect_name
from ..quality.dhu import DhuAlert
from ..quality.store import list_audits
from .i18n import N_, Fmt, pick_lang

LANG_COOKIE = "seamline_lang"
MONTH = re.compile(r"^(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])$")
DAY = re.compile(r"^(19[7-9]\d|2\d{3})-\d{2}-\d{2}$")
MAX_ROWS = 30  # rows per table: a screen, not an export (the API and the reports have everything)

HtmlPage = Callable[..., HTMLResponse]

SEVERITY = {"violation": N_("Violation"), "warning": N_("Near the limit"), "notice": N_("Notice")}
CLASS_LABELS = {"critical": N_("Critical"), "major": N_("Major"), "minor": N_("Minor")}


def _layout(rt: Any, factory: str | None) -> FactoryLayout:
    layouts: dict[str, FactoryLayout] = rt.layouts
    if factory is None:
        if not layouts:
            raise HTTPException(404, "no factory loaded")
        return next(iter(layouts.values()))
    lay = layouts.get(factory)
    if lay is None:
        raise HTTPException(404, f"unknown factory {factory!r}")
    return lay


def _now(rt: Any, lay: FactoryLayout) -> datetime:
    """The factory clock: the latest event's time (the simulator and replays run in the past)."""
    live: LiveState = rt.live
    f = lay.factory.id
    return live.as_of(f).astimezone(live.tz(f))


def _worker_name(lay: FactoryLayout, badge: str) -> str:
    w = lay.workers.get(badge)
    return w.name if w else badge


def _op_name(fmt: Fmt, lay: FactoryLayout, key: str) -> tuple[str, str]:
    """``STYLE:OP`` → (style name, operation name) in the page's language."""
    style_code, _, op = key.rpartition(":")  # quality.dhu.op_key: STYLE:OP, or OP without a style
    style = lay.styles.get(style_code)
    if style is None:
        return style_code, op
    o = style.op_map().get(op)
    return fmt.name(style.name_zh, style.name_en), (fmt.name(o.name_zh, o.name_en) if o else op)


# --- quality -------------------------------------------------------------------------------------
def quality_alert_text(fmt: Fmt, lay: FactoryLayout, a: DhuAlert) -> str:
    """A DHU alert in the page's language (the projection's own message is English, for logs)."""
    if a.scope == "worker":
        who = _worker_name(lay, a.key)
    else:
        style, op = _op_name(fmt, lay, a.key)
        who = f"{op} ({style})"
    return fmt.gettext("{who}: DHU {dhu} above {limit} ({defects} defects in {pieces} pieces)").format(
        who=who,
        dhu=fmt.num(a.dhu, 1),
        limit=fmt.num(a.threshold, 1),
        defects=fmt.num(a.defects),
        pieces=fmt.num(a.pieces),
    )


def _who(lay: FactoryLayout, a: DhuAlert) -> dict[str, str]:
    """A person's name inside an alert's text, so the page can mark it as a name (shown as entered,
    not translated: the language checks skip it)."""
    return {"who": _worker_name(lay, a.key)} if a.scope == "worker" else {}


def _quality_alerts_today(rt: Any, lay: FactoryLayout, today: date) -> list[DhuAlert]:
    proj = next((p for p in rt.pipeline.projections if getattr(p, "name", "") == "quality"), None)
    if proj is None:
        return []
    # An alert is raised again as the day's DHU moves: the latest of each worker and operation counts.
    latest: dict[tuple[str, str], DhuAlert] = {}
    for a in list(proj.dhu.alerts):
        if a.factory == lay.factory.id and a.day == today:
            latest[(a.scope, a.key)] = a
    return sorted(latest.values(), key=lambda a: a.ts)


def with_quality_alerts(
    d: dict[str, Any], rt: Any, live: LiveState, lay: FactoryLayout, line: str, fmt: Fmt
) -> dict[str, Any]:
    """The line page lists today's DHU alerts of the people and operations working on this line."""
    f = lay.factory.id
    now = live.as_of(f).astimezone(live.tz(f))
    at_station: dict[str, str] = {}
    styles: set[str] = set()
    for sid, st in lay.stations.items():
        if st.line_id != line:
            continue
        s = live.stations.get((f, sid))
        if s is None:
            continue
        if s.worker:
            at_station[s.worker] = sid
        style = lay.style_of_bundle(s.bundle) if s.bundle else None
        if style is not None:
            styles.add(style.code)
    home = {b for b, w in lay.workers.items() if w.line_id == line}
    extra = []
    for a in _quality_alerts_today(rt, lay, now.date()):
        if a.scope == "worker" and (a.key in at_station or a.key in home):
            station = at_station.get(a.key, "")
        elif a.scope == "operation" and a.key.rpartition(":")[0] in styles:
            station = ""
        else:
            continue
        extra.append({"kind": "quality", "station": station, "text": quality_alert_text(fmt, lay, a), **_who(lay, a)})
    return {**d, "alerts": [*d.get("alerts", []), *extra[-10:]]} if extra else d


def _dhu_rows(fmt: Fmt, rows: dict[str, Any], name_of: Callable[[str], tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for key, t in rows.items():
        if not t.pieces and not t.defects:
            continue
        main, sub = name_of(key)
        out.append(
            {
                "key": key,
                "name": main,
                "sub": sub,
                "pieces_txt": fmt.num(t.pieces),
                "defects_txt": fmt.num(t.defects),
                "dhu": t.dhu,
                "dhu_txt": fmt.num(t.dhu, 1) if t.dhu is not None else "–",
                "pct_txt": fmt.pct(t.pct_defective, 1) if t.pct_defective is not None else "–",
            }
        )
    out.sort(key=lambda r: -(r["dhu"] or 0.0))
    return out[:MAX_ROWS]


def quality_period(now: datetime, day: date | None, month: str | None) -> tuple[datetime, datetime | None, str]:
    """[since, until) of the quality page and how it is named: today (no end: what comes in
    counts), a chosen local day, or a chosen month ("YYYY-MM"). Past hours come from the
    quality rollups (quality/dhu.DhuAggregator.snapshot), so any day since the store began."""
    tz = now.tzinfo
    if month is not None:
        y, m = int(month[:4]), int(month[5:7])
        start = datetime(y, m, 1, tzinfo=tz)
        return start, datetime(y + m // 12, m % 12 + 1, 1, tzinfo=tz), month
    if day is not None and day != now.date():
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tz), ""
    return now.replace(hour=0, minute=0, second=0, microsecond=0), None, ""


def quality_data(
    rt: Any, lay: FactoryLayout, fmt: Fmt, lot_size: int | None, day: date | None = None, month: str | None = None
) -> dict[str, Any]:
    """DHU by operation and by worker and the defect Pareto, of today or of a chosen earlier day or
    month; today's alerts, AQL plans, audits."""
    f = lay.factory.id
    now = _now(rt, lay)
    since, until, month_txt = quality_period(now, day, month)
    today = until is None
    proj = next((p for p in rt.pipeline.projections if getattr(p, "name", "") == "quality"), None)
    with rt.pipeline.lock:
        rt.pipeline.catch_up()
    snap = proj.dhu.snapshot_beside(rt.pipeline.lock, f, since=since, until=until) if proj is not None else None
    by_op = by_worker = pareto = []
    total = {"pieces_txt": "–", "defects_txt": "–", "dhu_txt": "–", "pct_txt": "–"}
    if snap is not None:
        t = snap.total
        total = {
            "pieces_txt": fmt.num(t.pieces),
            "defects_txt": fmt.num(t.defects),
            "dhu_txt": fmt.num(t.dhu, 1) if t.dhu is not None else "–",
            "pct_txt": fmt.pct(t.pct_defective, 1) if t.pct_defective is not None else "–",
        }
        by_op = _dhu_rows(fmt, snap.by.get("operation", {}), lambda k: _op_name(fmt, lay, k)[::-1])
        by_worker = _dhu_rows(fmt, snap.by.get("worker", {}), lambda k: (_worker_name(lay, k), k))
        pareto = [
            {
                "name": defect_name(r.code, fmt.lang),
                "code": r.code,
                "defects_txt": fmt.num(r.defects),
                "pct_txt": fmt.pct(r.pct, 1),
                "cum_txt": fmt.pct(r.cum_pct, 1),
                "pct": round(r.pct, 1),
            }
            for r in snap.pareto[:MAX_ROWS]
        ]
    alerts = [
        {"time_txt": fmt.time(a.ts.astimezone(now.tzinfo)), "text": quality_alert_text(fmt, lay, a), **_who(lay, a)}
        for a in reversed(_quality_alerts_today(rt, lay, now.date()))
    ][:MAX_ROWS]
    return {
        "kind": "quality",
        "clock": now.isoformat(),
        "clock_txt": fmt.datetime(now),
        "day_txt": month_txt or fmt.date(since),
        "today": today,
        "day_value": "" if today or month_txt else since.date().isoformat(),
        "month_value": month_txt,
        "max_day": now.date().isoformat(),
        "total": total,
        "by_op": by_op,
        "by_worker": by_worker,
        "pareto": pareto,
        "alerts": alerts,
        "plans": _aql_plans(fmt, lay, now, lot_size),
        "lot_size": lot_size or "",
        "audits": _audits(rt, lay, fmt),
    }


def _plan_cells(fmt: Fmt, lot_size: int) -> dict[str, Any]:
    """Major and minor defects' plans at general level II, normal inspection (the trade's default)."""
    cells: dict[str, Any] = {"lot_txt": fmt.num(lot_size)}
    for cls in ("major", "minor"):
        aql = DEFAULT_CLASS_AQLS[cls]
        plan = aql_tables.sampling_plan(lot_size, "II", aql or "2.5", "normal")
        cells[cls] = {
            "aql": aql,
            "letter": plan.code_letter,
            "n_txt": fmt.num(plan.sample_size),
            "ac": plan.accept,
            "re": plan.reject,
        }
    return cells


def _aql_plans(fmt: Fmt, lay: FactoryLayout, now: datetime, lot_size: int | None) -> dict[str, Any]:
    orders = sorted(lay.orders.values(), key=lambda o: (o.due, o.id))
    rows = []
    for o in orders[:MAX_ROWS]:
        if o.quantity < 2:
            continue
        rows.append(
            {
                "order": o.id,
                "customer": o.customer,
                "due_txt": fmt.date(datetime.combine(o.due, now.timetz())),
                **_plan_cells(fmt, o.quantity),
            }
        )
    asked = None
    if lot_size is not None:
        asked = _plan_cells(fmt, lot_size)
    return {"orders": rows, "asked": asked}


def _audits(rt: Any, lay: FactoryLayout, fmt: Fmt) -> list[dict[str, Any]]:
    tz = lay.factory.tz
    out = []
    for a in list_audits(rt.engine, lay.factory.id, limit=MAX_ROWS):
        classes = [
            {
                "label": fmt.gettext(CLASS_LABELS.get(c["defect_class"], c["defect_class"])),
                "found": c["found"],
                "ac": c["accept"],
                "re": c["reject"],
                "ok": c["accepted"],
            }
            for c in a["classes"]
        ]
        out.append(
            {
                "id": a["id"],
                "lot_ref": a["lot_ref"],
                "lot_txt": fmt.num(a["lot_size"]),
                "at_txt": fmt.datetime(a["audited_at"].astimezone(tz)),
                "inspector": a["inspector"],
                "accepted": a["accepted"],
                "result_txt": fmt.gettext("Accepted") if a["accepted"] else fmt.gettext("Rejected"),
                "classes": classes,
            }
        )
    return out


# --- materials -----------------------------------------------------------------------------------
def _qty(fmt: Fmt, q: Any) -> str:
    return fmt.num(float(q), 0 if float(q) == int(float(q)) else 1)


def materials_data(rt: Any, lay: FactoryLayout, fmt: Fmt) -> dict[str, Any]:
    """Shortages if the open orders were loaded by due date, WIP by operation with its age, stale bundles."""
    from ..materials.projection import MaterialsProjection
    from ..materials.service import Materials

    f = lay.factory.id
    now = _now(rt, lay)
    orders = sorted(lay.orders.values(), key=lambda o: (o.due, -o.priority, o.id))
    shortages: list[dict[str, Any]] = []
    mats = Materials.from_db(rt.engine, lay)
    # An order whose style has no bill of materials cannot be checked: it is named, the rest checked.
    no_bom = sorted({o.style_code for o in orders if o.style_code not in mats.bom.by_style})
    checked = [o.id for o in orders if o.style_code in mats.bom.by_style]
    found = mats.check_materials(checked)
    problem = (
        fmt.gettext("No bill of materials for the styles {styles}: their orders are not checked").format(
            styles=", ".join(no_bom)
        )
        if no_bom
        else ""
    )
    for s in found[:MAX_ROWS]:
        o = lay.orders.get(s.order_id)
        shortages.append(
            {
                "order": s.order_id,
                "customer": o.customer if o else "",
                "material": s.material,
                "needed_txt": f"{_qty(fmt, s.needed)} {s.unit}",
                "available_txt": f"{_qty(fmt, s.available)} {s.unit}",
                "short_txt": f"{_qty(fmt, s.short)} {s.unit}",
                "due_txt": fmt.date(datetime.combine(o.due, now.timetz())) if o else "–",
            }
        )
    proj = rt.projection("materials")
    wip_ops: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    if isinstance(proj, MaterialsProjection):
        with rt.pipeline.lock:
            wip = proj.routing.wip(f)
            stale_raw = proj.routing.stale(f)
        for row in sorted(wip["operations"], key=lambda r: -r["max_age_min"])[:MAX_ROWS]:
            style_name, op = _op_name(fmt, lay, f"{row['style']}:{row['op']}")
            wip_ops.append(
                {
                    "op": op,
                    "style": style_name,
                    "bundles_txt": fmt.num(row["bundles"]),
                    "pieces_txt": fmt.num(row["pieces"]),
                    "max_age_txt": fmt.duration(row["max_age_min"] * 60),
                    "avg_age_txt": fmt.duration(row["avg_age_min"] * 60),
                }
            )
        for b in stale_raw[:MAX_ROWS]:
            ops = []
            bundle = lay.bundles.get(b["bundle"])
            bundle_style = (
                lay.styles.get(lay.orders[bundle.order_id].style_code)
                if bundle and bundle.order_id in lay.orders
                else None
            )
            for code in b["at_operations"]:
                op_def = bundle_style.op_map().get(code) if bundle_style else None
                ops.append(fmt.name(op_def.name_zh, op_def.name_en) if op_def else code)
            ln = lay.lines.get(b["line"] or "")
            stale.append(
                {
                    "bundle": b["bundle"],
                    "order": b["order"],
                    "line": fmt.split_name(ln.name) if ln else "–",
                    "stations": ", ".join(b["stations"]) or "–",
                    "ops": "、".join(ops) if fmt.lang.startswith("zh") else ", ".join(ops),
                    "idle_txt": fmt.duration(b["idle_working_min"] * 60),
                }
            )
    return {
        "kind": "materials",
        "clock": now.isoformat(),
        "clock_txt": fmt.datetime(now),
        "orders_txt": fmt.num(len(orders)),
        "checked": len(checked),
        "shortages": shortages,
        "shortage_problem": problem,
        "wip": wip_ops,
        "stale": stale,
    }


# --- the auditor ---------------------------------------------------------------------------------
def _month_of(now: datetime) -> str:
    return f"{now.year:04d}-{now.month:02d}"


def _months_back(month: str, n: int) -> list[str]:
    y, m = int(month[:4]), int(month[5:])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def auditor_data(rt: Any, lay: FactoryLayout, fmt: Fmt, month: str | None, lang: str) -> dict[str, Any]:
    """Per worker for a month: days worked, hours, regular hours, overtime, findings; report links."""
    from ..compliance.service import compute_period, month_bounds
    from ..service_layer.hours_alerts import factory_rules

    now = _now(rt, lay)
    current = _month_of(now)
    month = month or current
    first, last = month_bounds(month)
    period = compute_period(rt.engine, lay.factory.id, first, last, rules=factory_rules())
    c = period.computed
    per: dict[str, dict[str, float]] = {}
    for h in c.hours_in(first, last):
        row = per.setdefault(h.worker, {"days": 0, "worked": 0.0, "regular": 0.0, "overtime": 0.0})
        if h.worked_s > 0:
            row["days"] += 1
        row["worked"] += h.worked_h
        row["regular"] += h.regular_h
        row["overtime"] += h.overtime_h
    findings = c.findings_in(first, last)
    lang_code = "zh" if lang.startswith("zh") else "en"
    card = _rate_card(rt, lay.factory.id)
    pay: dict[str, str] = {}
    pay_problem = ""
    if card is not None:
        from ..pay.payslip import PayPolicy
        from ..pay.rates import PayError
        from ..reports.model import worker_report

        policy = PayPolicy(rates=card)
        for badge in per:
            try:
                slip = worker_report(period, badge, policy).payslip
            except PayError as e:  # a card that does not price every operation: that worker's pay stays open
                pay_problem = pay_problem or str(e)
                continue
            if slip is not None:
                pay[badge] = format_currency(slip.gross, "CNY", locale=lang)

    def links(**q: str) -> dict[str, str]:
        base = {"month": month, "factory": lay.factory.id, "lang": lang_code, **q}
        return {
            fmt_: "/api/v1/compliance/hours-report?" + urlencode({**base, "format": fmt_}) for fmt_ in ("pdf", "csv")
        }

    workers = []
    for badge in sorted(per, key=lambda b: (-per[b]["overtime"], b)):
        r = per[badge]
        mine = [v for v in findings if v.worker == badge]
        workers.append(
            {
                "badge": badge,
                "name": _worker_name(lay, badge),
                "days_txt": fmt.num(r["days"]),
                "worked_txt": fmt.num(r["worked"], 1),
                "regular_txt": fmt.num(r["regular"], 1),
                "overtime_txt": fmt.num(r["overtime"], 1),
                "overtime": r["overtime"],
                "findings_txt": fmt.num(len(mine)),
                "violations": sum(1 for v in mine if v.severity == "violation"),
                "links": links(worker=badge),
                "pay_txt": pay.get(badge, "–"),
            }
        )
    customers = [{"name": cu, "links": links(customer=cu)} for cu in sorted({o.customer for o in lay.orders.values()})]
    names = {"zh": "text_zh", "en": "text_en"}[lang_code]
    found_rows = [
        {
            "name": _worker_name(lay, v.worker),
            "badge": v.worker,
            "severity": v.severity,
            "severity_txt": fmt.gettext(SEVERITY.get(v.severity, v.severity)),
            "span_txt": fmt.date(datetime.combine(v.start, now.timetz()))
            + ("" if v.start == v.end else " – " + fmt.date(datetime.combine(v.end, now.timetz()))),
            "value_txt": fmt.num(v.value, 1),
            "limit_txt": fmt.num(v.limit, 1),
            "text": getattr(v, names),
        }
        for v in sorted(findings, key=lambda v: (v.severity != "violation", v.start, v.worker))
    ][: MAX_ROWS * 2]
    rules = period.rules
    return {
        "kind": "auditor",
        "clock": now.isoformat(),
        "clock_txt": fmt.datetime(now),
        "month": month,
        "months": _months_back(current, 12),
        "rules_txt": rules.name_zh if lang_code == "zh" else rules.name_en,
        "has_pay": card is not None,
        "pay_problem": pay_problem,
        "chain_head": period.chain_head,
        "chain_sealed": bool(period.chain_head.strip("0")),
        "workers": workers,
        "customers": customers,
        "findings": found_rows,
        "totals": {
            "workers_txt": fmt.num(len(workers)),
            "worked_txt": fmt.num(sum(per[b]["worked"] for b in per), 1),
            "overtime_txt": fmt.num(sum(per[b]["overtime"] for b in per), 1),
            "violations_txt": fmt.num(sum(1 for v in findings if v.severity == "violation")),
        },
    }


def _rate_card(rt: Any, factory: str) -> Any:
    """The factory's stored piece-rate card, where the pay store is installed (None without one)."""
    for mod in optional_modules(["seamline.pay.store"]):
        load = getattr(mod, "load_rate_card", None)
        if load is not None:
            try:
                return load(rt.engine, factory)
            except SQLAlchemyError:  # an older schema without the table: no card
                return None
    return None


# --- routes --------------------------------------------------------------------------------------
def register(app: FastAPI, rt: Any, html_page: HtmlPage) -> None:
    """Mount the pages (``web.routes.register`` calls this with its page frame)."""

    def lang_of(request: Request) -> str:
        return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))

    @app.get("/quality", response_class=HTMLResponse, include_in_schema=False)
    def quality_page(
        request: Request,
        factory: str | None = None,
        lot_size: str | None = None,
        day: str | None = None,
        month: str | None = None,
    ) -> HTMLResponse:
        lang = lang_of(request)
        lay = _layout(rt, factory)
        size = int(lot_size) if lot_size and lot_size.isdigit() and 2 <= int(lot_size) <= 10_000_000 else None
        the_day = None
        if day:  # an empty field of the form is "today"
            try:
                the_day = date.fromisoformat(day) if DAY.match(day) else None
            except ValueError:
                the_day = None
            if the_day is None:
                raise HTTPException(404, f"日期应写作 YYYY-MM-DD / day {day!r}: write it as YYYY-MM-DD")
        if month and not MONTH.match(month):
            raise HTTPException(404, f"月份应写作 YYYY-MM / month {month!r}: write it as YYYY-MM")
        data = quality_data(rt, lay, Fmt(lang), size, the_day, month or None)
        if lot_size and size is None:
            data["lot_error"] = Fmt(lang).gettext("Lot size: a whole number from 2 up")
        return html_page(request, lang, "quality.html", "quality", None, N_("Quality"), data, live=False)

    @app.get("/materials", response_class=HTMLResponse, include_in_schema=False)
    def materials_page(request: Request, factory: str | None = None) -> HTMLResponse:
        lang = lang_of(request)
        data = materials_data(rt, _layout(rt, factory), Fmt(lang))
        return html_page(request, lang, "materials.html", "materials", None, N_("Materials"), data, live=False)

    @app.get("/auditor", response_class=HTMLResponse, include_in_schema=False)
    def auditor_page(request: Request, factory: str | None = None, month: str | None = None) -> HTMLResponse:
        lang = lang_of(request)
        if month is not None and not MONTH.match(month):
            raise HTTPException(404, f"month {month!r}: write it as YYYY-MM")
        data = auditor_data(rt, _layout(rt, factory), Fmt(lang), month, lang)
        return html_page(request, lang, "auditor.html", "auditor", None, N_("Hours and pay"), data, live=False)


__all__ = ["quality_alert_text", "register", "with_quality_alerts"]
