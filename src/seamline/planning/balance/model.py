"""CP-SAT model of the garment line balance.

Shares are integers in thousandths of an operation's pieces (fine enough for any real line, and
CP-SAT needs integers). Per worker a machine type y[w,t] (at most one; flexible operations such as
manual trimming go with any), per eligible pair a presence z[w,o] and a share a[w,o]; the cycle
C bounds every worker's minutes per garment. Objective: C, then few pieces of split work (each
pair costs a sliver of the cycle, so the solver never trades real output for tidiness). For a
re-balance the same builder adds the number of changed pairs against the previous plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.balance.data import BalanceProblem

SHARE_UNITS = 1000  # share resolution: 0.1 % of an operation
TIME_UNITS = 1000  # minutes per piece in thousandths


@dataclass
class BalanceModel:
    model: cp_model.CpModel
    share: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    present: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    machine: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    cycle: cp_model.IntVar | None = None
    changes: cp_model.LinearExpr | int = 0
    cost: dict[tuple[str, str], int] = field(default_factory=dict)


def build_balance_model(
    p: BalanceProblem,
    elig: Mapping[tuple[str, str], float],
    *,
    previous: set[tuple[str, str]] | None = None,
    max_cycle: int | None = None,
    minimise_changes: bool = False,
    hint: tuple[Mapping[str, str | None], Mapping[tuple[str, str], float]] | None = None,
) -> BalanceModel:
    m = cp_model.CpModel()
    bm = BalanceModel(model=m)
    ops = p.style.operations
    fixed_types = sorted({o.machine_type for o in ops if o.machine_type not in p.flexible_types})
    for (b, c), e in elig.items():
        bm.cost[(b, c)] = max(1, round(p.style.op(c).sam_min / e * TIME_UNITS))
    for w in p.workers:
        types_w = [t for t in fixed_types if any((w.badge, o.code) in elig for o in ops if o.machine_type == t)]
        for t in types_w:
            bm.machine[(w.badge, t)] = m.new_bool_var(f"y_{w.badge}_{t}")
        if types_w:
            m.add_at_most_one(bm.machine[(w.badge, t)] for t in types_w)
    for t in fixed_types:
        limit = p.machines.get(t)
        lits = [v for (b, tt), v in bm.machine.items() if tt == t]
        if limit is not None and lits:
            m.add(sum(lits) <= limit)
    for o in ops:
        pairs = [(w.badge, o.code) for w in p.workers if (w.badge, o.code) in elig]
        if not pairs:
            raise ValueError(f"nobody present can do operation {o.code} ({o.machine_type})")
        for key in pairs:
            a = m.new_int_var(0, SHARE_UNITS, f"a_{key[0]}_{key[1]}")
            z = m.new_bool_var(f"z_{key[0]}_{key[1]}")
            m.add(a <= SHARE_UNITS * z)
            m.add(a >= 1).only_enforce_if(z)
            if o.machine_type not in p.flexible_types:
                m.add_implication(z, bm.machine[(key[0], o.machine_type)])
            bm.share[key], bm.present[key] = a, z
        m.add(sum(bm.share[k] for k in pairs) == SHARE_UNITS)
        m.add(sum(bm.present[k] for k in pairs) <= p.max_workers_per_op)
    loads = {}
    ub = SHARE_UNITS * max(1, sum(bm.cost.values()))
    bm.cycle = m.new_int_var(0, ub if max_cycle is None else max_cycle, "cycle")
    for w in p.workers:
        keys = [k for k in bm.share if k[0] == w.badge]
        if not keys:
            continue
        m.add(sum(bm.present[k] for k in keys) <= p.max_ops_per_worker)
        loads[w.badge] = sum(bm.cost[k] * bm.share[k] for k in keys)
        m.add(loads[w.badge] <= bm.cycle)
    # Lower bound: the work at best efficiency spread evenly over everyone present.
    best_cost = {o.code: min(bm.cost[k] for k in bm.cost if k[1] == o.code) for o in ops}
    m.add(len(p.workers) * bm.cycle >= SHARE_UNITS * sum(best_cost.values()))
    split_penalty = max(1, SHARE_UNITS * sum(best_cost.values()) // max(1, len(p.workers)) // 500)
    n_pairs = sum(bm.present.values())
    if previous is not None:
        bm.changes = sum(1 - bm.present[k] for k in previous if k in bm.present) + sum(
            bm.present[k] for k in bm.present if k not in previous
        )
    if minimise_changes:
        if max_cycle is None:
            raise ValueError("minimising changes needs the cycle bound of a first solve")
        # Lexicographic under the cycle bound: fewest changed pairs, then shortest cycle, then splits.
        m.minimize((max_cycle + 1) * 64 * bm.changes + 64 * bm.cycle + n_pairs)
    else:
        m.minimize(bm.cycle + split_penalty * n_pairs)
    if hint is not None:
        types, shares = hint
        for (b, t), v in bm.machine.items():
            m.add_hint(v, types.get(b) == t)
        for key, a in bm.share.items():
            s = round(shares.get(key, 0.0) * SHARE_UNITS)
            m.add_hint(a, s)
            m.add_hint(bm.present[key], s > 0)
    return bm
