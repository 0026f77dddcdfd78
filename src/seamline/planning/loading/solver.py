"""Solving order loading, and the what-if "can we take this order?"."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict

from ortools.sat.python import cp_model

from seamline.planning.loading.data import (
    LineDay,
    LoadingPlan,
    LoadingProblem,
    LoadOrder,
    OrderOutcome,
    Verdict,
)
from seamline.planning.loading.greedy import edd_loading
from seamline.planning.loading.model import LoadingModel, build_loading_model


def _hint(lm: LoadingModel, pb: LoadingProblem) -> None:
    line_of, pieces = edd_loading(pb)
    m = lm.model
    for (o, lid), x in lm.line_of.items():
        m.add_hint(x, line_of.get(o) == lid)
    for o, u in lm.unloaded.items():
        m.add_hint(u, line_of.get(o) is None)
    for key, p in lm.pieces.items():
        n = pieces.get(key, 0)
        m.add_hint(p, n)
        m.add_hint(lm.active[key], n > 0)
    for ot in lm.overtime.values():
        m.add_hint(ot, 0)


def _extract(pb: LoadingProblem, lm: LoadingModel, solver: cp_model.CpSolver, optimal: bool) -> LoadingPlan:
    days = pb.days()
    per_ld: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    for (o, lid, d), p in lm.pieces.items():
        v = solver.value(p)
        if v:
            per_ld[(lid, d)][o] = v
    co: dict[tuple[str, int], int] = defaultdict(int)
    for (lid, _k, d), c in lm.changeover.items():
        co[(lid, d)] += solver.value(c)
    line_days = []
    for ln in pb.lines:
        for d in lm.workdays:
            line_days.append(
                LineDay(
                    ln.line_id,
                    days[d],
                    pb.policy.regular_h_per_day,
                    solver.value(lm.overtime[(ln.line_id, d)]),
                    per_ld.get((ln.line_id, d), {}),
                    co[(ln.line_id, d)],
                )
            )
    outcomes = {}
    for order in pb.orders:
        line = next((lid for (oid, lid), x in lm.line_of.items() if oid == order.order_id and solver.value(x)), None)
        made = [d for (oid, _l, d), p in lm.pieces.items() if oid == order.order_id and solver.value(p) > 0]
        finish = days[max(made)] if made and line is not None else None
        late = solver.value(lm.late[order.order_id]) if finish is None else max(0, (finish - order.due).days)
        outcomes[order.order_id] = OrderOutcome(order.order_id, line, finish, late)
    return LoadingPlan(
        days=tuple(line_days),
        orders=outcomes,
        total_late_days=sum(v.late_days for v in outcomes.values()),
        total_overtime_h=sum(x.overtime_h for x in line_days),
        total_changeovers=sum(x.changeovers for x in line_days),
        optimal=optimal,
    )


def solve_loading(
    pb: LoadingProblem,
    time_limit_s: float = 5.0,
    *,
    workers: int = 2,
    seed: int = 0,
    weights: dict[str, int] | None = None,
    must_be_on_time: frozenset[str] = frozenset(),
) -> LoadingPlan | None:
    """Best plan within the time limit (None only when ``must_be_on_time`` cannot be met)."""
    lm = build_loading_model(pb, weights=weights, must_be_on_time=must_be_on_time)
    _hint(lm, pb)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(lm.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return _extract(pb, lm, solver, status == cp_model.OPTIMAL)


def can_accept(
    pb: LoadingProblem,
    new_order: LoadOrder,
    time_limit_s: float = 10.0,
    *,
    workers: int = 2,
    baseline: LoadingPlan | None = None,
) -> Verdict:
    """Can ``new_order`` be made on time, and what would it push late?

    Solves the current book (unless ``baseline`` is given), then the book plus the new order with
    the new order required on time. Yes when that is possible and no existing order ends later
    than in the baseline; otherwise no, with the plan that would take it and the orders it displaces.
    """
    t_end = time.monotonic() + time_limit_s
    if baseline is None:
        baseline = solve_loading(pb, 0.4 * time_limit_s, workers=workers)
        assert baseline is not None  # without hard constraints the model is always feasible
    with_new = dataclasses.replace(pb, orders=(*pb.orders, new_order))
    plan = solve_loading(
        with_new, t_end - time.monotonic(), workers=workers, must_be_on_time=frozenset({new_order.order_id})
    )
    if plan is None:
        fallback = solve_loading(with_new, max(0.5, t_end - time.monotonic()), workers=workers)
        assert fallback is not None
        late = fallback.orders[new_order.order_id].late_days
        return Verdict(
            False,
            False,
            fallback,
            _displaced(baseline, fallback),
            f"cannot make {new_order.qty} pcs of {new_order.style_code} by {new_order.due} (best: {late} days late)",
        )
    displaced = _displaced(baseline, plan)
    if displaced:
        return Verdict(False, True, plan, displaced, f"on time only by making {len(displaced)} other order(s) later")
    return Verdict(True, True, plan, (), "fits without making any other order later")


def _displaced(before: LoadingPlan, after: LoadingPlan) -> tuple[str, ...]:
    out = []
    for oid, b in before.orders.items():
        a = after.orders.get(oid)
        if a is not None and (a.late_days > b.late_days or (a.line_id is None and b.line_id is not None)):
            out.append(oid)
    return tuple(sorted(out))
