"""The planner's board: page data for the lines × days board and the what-if panel.

The plan comes from the loading engine through ``service_layer/plan_board.py``; this module only
says it in the page's language. An order's status (docs/pages.md, planner):

- ``late`` 逾期: its due day is already past and it is not finished: it *is* late;
- ``risk`` 有风险: due today or later, but the plan finishes it after its due day;
- ``ok`` 按期: the plan finishes it by its due day; ``done`` 已完成: every piece is made.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from ..domain.live import LiveState
from ..domain.model import FactoryLayout
from ..service_layer.plan_board import Board, FloorState, MoveOutcome, PlanBoards
from .i18n import N_, Fmt
from .progress import OrderProgress

DAY_MS = 86_400_000


def floor_state(live: LiveState, progress: OrderProgress, layout: FactoryLayout) -> FloorState:
    """Today (the factory clock's day), pieces done, the line sewing each order, styles on lines."""
    f = layout.factory.id
    now = live.as_of(f).astimezone(live.tz(f))
    done = progress.done_of(f)
    # Orders finished and out of memory: the line that sewed most of them, as it was then.
    best: dict[str, tuple[float, str]] = {oid: (r.line_earned_min, r.line) for oid, r in progress.finished(f).items()}
    for (pf, lid, oid), lo in progress.by_line.items():
        if pf == f and (oid not in best or (lo.earned_min, lid) > best[oid]):
            best[oid] = (lo.earned_min, lid)
    styles = {lid: s for (pf, lid), s in live.line_style.items() if pf == f}
    return FloorState(now.date(), done, {oid: lid for oid, (_e, lid) in best.items()}, styles, progress.order_states(f))


def status(order_due: date, today: date, finish: date | None, finished: bool, state: str = "open") -> str:
    if state != "open":
        return state  # the planner's word: hold / cancelled / closed (not planned)
    if finished:
        return "done"
    if order_due < today:
        return "late"
    if finish is None or finish > order_due:
        return "risk"
    return "ok"


STATUS_TEXT = {
    "late": N_("Late"),
    "risk": N_("At risk"),
    "ok": N_("On time"),
    "done": N_("Done"),
    "hold": N_("On hold"),
    "cancelled": N_("Cancelled"),
    "closed": N_("Closed (shipped short)"),
}


def _day_txt(fmt: Fmt, d: date | None) -> str:
    if d is None:
        return "–"
    return fmt.date(datetime.combine(d, time()))


def _line_name(fmt: Fmt, layout: FactoryLayout, lid: str | None) -> str:
    ln = layout.lines.get(lid) if lid else None
    return fmt.split_name(ln.name) if ln else (lid or "–")


def _style_name(fmt: Fmt, layout: FactoryLayout, code: str) -> str:
    st = layout.styles.get(code)
    return fmt.name(st.name_zh, st.name_en) if st else code


def _late_txt(fmt: Fmt, st: str, late_days: int) -> str:
    if st == "late" or (st == "risk" and late_days > 0):
        return fmt.gettext("{n} days late").format(n=fmt.num(late_days))
    return ""


def board_data(
    live: LiveState, layout: FactoryLayout, progress: OrderProgress, fmt: Fmt, boards: PlanBoards
) -> dict[str, Any]:
    """Lines × days with a bar per order, the today line, due markers; the orders table."""
    _ = fmt.gettext
    f = layout.factory.id
    progress.poll_states()  # a state the CLI changed reaches the next view
    floor = floor_state(live, progress, layout)
    board = boards.get(layout, floor)
    now = live.as_of(f).astimezone(live.tz(f))
    day0 = board.problem.start
    days = board.problem.days()
    s0 = board.starts()
    per_day: dict[str, list[int]] = {}
    for ld in board.plan.days:
        for oid, n in ld.pieces.items():
            if n:
                per_day.setdefault(oid, []).append(n)
    remaining = {o.order_id: o for o in board.problem.orders}
    line_ids = sorted(layout.lines)
    figures: dict[str, list[int]] = {lid: [0, 0] for lid in line_ids}
    for ld in board.plan.days:
        if ld.line_id in figures:
            figures[ld.line_id][0] += ld.overtime_h
            figures[ld.line_id][1] += ld.changeovers
    bars = []
    rows = []
    for oid, o in sorted(layout.orders.items()):
        style = layout.styles.get(o.style_code)
        done = floor.done.get(oid, 0)
        out = board.plan.orders.get(oid)
        state = floor.not_open.get(oid, "open")
        finished = oid not in remaining and state == "open"
        start = s0.get(oid)
        finish = out.finish if out else None
        st = status(o.due, floor.today, finish, finished, state)
        late_days = max(0, ((finish or floor.today) - o.due).days) if st in ("late", "risk") and not finished else 0
        if st == "late" and finish is None:
            late_days = max(late_days, (floor.today - o.due).days)
        line = out.line_id if out else floor.sewing_on.get(oid)
        made = per_day.get(oid, [])
        row: dict[str, Any] = {
            "order": oid,
            "customer": o.customer,
            "style": o.style_code,
            "style_name": _style_name(fmt, layout, o.style_code),
            "line": line,
            "line_name": _line_name(fmt, layout, line),
            "qty": o.quantity,
            "qty_txt": fmt.num(o.quantity),
            "done_txt": fmt.num(done),
            "progress_pct": round(min(100.0, 100.0 * done / o.quantity), 1) if o.quantity else 100.0,
            "progress_txt": fmt.pct(min(100.0, 100.0 * done / o.quantity) if o.quantity else 100.0),
            "left_txt": fmt.num(
                remaining[oid].qty if oid in remaining else 0 if state == "open" else max(0, o.quantity - done)
            ),
            "due": o.due.isoformat(),
            "due_txt": _day_txt(fmt, o.due),
            "start": start.isoformat() if start else None,
            "start_txt": _day_txt(fmt, start),
            "finish": finish.isoformat() if finish else None,
            "finish_txt": _("Done") if finished else _day_txt(fmt, finish) if state == "open" else "–",
            "status": st,
            "status_txt": _(STATUS_TEXT[st]),
            "late_days": late_days,
            "late_txt": _late_txt(fmt, st, late_days),
            "sam_txt": fmt.num(style.sam_min, 2) if style else "–",
            "per_day_txt": fmt.num(sum(made) / len(made)) if made else "–",
            "moved": oid in board.moves,
        }
        rows.append(row)
        if start is not None and finish is not None and line in figures:
            bars.append(
                {
                    **row,
                    "row": line_ids.index(line),
                    "x0": (start - day0).days,
                    "x1": (finish - day0).days + 1,
                    "due_x": (o.due - day0).days + 1,
                    "label": f"{oid} · {row['style_name']} · {row['qty_txt']}",
                    "tip": [
                        f"{oid} · {row['style_name']} · {row['qty_txt']} · {row['line_name']}",
                        _("Planned {start} → {finish}").format(start=row["start_txt"], finish=row["finish_txt"]),
                        _("Due {due}").format(due=row["due_txt"]),
                        _("SAM {sam} min · {n} pieces a day planned").format(sam=row["sam_txt"], n=row["per_day_txt"]),
                        row["status_txt"] + (" · " + row["late_txt"] if row["late_txt"] else ""),
                    ],
                }
            )
    rank = {"late": 0, "risk": 1, "ok": 2, "hold": 3, "done": 4, "closed": 5, "cancelled": 6}
    rows.sort(key=lambda r: (rank[r["status"]], r["due"], r["order"]))
    midnight = datetime.combine(day0, time(), now.tzinfo)
    return {
        "board": {
            "factory": f,
            "version": board.version,
            "first_day": day0.isoformat(),
            "days": [
                {
                    "date": d.isoformat(),
                    "label": f"{d.month}/{d.day}",
                    "off": not board.problem.workday(d),
                    "weekday": d.weekday(),
                }
                for d in days
            ],
            "today_x": (now - midnight) / timedelta(days=1),
            "lines": [
                {
                    "id": lid,
                    "name": _line_name(fmt, layout, lid),
                    "style_name": _style_name(fmt, layout, floor.line_styles[lid]) if lid in floor.line_styles else "",
                    "overtime_h": figures[lid][0],
                    "changeovers": figures[lid][1],
                    "figures_txt": _("Overtime {h} h · changeovers {n}").format(
                        h=fmt.num(figures[lid][0]), n=fmt.num(figures[lid][1])
                    ),
                }
                for lid in line_ids
            ],
            "bars": bars,
            "totals_txt": _("Plan version {v}: {late} late days, {ot} h overtime, {co} changeovers").format(
                v=board.version,
                late=fmt.num(board.plan.total_late_days),
                ot=fmt.num(board.plan.total_overtime_h),
                co=fmt.num(board.plan.total_changeovers),
            ),
        },
        "orders": rows,
    }


def what_if_data(outcome: MoveOutcome, board: Board, layout: FactoryLayout, fmt: Fmt) -> dict[str, Any]:
    """The what-if panel: feasible?, lateness per affected order, overtime, changeovers, shortages."""
    _ = fmt.gettext
    wi = outcome.what_if
    after = wi.after
    orders = {o.order_id: o for o in board.problem.orders}

    def late_txt(n: int) -> str:
        return _("{n} days late").format(n=fmt.num(n)) if n > 0 else _("On time")

    return {
        "order": wi.move.order_id,
        "line": wi.move.line_id,
        "start": wi.move.start.isoformat(),
        "version": board.version,
        "feasible": wi.feasible,
        "feasible_txt": _("Feasible") if wi.feasible else _("Not feasible"),
        "reasons": list(wi.reasons),
        "move_txt": _("{order} to {line} from {day}").format(
            order=wi.move.order_id, line=_line_name(fmt, layout, wi.move.line_id), day=_day_txt(fmt, wi.move.start)
        ),
        "late_days_before": wi.before.total_late_days,
        "late_days_after": after.total_late_days if after else None,
        "overtime_h_before": wi.before.total_overtime_h,
        "overtime_h_after": after.total_overtime_h if after else None,
        "changeovers_before": wi.before.total_changeovers,
        "changeovers_after": after.total_changeovers if after else None,
        "orders": [
            {
                "order": c.order_id,
                "style_name": _style_name(fmt, layout, orders[c.order_id].style_code) if c.order_id in orders else "",
                "line_before": _line_name(fmt, layout, c.line_before),
                "line_after": _line_name(fmt, layout, c.line_after),
                "start_before": _day_txt(fmt, c.start_before),
                "start_after": _day_txt(fmt, c.start_after),
                "finish_before": _day_txt(fmt, c.finish_before),
                "finish_after": _day_txt(fmt, c.finish_after),
                "late_days_before": c.late_days_before,
                "late_days_after": c.late_days_after,
                "late_before_txt": late_txt(c.late_days_before),
                "late_after_txt": late_txt(c.late_days_after),
                "worse": c.late_days_after > c.late_days_before,
            }
            for c in wi.orders
        ],
        "lines": [
            {
                "line": c.line_id,
                "line_name": _line_name(fmt, layout, c.line_id),
                "overtime_h_before": c.overtime_h_before,
                "overtime_h_after": c.overtime_h_after,
                "changeovers_before": c.changeovers_before,
                "changeovers_after": c.changeovers_after,
            }
            for c in wi.lines
        ],
        "shortages": [{**s.as_dict(), "new": s in outcome.new_shortages} for s in outcome.shortages],
        "materials_error": outcome.materials_error,
        "hours_warnings": list(outcome.hours_warnings),
    }
