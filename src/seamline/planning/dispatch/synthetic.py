"""A synthetic line snapshot for benchmarks and tests of dispatch (no randomness outside ``seed``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from seamline.planning.dispatch.data import LineSnapshot, QueuedBundle, StationState


def synthetic_snapshot(n_stations: int = 200, n_ops: int = 60, queue_len: int = 12, seed: int = 0) -> LineSnapshot:
    """``n_stations`` stations, a chain-like bulletin of ``n_ops`` ops, about ``queue_len`` bundles each."""
    rng = random.Random(seed)
    ops = [f"OP{i:03d}" for i in range(n_ops)]
    successors = {op: (ops[i + 1],) if i + 1 < n_ops else () for i, op in enumerate(ops)}
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stations = []
    for s in range(n_stations):
        own = ops[(s * n_ops) // n_stations]
        assigned = {own: 1.0}
        if rng.random() < 0.3:
            assigned[ops[min(n_ops - 1, (s * n_ops) // n_stations + 1)]] = 0.5
        able = frozenset(rng.sample(ops, 3)) | frozenset(assigned)
        queue = tuple(
            QueuedBundle(
                bundle_id=f"B{s:03d}-{q:02d}",
                op_code=rng.choice(list(assigned)) if rng.random() < 0.8 else rng.choice(ops),
                qty=20,
                ready_since=now - timedelta(minutes=rng.randint(1, 600)),
                due=date(2026, 3, 2) + timedelta(days=rng.randint(0, 10)),
                priority=rng.choice((0, 0, 0, 1)),
            )
            for q in range(max(0, queue_len + rng.randint(-4, 4)))
        )
        stations.append(StationState(f"S{s:03d}", f"W{s:03d}", assigned, able, queue))
    wip = {op: rng.randint(0, 200) for op in ops}
    bottlenecks = frozenset(rng.sample(ops, 3))
    return LineSnapshot(
        stations=tuple(stations), wip_pcs=wip, successors=successors, bottleneck_ops=bottlenecks, as_of=now
    )
