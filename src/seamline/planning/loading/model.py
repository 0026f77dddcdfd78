"""CP-SAT model of order loading on a grid of days.

Per order a line x[o,l] (or "not loaded" u[o]), per line and workday the pieces p[o,l,d] and an
activity flag y[o,l,d]; per line and workday the overtime hours ot[l,d] within the policy's
day / week / month caps; a style switch on a line (style active today, not on the line's
previous workday) costs the changeover hours plus the first-day learning loss out of that day's
capacity. Objective, lexicographic by weights: late days, then overtime hours, then changeovers, then
the sum of finish days (work spreads over idle lines and slack is kept for new orders).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ortools.sat.python import cp_model

from seamline.planning.loading.data import LoadingProblem

UNITS = 100  # standard minutes in hundredths


@dataclass
class LoadingModel:
    model: cp_model.CpModel
    workdays: list[int]
    line_of: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    unloaded: dict[str, cp_model.IntVar] = field(default_factory=dict)
    pieces: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)
    active: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)
    overtime: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    changeover: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)
    late: dict[str, cp_model.IntVar] = field(default_factory=dict)
    finish: dict[str, cp_model.IntVar] = field(default_factory=dict)


def build_loading_model(
    pb: LoadingProblem, *, weights: dict[str, int] | None = None, must_be_on_time: frozenset[str] = frozenset()
) -> LoadingModel:
    """The model; ``weights`` (order id -> lateness weight) lets a what-if favour one order."""
    m = cp_model.CpModel()
    days = pb.days()
    H = len(days)
    workdays = [i for i, d in enumerate(days) if pb.workday(d)]
    lm = LoadingModel(model=m, workdays=workdays)
    pol = pb.policy
    styles = sorted({o.style_code for o in pb.orders})
    per_line_day: dict[tuple[str, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    style_day: dict[tuple[str, str, int], list[cp_model.IntVar]] = defaultdict(list)
    for o in pb.orders:
        lines = [ln for ln in pb.lines if not o.lines or ln.line_id in o.lines]
        u = m.new_bool_var(f"u_{o.order_id}")
        lm.unloaded[o.order_id] = u
        xs = []
        f = m.new_int_var(0, H, f"f_{o.order_id}")
        lm.finish[o.order_id] = f
        work = max(1, round(o.sam_min * UNITS))
        for ln in lines:
            x = m.new_bool_var(f"x_{o.order_id}_{ln.line_id}")
            lm.line_of[(o.order_id, ln.line_id)] = x
            xs.append(x)
            ps = []
            for d in workdays:
                # Before its release day an order makes nothing (the variable is fixed at 0).
                hi = 0 if o.release is not None and days[d] < o.release else o.qty
                p = m.new_int_var(0, hi, f"p_{o.order_id}_{ln.line_id}_{d}")
                y = m.new_bool_var(f"y_{o.order_id}_{ln.line_id}_{d}")
                m.add(p <= o.qty * y)
                m.add(p >= 1).only_enforce_if(y)  # active means producing: switches land on real days
                m.add_implication(y, x)
                m.add(f >= (d + 1) * y)
                lm.pieces[(o.order_id, ln.line_id, d)] = p
                lm.active[(o.order_id, ln.line_id, d)] = y
                per_line_day[(ln.line_id, d)].append((work, p))
                style_day[(ln.line_id, o.style_code, d)].append(y)
                ps.append(p)
            m.add(sum(ps) == o.qty * x)
        m.add(sum(xs) + u == 1)
        due_idx = (o.due - pb.start).days + 1  # finishing by the end of the due day is on time
        late = m.new_int_var(0, 2 * H + 30, f"late_{o.order_id}")
        m.add(late >= f - due_idx)
        # An order left out counts as finishing a week after the horizon (at least a week late).
        m.add(late >= max(7, H + 7 - due_idx)).only_enforce_if(u)
        if o.order_id in must_be_on_time:
            m.add(late == 0)
        lm.late[o.order_id] = late
    ot_total = []
    for ln in pb.lines:
        rate = ln.std_min_per_hour() * UNITS
        reg_cap = round(rate * pol.regular_h_per_day)
        switch_cost = round(rate * pb.changeover_h + reg_cap * pb.learning_loss)
        prev: int | None = None
        for d in workdays:
            ot = m.new_int_var(0, pol.max_ot_h_per_day, f"ot_{ln.line_id}_{d}")
            lm.overtime[(ln.line_id, d)] = ot
            ot_total.append(ot)
            switches = []
            for k in styles:
                ys = style_day.get((ln.line_id, k, d))
                if not ys:
                    continue
                s = m.new_bool_var(f"s_{ln.line_id}_{k}_{d}")
                m.add_max_equality(s, ys)
                c = m.new_bool_var(f"c_{ln.line_id}_{k}_{d}")
                if prev is None:
                    if ln.current_style != k:
                        m.add(c >= s)
                else:
                    ys_prev = style_day.get((ln.line_id, k, prev))
                    if ys_prev:
                        s_prev = m.new_bool_var(f"sp_{ln.line_id}_{k}_{d}")
                        m.add_max_equality(s_prev, ys_prev)
                        m.add(c >= s - s_prev)
                    else:
                        m.add(c >= s)
                lm.changeover[(ln.line_id, k, d)] = c
                switches.append(c)
            load = sum(w * p for w, p in per_line_day.get((ln.line_id, d), []))
            m.add(load + switch_cost * sum(switches) <= reg_cap + round(rate) * ot)
            prev = d
        _caps(m, pb, ln.line_id, lm, days)
    late_w = weights or {}
    total_late = sum(late_w.get(o.order_id, 1) * lm.late[o.order_id] for o in pb.orders)
    n_switch = len(lm.changeover)
    max_ot = len(ot_total) * pol.max_ot_h_per_day
    # Last tie-break: finish early (spreads work over idle lines and keeps slack for new orders).
    w_switch = len(pb.orders) * H + 1
    w_ot = w_switch * (n_switch + 1)
    w_late = w_ot * (max_ot + 1)
    m.minimize(
        w_late * total_late + w_ot * sum(ot_total) + w_switch * sum(lm.changeover.values()) + sum(lm.finish.values())
    )
    return lm


def _caps(m: cp_model.CpModel, pb: LoadingProblem, line_id: str, lm: LoadingModel, days: list[date]) -> None:
    """Weekly (Monday–Sunday) and monthly overtime caps, net of hours already used."""
    pol = pb.policy
    weeks: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    months: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for d in lm.workdays:
        day = days[d]
        weeks[day.isocalendar()[:2]].append(lm.overtime[(line_id, d)])
        months[(day.year, day.month)].append(lm.overtime[(line_id, d)])
    first_week = pb.start.isocalendar()[:2]
    first_month = (pb.start.year, pb.start.month)
    if pol.max_ot_h_per_week is not None:
        for key, ots in weeks.items():
            used = pol.ot_h_used_week if key == first_week else 0
            m.add(sum(ots) <= max(0, pol.max_ot_h_per_week - used))
    if pol.max_ot_h_per_month is not None:
        for key, ots in months.items():
            used = pol.ot_h_used_month if key == first_month else 0
            m.add(sum(ots) <= max(0, pol.max_ot_h_per_month - used))
