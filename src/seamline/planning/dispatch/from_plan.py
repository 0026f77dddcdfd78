"""Build a dispatch snapshot from the current balance plan and the live queues.

The service layer knows who is logged in where and which bundles wait at each station; the
balance plan knows who should sew what. This joins them so ``dispatch`` sees both.
"""

from __future__ import annotations

from collections.abc import Mapping

from seamline.domain.model import Style
from seamline.planning.balance.data import BalancePlan
from seamline.planning.dispatch.data import LineSnapshot, QueuedBundle, StationState


def snapshot_from_plan(
    plan: BalancePlan,
    style: Style,
    logged_in: Mapping[str, str | None],  # station id -> badge (None: empty station)
    queues: Mapping[str, tuple[QueuedBundle, ...]],  # station id -> bundles waiting there
    able: Mapping[str, frozenset[str]] | None = None,  # badge -> other op codes she can do
    low_water_pcs: int = 20,
) -> LineSnapshot:
    """A ``LineSnapshot``: assignments from ``plan``, WIP counted from the queues, the plan's
    bottleneck worker's operations as the bottleneck operations."""
    assigned: dict[str, dict[str, float]] = {}
    for a in plan.assignments:
        assigned.setdefault(a.badge, {})[a.op_code] = a.share
    stations = []
    wip: dict[str, int] = {}
    for sid, badge in logged_in.items():
        queue = tuple(queues.get(sid, ()))
        for b in queue:
            wip[b.op_code] = wip.get(b.op_code, 0) + b.qty
        own = assigned.get(badge, {}) if badge is not None else {}
        extra = (able or {}).get(badge, frozenset()) if badge is not None else frozenset()
        stations.append(StationState(sid, badge, own, frozenset(extra) | frozenset(own), queue))
    succ = {k: tuple(v) for k, v in style.successors().items()}
    bottleneck_ops = frozenset(assigned.get(plan.bottleneck, {}))
    return LineSnapshot(
        stations=tuple(stations),
        wip_pcs=wip,
        successors=succ,
        bottleneck_ops=bottleneck_ops,
        low_water_pcs=low_water_pcs,
    )
