"""The planning board's plan and its what-if: an order moved to another line or start day.

A board must not reshuffle what the planner did not touch, so every order is held to one line:
the line the planner moved it to, else the line already sewing it, else the line the
earliest-due-first loading (``greedy.edd_loading``) gives it. The CP-SAT loading model then
decides only the days and the overtime. A what-if holds every other order to its line in the
plan on the board, puts the moved order on its new line from its new start day, and solves the
same model again: the differences (lateness, overtime, changeovers) are the move's doing, not a
different line choice of the solver.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from seamline.planning.loading.check import check_loading
from seamline.planning.loading.data import LoadingPlan, LoadingProblem
from seamline.planning.loading.greedy import edd_loading
from seamline.planning.loading.solver import solve_loading


@dataclass(frozen=True, slots=True)
class Move:
    """The planner's decision: make ``order_id`` on ``line_id``, starting no earlier than ``start``."""

    order_id: str
    line_id: str
    start: date


def pinned(pb: LoadingProblem, lines: Mapping[str, str], moves: Mapping[str, Move]) -> LoadingProblem:
    """``pb`` with orders held to ``lines`` (order -> line) and moved orders to their move."""
    orders = []
    for o in pb.orders:
        mv = moves.get(o.order_id)
        if mv is not None:
            o = dataclasses.replace(o, lines=(mv.line_id,), release=mv.start)
        elif o.order_id in lines:
            o = dataclasses.replace(o, lines=(lines[o.order_id],))
        orders.append(o)
    return dataclasses.replace(pb, orders=tuple(orders))


def board_lines(pb: LoadingProblem, held: Mapping[str, str], moves: Mapping[str, Move]) -> dict[str, str]:
    """Each order's line on the board: moved > held (already sewing there) > earliest-due-first."""
    pb1 = pinned(pb, held, moves)
    line_of, _pieces = edd_loading(pb1)
    out: dict[str, str] = {}
    for o in pb1.orders:
        lid = line_of.get(o.order_id) or (o.lines[0] if o.lines else None)
        if lid is None:
            lid = min((ln.line_id for ln in pb.lines), default=None)
        if lid is not None:
            out[o.order_id] = lid
    return out


def solve_line(pb: LoadingProblem, line_id: str, time_limit_s: float) -> LoadingPlan:
    """The loading model on one line with the orders held to it (``pb`` already pinned)."""
    sub = dataclasses.replace(
        pb,
        lines=tuple(ln for ln in pb.lines if ln.line_id == line_id),
        orders=tuple(o for o in pb.orders if o.lines == (line_id,)),
    )
    plan = solve_loading(sub, time_limit_s, workers=1)
    if plan is None:
        # The model always has a solution (nothing is required on time); a busy machine may need
        # longer than the limit to find the first one.
        plan = solve_loading(sub, max(10.0, 4 * time_limit_s), workers=1)
    if plan is None:
        raise RuntimeError(f"the loading model found no plan for {line_id} in the time limit")
    return plan


def merge(plans: Mapping[str, LoadingPlan]) -> LoadingPlan:
    """One plan from per-line plans (lines are independent once every order is held to one)."""
    days = tuple(d for lid in sorted(plans) for d in plans[lid].days)
    orders = {k: v for lid in sorted(plans) for k, v in plans[lid].orders.items()}
    return LoadingPlan(
        days=days,
        orders=orders,
        total_late_days=sum(p.total_late_days for p in plans.values()),
        total_overtime_h=sum(p.total_overtime_h for p in plans.values()),
        total_changeovers=sum(p.total_changeovers for p in plans.values()),
        optimal=all(p.optimal for p in plans.values()),
    )


def by_line(pb: LoadingProblem, plan: LoadingPlan) -> dict[str, LoadingPlan]:
    """``plan`` cut into one plan per line (the inverse of ``merge``)."""
    out = {}
    for ln in pb.lines:
        lid = ln.line_id
        days = tuple(d for d in plan.days if d.line_id == lid)
        orders = {k: v for k, v in plan.orders.items() if v.line_id == lid}
        out[lid] = LoadingPlan(
            days,
            orders,
            sum(v.late_days for v in orders.values()),
            sum(d.overtime_h for d in days),
            sum(d.changeovers for d in days),
            plan.optimal,
        )
    return out


def board_plan(
    pb: LoadingProblem,
    held: Mapping[str, str],
    moves: Mapping[str, Move],
    time_limit_s: float = 3.0,
) -> LoadingPlan:
    """The plan the board shows: every order on its board line, days and overtime by CP-SAT.

    With every order held to one line the lines share nothing (capacity, overtime caps and
    changeovers are per line), so each line is solved on its own: small models that CP-SAT
    solves to optimality in moments, and the same answer every time.
    """
    pb1 = pinned(pb, board_lines(pb, held, moves), moves)
    per = max(1.0, time_limit_s / max(1, len(pb.lines)))
    return merge({ln.line_id: solve_line(pb1, ln.line_id, per) for ln in pb.lines})


def starts(plan: LoadingPlan) -> dict[str, date]:
    """The first day each order makes pieces."""
    out: dict[str, date] = {}
    for ld in plan.days:
        for oid, n in ld.pieces.items():
            if n and (oid not in out or ld.day < out[oid]):
                out[oid] = ld.day
    return out


def line_figures(plan: LoadingPlan) -> dict[str, tuple[int, int]]:
    """Per line: (overtime hours, changeovers) over the horizon."""
    out: dict[str, tuple[int, int]] = {}
    for ld in plan.days:
        ot, co = out.get(ld.line_id, (0, 0))
        out[ld.line_id] = (ot + ld.overtime_h, co + ld.changeovers)
    return out


