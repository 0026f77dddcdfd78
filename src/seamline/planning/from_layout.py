"""Planning problems from the factory's master data (``seamline.domain.model.FactoryLayout``).

The planning packages take plain inputs; this is the one place that knows how a factory's lines,
stations, workers, styles, orders and calendars map onto them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from seamline.domain.model import FactoryLayout
from seamline.planning.balance.data import BalanceProblem
from seamline.planning.loading.data import HoursPolicy, LoadingProblem, LoadLine, LoadOrder


def balance_problem(
    layout: FactoryLayout,
    style_code: str,
    line_id: str,
    absent: frozenset[str] = frozenset(),
    efficiency: dict[tuple[str, str], float] | None = None,
) -> BalanceProblem:
    """Workers of ``line_id`` (minus ``absent``) on ``style_code``; machines from the line's stations."""
    style = layout.styles[style_code]
    workers = tuple(w for w in layout.workers.values() if w.line_id == line_id and w.badge not in absent)
    machines = Counter(s.machine_type for s in layout.stations.values() if s.line_id == line_id)
    # Manual work needs no machine; any other type the line lacks has zero machines.
    limits = {o.machine_type: machines.get(o.machine_type, 0) for o in style.operations if o.machine_type != "MAN"}
    return BalanceProblem(style=style, workers=workers, efficiency=efficiency or {}, machines=limits)


def loading_problem(
    layout: FactoryLayout,
    start: date,
    horizon_days: int,
    policy: HoursPolicy | None = None,
    current_styles: dict[str, str] | None = None,
) -> LoadingProblem:
    """All orders of the factory onto its lines; capacity = operators × target efficiency."""
    lines = []
    for ln in layout.lines.values():
        ops = sum(1 for w in layout.workers.values() if w.line_id == ln.id)
        lines.append(LoadLine(ln.id, ops, ln.target_efficiency_pct / 100.0, (current_styles or {}).get(ln.id)))
    if policy is None:
        cal = layout.calendar_for_line(next(iter(layout.lines))) if layout.lines else None
        if cal is not None:
            rest = tuple(d for d in range(7) if d not in cal.workdays)
            policy = HoursPolicy(regular_h_per_day=round(cal.shift_minutes() / 60.0, 2), rest_days=rest)
        else:
            policy = HoursPolicy()
    orders = tuple(
        LoadOrder(o.id, o.style_code, o.quantity, o.due, layout.styles[o.style_code].sam_min, o.priority)
        for o in layout.orders.values()
        if o.style_code in layout.styles
    )
    return LoadingProblem(start=start, horizon_days=horizon_days, lines=tuple(lines), orders=orders, policy=policy)
