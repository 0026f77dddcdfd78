"""Earliest-due-date loading without overtime: the hint for CP-SAT and a fallback plan.

Orders in due-date order go to the line that would finish them soonest (appending after what the
line already has, paying the changeover when the style differs), day by day at regular hours; an
order with a release day waits for it.
"""

from __future__ import annotations

from seamline.planning.loading.data import LoadingProblem
from seamline.planning.loading.model import UNITS

Pieces = dict[tuple[str, str, int], int]  # (order, line, day index) -> pieces


def edd_loading(pb: LoadingProblem) -> tuple[dict[str, str | None], Pieces]:
    days = pb.days()
    workdays = [i for i, d in enumerate(days) if pb.workday(d)]
    rate = {ln.line_id: ln.std_min_per_hour() * UNITS for ln in pb.lines}
    reg = {lid: round(r * pb.policy.regular_h_per_day) for lid, r in rate.items()}
    switch = {lid: round(rate[lid] * pb.changeover_h + reg[lid] * pb.learning_loss) for lid in rate}
    # cursor: (workday position, capacity left that day, last style)
    cursor = {ln.line_id: (0, reg[ln.line_id], ln.current_style) for ln in pb.lines}
    line_of: dict[str, str | None] = {}
    pieces: Pieces = {}
    for o in sorted(pb.orders, key=lambda o: (o.due, -o.priority, o.order_id)):
        work = max(1, round(o.sam_min * UNITS))
        best = None
        for ln in pb.lines:
            if o.lines and ln.line_id not in o.lines:
                continue
            pos, left, style = cursor[ln.line_id]
            if o.release is not None:
                rel = next((k for k, i in enumerate(workdays) if days[i] >= o.release), len(workdays))
                if rel > pos:  # the line waits for the release day (idle days in this hint)
                    pos, left = rel, reg[ln.line_id]
            alloc: list[tuple[int, int]] = []
            need = o.qty
            first = True
            while need > 0 and pos < len(workdays):
                cap = left
                if first and style != o.style_code:
                    cap -= switch[ln.line_id]
                first_day_active = False
                n = min(need, max(0, cap) // work)
                if n > 0:
                    alloc.append((workdays[pos], n))
                    need -= n
                    first_day_active = True
                if need > 0:
                    pos, left = pos + 1, reg[ln.line_id]
                    if first and not first_day_active:
                        continue  # the switch moves to the next day with the first pieces
                    first = False
                else:
                    left = cap - n * work if first else left - n * work
            if need > 0:
                continue
            finish = alloc[-1][0]
            if best is None or finish < best[0]:
                best = (finish, ln.line_id, alloc, (pos, left, o.style_code))
        if best is None:
            line_of[o.order_id] = None
            continue
        _, lid, alloc, cur = best
        line_of[o.order_id] = lid
        for d, n in alloc:
            pieces[(o.order_id, lid, d)] = pieces.get((o.order_id, lid, d), 0) + n
        cursor[lid] = cur
    return line_of, pieces