@dataclass(frozen=True, slots=True)
class OrderChange:
    order_id: str
    line_before: str | None
    line_after: str | None
    start_before: date | None
    start_after: date | None
    finish_before: date | None
    finish_after: date | None
    late_days_before: int
    late_days_after: int


@dataclass(frozen=True, slots=True)
class LineChange:
    line_id: str
    overtime_h_before: int
    overtime_h_after: int
    changeovers_before: int
    changeovers_after: int


@dataclass(frozen=True)
class WhatIf:
    """What a move would do. ``feasible`` False: ``reasons`` say why, and nothing may be applied."""

    move: Move
    feasible: bool
    reasons: tuple[str, ...]
    before: LoadingPlan
    after: LoadingPlan | None
    orders: tuple[OrderChange, ...]  # the moved order first, then every order the move changes
    lines: tuple[LineChange, ...]  # the lines it leaves and joins, and any line whose figures change

    @property
    def overtime_h_delta(self) -> int:
        return 0 if self.after is None else self.after.total_overtime_h - self.before.total_overtime_h

    @property
    def changeovers_delta(self) -> int:
        return 0 if self.after is None else self.after.total_changeovers - self.before.total_changeovers


def _refusals(pb: LoadingProblem, move: Move) -> list[str]:
    orders = {o.order_id: o for o in pb.orders}
    lines = {ln.line_id for ln in pb.lines}
    o = orders.get(move.order_id)
    out = []
    if o is None:
        out.append(f"order {move.order_id} has nothing left to plan")
    if move.line_id not in lines:
        out.append(f"unknown line {move.line_id}")
    if move.start < pb.start:
        out.append(f"start {move.start} is before the plan's first day {pb.start}")
    last = pb.days()[-1] if pb.horizon_days > 0 else pb.start
    if move.start > last:
        out.append(f"start {move.start} is after the plan's last day {last}")
    if o is not None and o.lines and move.line_id not in o.lines:
        out.append(f"order {o.order_id} may not be made on {move.line_id} (allowed: {', '.join(o.lines)})")
    return out


def what_if(
    pb: LoadingProblem,
    before: LoadingPlan,
    move: Move,
    moves: Mapping[str, Move] | None = None,
    time_limit_s: float = 3.0,
) -> WhatIf:
    """The loading with ``move`` applied, against the plan on the board (``before``).

    ``pb`` is the problem without pins; ``moves`` the planner's earlier moves (they keep their
    start days). Infeasible when the move cannot be planned at all (unknown line, outside the
    horizon, a line the order may not use), when the order then cannot be finished within the
    horizon, or when the independent check finds a fault in the plan.
    """
    refused = _refusals(pb, move)
    if refused:
        return WhatIf(move, False, tuple(refused), before, None, (), ())
    held = {oid: out.line_id for oid, out in before.orders.items() if out.line_id is not None}
    all_moves = {**(moves or {}), move.order_id: move}
    # Earlier moves keep their start day; every order keeps its board line but the moved one.
    pb1 = pinned(pb, held, all_moves)
    # Only the line the order leaves and the one it joins are planned again; the others keep
    # their plan exactly (they share nothing with these two).
    was = before.orders.get(move.order_id)
    touched = sorted({move.line_id} | ({was.line_id} if was is not None and was.line_id else set()))
    per_line = by_line(pb, before)
    per = max(1.0, time_limit_s / len(touched))
    for lid in touched:
        per_line[lid] = solve_line(pb1, lid, per)
    after = merge(per_line)
    reasons: list[str] = []
    if after.orders[move.order_id].line_id is None:
        reasons.append(
            f"order {move.order_id} cannot be finished on {move.line_id} within the plan's {pb.horizon_days} days"
        )
    reasons.extend(check_loading(pb1, after))
    return WhatIf(
        move,
        not reasons,
        tuple(reasons),
        before,
        after,
        _order_changes(before, after, move),
        _line_changes(before, after, move),
    )


def _order_changes(before: LoadingPlan, after: LoadingPlan, move: Move) -> tuple[OrderChange, ...]:
    s0, s1 = starts(before), starts(after)
    out = []
    for oid, a in after.orders.items():
        b = before.orders.get(oid)
        if b is None:
            continue
        ch = OrderChange(
            oid, b.line_id, a.line_id, s0.get(oid), s1.get(oid), b.finish, a.finish, b.late_days, a.late_days
        )
        if oid == move.order_id or (ch.line_before, ch.start_before, ch.finish_before, ch.late_days_before) != (
            ch.line_after,
            ch.start_after,
            ch.finish_after,
            ch.late_days_after,
        ):
            out.append(ch)
    out.sort(key=lambda c: (c.order_id != move.order_id, -(c.late_days_after - c.late_days_before), c.order_id))
    return tuple(out)


def _line_changes(before: LoadingPlan, after: LoadingPlan, move: Move) -> tuple[LineChange, ...]:
    f0, f1 = line_figures(before), line_figures(after)
    was = before.orders.get(move.order_id)
    touched = {move.line_id} | ({was.line_id} if was is not None and was.line_id else set())
    out = []
    for lid in sorted(set(f0) | set(f1)):
        b, a = f0.get(lid, (0, 0)), f1.get(lid, (0, 0))
        if lid in touched or a != b:
            out.append(LineChange(lid, b[0], a[0], b[1], a[1]))
    return tuple(out)
