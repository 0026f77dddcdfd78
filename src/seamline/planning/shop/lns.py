"""Large-neighbourhood search around an incumbent schedule.

Each step relaxes part of the incumbent — a few jobs, a few machines, a time window, or the
operations near the critical path — keeps every other operation on its machine and in its order,
and lets CP-SAT re-optimise the relaxed part (hinted with the incumbent, so it never gets worse).
Neighbourhood sizes adapt: they grow when CP-SAT finishes a sub-problem quickly without gain and
shrink when it runs out of time. A plain CP-SAT model stalls on 20+ job instances; this does not.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

from seamline.planning.shop.backend import run_cpsat
from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.model import OpKey, build_shop_model
from seamline.planning.shop.solution import ShopSchedule

NEIGHBOURHOODS = ("jobs", "machines", "window", "critical")


def _critical_ops(inst: ShopInstance, sched: ShopSchedule, rng: random.Random) -> list[OpKey]:
    """Operations on a critical path (walking back from the last end through tight links)."""
    by_key = sched.by_key()
    seqs = sched.machine_sequences(inst.num_machines)
    prev_on_machine: dict[OpKey, OpKey] = {}
    for seq in seqs:
        for a, b in itertools.pairwise(seq):
            prev_on_machine[(b.job, b.op)] = (a.job, a.op)
    cur = max(sched.ops, key=lambda o: o.end)
    path: list[OpKey] = []
    key: OpKey | None = (cur.job, cur.op)
    while key is not None:
        path.append(key)
        o = by_key[key]
        nxt: OpKey | None = None
        if o.op > 0 and by_key[(o.job, o.op - 1)].end == o.start:
            nxt = (o.job, o.op - 1)
        pm = prev_on_machine.get(key)
        if pm is not None and by_key[pm].end == o.start and (nxt is None or rng.random() < 0.5):
            nxt = pm
        key = nxt
    return path


def neighbourhood(kind: str, inst: ShopInstance, sched: ShopSchedule, frac: float, rng: random.Random) -> set[OpKey]:
    """The operations to relax, about ``frac`` of all of them."""
    all_keys = [(j, k) for j, ops in enumerate(inst.jobs) for k in range(len(ops))]
    target = max(2, int(frac * len(all_keys)))
    if kind == "jobs":
        jobs = list(range(inst.num_jobs))
        rng.shuffle(jobs)
        out: set[OpKey] = set()
        for j in jobs:
            if len(out) >= target:
                break
            out.update((j, k) for k in range(len(inst.jobs[j])))
        return out
    if kind == "machines":
        machines = list(range(inst.num_machines))
        rng.shuffle(machines)
        seqs = sched.machine_sequences(inst.num_machines)
        out = set()
        for mc in machines:
            if len(out) >= target:
                break
            out.update((o.job, o.op) for o in seqs[mc])
        return out
    if kind == "window":
        ordered = sorted(sched.ops, key=lambda o: o.start)
        first = rng.randrange(0, max(1, len(ordered) - target + 1))
        return {(o.job, o.op) for o in ordered[first : first + target]}
    # critical: the critical path plus random operations overlapping it in time
    crit = _critical_ops(inst, sched, rng)
    out = set(crit[: target // 2 or 1])
    by_key = sched.by_key()
    spans = [(by_key[c].start, by_key[c].end) for c in out]
    others = [k for k in all_keys if k not in out]
    rng.shuffle(others)
    for k in others:
        if len(out) >= target:
            break
        o = by_key[k]
        if any(o.start < e and s < o.end for s, e in spans) or rng.random() < 0.3:
            out.add(k)
    return out


def lns(
    inst: ShopInstance,
    incumbent: ShopSchedule,
    deadline: float,
    *,
    lower_bound: int = 0,
    workers: int = 2,
    seed: int = 0,
    sub_limit_s: float = 0.25,
    secondary: bool = True,
    init_ops: int = 60,
    shrink: float = 0.9,
    min_iter_s: float = 0.05,
    log: Callable[[str], None] | None = None,
    exchange: Callable[[ShopSchedule], ShopSchedule | None] | None = None,
) -> ShopSchedule:
    """Improve ``incumbent`` until ``deadline`` (a ``time.monotonic()`` value) or the lower bound.

    Returns early when large neighbourhoods keep being solved to optimality without gain: the
    caller then gives the remaining time back to the full model. ``exchange`` is called with the
    best schedule before every neighbourhood and may return a shorter one found elsewhere (the
    portfolio's tabu search), which the search then continues from.
    """
    rng = random.Random(seed)
    best = incumbent
    frac = {k: min(0.5, max(0.05, init_ops / max(1, inst.num_ops))) for k in NEIGHBOURHOODS}
    score = {k: 1.0 for k in NEIGHBOURHOODS}
    it = 0
    stalled = 0  # sub-problems proved optimal without gain while already large: LNS is exhausted
    while best.makespan > lower_bound and stalled < 6:
        left = deadline - time.monotonic()
        if left < max(0.05, min_iter_s):  # no time to build and solve one more neighbourhood
            break
        if exchange is not None:
            other = exchange(best)
            if other is not None and other.makespan < best.makespan:
                best = other
                stalled = 0
                if best.makespan <= lower_bound:
                    break
        kinds = list(NEIGHBOURHOODS)
        kind = rng.choices(kinds, weights=[score[k] for k in kinds])[0]
        relaxed = neighbourhood(kind, inst, best, frac[kind], rng)
        sm = build_shop_model(
            inst,
            best.makespan,
            lower_bound=lower_bound,
            relaxed=relaxed,
            incumbent=best,
            hint=best,
            secondary=secondary,
        )
        sub_limit = min(left, sub_limit_s)
        res = run_cpsat(sm, sub_limit, workers=workers, seed=seed + it)
        it += 1
        if res.schedule is None:
            frac[kind] = max(0.03, frac[kind] * 0.8)
            continue
        old = (best.makespan, _secondary(inst, best))
        new = (res.schedule.makespan, _secondary(inst, res.schedule))
        if new < old:
            if new[0] < old[0]:
                score[kind] += 1.0
                if log:
                    log(f"lns it {it} {kind} frac={frac[kind]:.2f}: makespan {new[0]}")
            best = res.schedule
        score[kind] = max(0.2, score[kind] * 0.95)
        if res.optimal:
            stalled = stalled + 1 if new >= old and frac[kind] >= 0.85 else 0
            frac[kind] = min(0.9, frac[kind] * 1.3)
        else:
            stalled = 0
            frac[kind] = max(0.03, frac[kind] * shrink)
    if log:
        log(f"lns: {it} neighbourhoods, sizes " + ", ".join(f"{k}={v:.2f}" for k, v in frac.items()))
    return best


def _secondary(inst: ShopInstance, sched: ShopSchedule) -> int:
    by_key = sched.by_key()
    return sum(by_key[(j, len(ops) - 1)].end for j, ops in enumerate(inst.jobs) if ops)
