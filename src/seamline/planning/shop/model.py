"""CP-SAT model of a (flexible) job shop.

One interval per operation and one optional interval per eligible machine, no-overlap per machine,
chains per job, minimise makespan: the textbook model. For large-neighbourhood search the same
builder takes a *relaxed* set: every other operation keeps its incumbent machine and its order on
that machine, so the sub-model always contains the incumbent (which is hinted) and is small.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule

OpKey = tuple[int, int]


@dataclass
class ShopModel:
    model: cp_model.CpModel
    starts: dict[OpKey, cp_model.IntVar] = field(default_factory=dict)
    ends: dict[OpKey, cp_model.IntVar] = field(default_factory=dict)
    # op -> [(machine, presence literal or None when it is the only mode)]
    modes: dict[OpKey, list[tuple[int, cp_model.IntVar | None]]] = field(default_factory=dict)
    makespan: cp_model.IntVar | None = None
    weight: int = 1  # makespan weight in the objective (secondary term present when > 1)


def build_shop_model(
    inst: ShopInstance,
    horizon: int,
    *,
    lower_bound: int = 0,
    relaxed: Collection[OpKey] | None = None,
    incumbent: ShopSchedule | None = None,
    hint: ShopSchedule | None = None,
    secondary: bool = False,
) -> ShopModel:
    """Build the model; ``relaxed`` + ``incumbent`` make an LNS neighbourhood of the incumbent."""
    m = cp_model.CpModel()
    sm = ShopModel(model=m)
    per_machine: list[list[cp_model.IntervalVar]] = [[] for _ in range(inst.num_machines)]
    inc = incumbent.by_key() if incumbent is not None else {}
    relaxed_set = set(relaxed) if relaxed is not None else None
    for j, ops in enumerate(inst.jobs):
        for k, modes in enumerate(ops):
            key = (j, k)
            lo = min(md.duration for md in modes)
            hi = max(md.duration for md in modes)
            s = m.new_int_var(0, max(0, horizon - lo), f"s{j}_{k}")
            e = m.new_int_var(lo, horizon, f"e{j}_{k}")
            sm.starts[key], sm.ends[key] = s, e
            fixed_machine = None
            if relaxed_set is not None and key not in relaxed_set:
                fixed_machine = inc[key].machine
            use = [md for md in modes if fixed_machine is None or md.machine == fixed_machine]
            if len(use) == 1:
                md = use[0]
                per_machine[md.machine].append(m.new_interval_var(s, md.duration, e, f"i{j}_{k}"))
                sm.modes[key] = [(md.machine, None)]
            else:
                d = m.new_int_var(lo, hi, f"d{j}_{k}")
                m.new_interval_var(s, d, e, f"i{j}_{k}")
                lits = []
                sm.modes[key] = []
                for md in use:
                    lit = m.new_bool_var(f"p{j}_{k}_{md.machine}")
                    per_machine[md.machine].append(
                        m.new_optional_interval_var(s, md.duration, e, lit, f"o{j}_{k}_{md.machine}")
                    )
                    m.add(d == md.duration).only_enforce_if(lit)
                    lits.append(lit)
                    sm.modes[key].append((md.machine, lit))
                m.add_exactly_one(lits)
            if k > 0:
                m.add(s >= sm.ends[(j, k - 1)])
    for ivs in per_machine:
        if len(ivs) > 1:
            m.add_no_overlap(ivs)
    if relaxed_set is not None and incumbent is not None:
        # Keep the incumbent's order between consecutive non-relaxed operations on each machine.
        for seq in incumbent.machine_sequences(inst.num_machines):
            kept = [o for o in seq if (o.job, o.op) not in relaxed_set]
            for a, b in itertools.pairwise(kept):
                m.add(sm.starts[(b.job, b.op)] >= sm.ends[(a.job, a.op)])
    mk = m.new_int_var(max(0, lower_bound), horizon, "makespan")
    lasts = [sm.ends[(j, len(ops) - 1)] for j, ops in enumerate(inst.jobs) if ops]
    m.add_max_equality(mk, lasts)
    sm.makespan = mk
    if secondary:
        # Lexicographic: makespan first, then the sum of job completions (pulls work left, which
        # opens room for the next neighbourhood to shorten the critical path).
        sm.weight = len(lasts) * horizon + 1
        m.minimize(sm.weight * mk + sum(lasts))
    else:
        m.minimize(mk)
    if hint is not None:
        for o in hint.ops:
            key = (o.job, o.op)
            m.add_hint(sm.starts[key], o.start)
            m.add_hint(sm.ends[key], o.end)
            for mach, mode_lit in sm.modes[key]:
                if mode_lit is not None:
                    m.add_hint(mode_lit, mach == o.machine)
        m.add_hint(mk, hint.makespan)
    return sm


def extract(sm: ShopModel, solver: cp_model.CpSolver | cp_model.CpSolverSolutionCallback) -> ShopSchedule:
    out = []
    for key, s in sm.starts.items():
        mach = next(mc for mc, lit in sm.modes[key] if lit is None or solver.boolean_value(lit))
        out.append(ScheduledOp(key[0], key[1], mach, solver.value(s), solver.value(sm.ends[key])))
    return ShopSchedule(tuple(out))
