"""Independent check of a loading plan against its problem (shares no code with the model)."""

from __future__ import annotations

from collections import defaultdict

from seamline.planning.loading.data import LoadingPlan, LoadingProblem


def check_loading(pb: LoadingProblem, plan: LoadingPlan, tol_min: float = 0.5) -> list[str]:
    """Problems with ``plan``: quantities, one line per order, rest days, hours caps, capacity."""
    errors: list[str] = []
    orders = {o.order_id: o for o in pb.orders}
    lines = {ln.line_id: ln for ln in pb.lines}
    made: dict[str, int] = defaultdict(int)
    where: dict[str, set[str]] = defaultdict(set)
    # Styles running on each line's previous workday (a style new today costs a changeover).
    prev_styles: dict[str, set[str]] = {
        ln.line_id: {ln.current_style} if ln.current_style is not None else set() for ln in pb.lines
    }
    week_ot: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    month_ot: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    pol = pb.policy
    for ld in sorted(plan.days, key=lambda x: (x.line_id, x.day)):
        ln = lines[ld.line_id]
        if not pb.workday(ld.day) and (ld.pieces or ld.overtime_h):
            errors.append(f"{ld.line_id} works on rest day {ld.day}")
        if not 0 <= ld.overtime_h <= pol.max_ot_h_per_day:
            errors.append(f"{ld.line_id} {ld.day}: {ld.overtime_h} h overtime exceeds the daily cap")
        week_ot[(ld.line_id, ld.day.isocalendar()[:2])] += ld.overtime_h
        month_ot[(ld.line_id, (ld.day.year, ld.day.month))] += ld.overtime_h
        std_min = 0.0
        styles_today = set()
        for oid, n in ld.pieces.items():
            o = orders[oid]
            made[oid] += n
            where[oid].add(ld.line_id)
            std_min += n * o.sam_min
            styles_today.add(o.style_code)
            if o.lines and ld.line_id not in o.lines:
                errors.append(f"order {oid} not allowed on {ld.line_id}")
            if n and o.release is not None and ld.day < o.release:
                errors.append(f"order {oid} made on {ld.day}, before its release day {o.release}")
        switches = len(styles_today - prev_styles[ld.line_id])
        if pb.workday(ld.day):
            prev_styles[ld.line_id] = styles_today
        rate = ln.std_min_per_hour()
        capacity = rate * (pol.regular_h_per_day + ld.overtime_h) - switches * (
            rate * pb.changeover_h + rate * pol.regular_h_per_day * pb.learning_loss
        )
        if std_min > capacity + tol_min:
            errors.append(f"{ld.line_id} {ld.day}: {std_min:.0f} std min planned, capacity {capacity:.0f}")
    first_week = pb.start.isocalendar()[:2]
    first_month = (pb.start.year, pb.start.month)
    for (lid, wk), h in week_ot.items():
        cap = pol.max_ot_h_per_week
        if cap is not None and h + (pol.ot_h_used_week if wk == first_week else 0) > cap:
            errors.append(f"{lid} week {wk}: {h} h overtime exceeds {cap}")
    for (lid, mo), h in month_ot.items():
        cap = pol.max_ot_h_per_month
        if cap is not None and h + (pol.ot_h_used_month if mo == first_month else 0) > cap:
            errors.append(f"{lid} month {mo}: {h} h overtime exceeds {cap}")
    for oid, o in orders.items():
        out = plan.orders.get(oid)
        if out is None:
            errors.append(f"order {oid} missing from the plan")
            continue
        if out.line_id is None:
            if made[oid]:
                errors.append(f"order {oid} reported unloaded but {made[oid]} pcs planned")
            continue
        if made[oid] != o.qty:
            errors.append(f"order {oid}: {made[oid]} pcs planned, {o.qty} ordered")
        if where[oid] != {out.line_id}:
            errors.append(f"order {oid} split over lines {sorted(where[oid])}")
        if out.finish is not None and out.late_days != max(0, (out.finish - o.due).days):
            errors.append(f"order {oid}: lateness {out.late_days} does not match finish {out.finish}")
    return errors
