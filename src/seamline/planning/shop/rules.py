"""Dispatch rules: fast greedy schedules, deterministic or randomised.

A Giffler–Thompson style construction: at each step find the operation that could finish
first (on its best machine), take the conflict set of operations wanting that machine and able to
start before then, and pick one by a priority rule. Deterministic runs are the classic textbook
baseline; randomised runs (noisy priorities) give the diverse starting solutions that are hinted
into CP-SAT and improved by large-neighbourhood search.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule

RULES = ("mwkr", "mopnr", "spt", "lwkr")


def greedy_schedule(
    inst: ShopInstance, rule: str = "mwkr", rng: random.Random | None = None, noise: float = 0.0
) -> ShopSchedule:
    """One schedule built by priority ``rule`` (higher priority first); ``noise`` perturbs priorities."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose from {RULES}")
    n = inst.num_jobs
    min_d = [[min(md.duration for md in modes) for modes in ops] for ops in inst.jobs]
    work_left = [sum(d) for d in min_d]
    next_op = [0] * n
    job_ready = [0] * n
    mach_ready = [0] * inst.num_machines
    out: list[ScheduledOp] = []
    total = inst.num_ops

    def priority(j: int) -> float:
        k = next_op[j]
        if rule == "mwkr":
            p = float(work_left[j])
        elif rule == "lwkr":
            p = -float(work_left[j])
        elif rule == "mopnr":
            p = float(len(inst.jobs[j]) - k) + work_left[j] * 1e-6
        else:  # spt
            p = -float(min_d[j][k])
        if noise and rng is not None:
            p *= 1.0 + noise * (rng.random() - 0.5) * 2 if p >= 0 else 1.0 - noise * (rng.random() - 0.5) * 2
        return p

    tiebreak: Callable[[], float] = (lambda: rng.random()) if rng is not None else (lambda: 0.0)
    while len(out) < total:
        best_ect = None
        cand: list[tuple[int, int, int, int]] = []  # job, machine, est, duration
        for j in range(n):
            k = next_op[j]
            if k >= len(inst.jobs[j]):
                continue
            choice = None
            for md in inst.jobs[j][k]:
                est = max(job_ready[j], mach_ready[md.machine])
                ect = est + md.duration
                key = (ect, md.duration, tiebreak())
                if choice is None or key < choice[0]:
                    choice = (key, md.machine, est, md.duration)
            assert choice is not None
            cand.append((j, choice[1], choice[2], choice[3]))
            if best_ect is None or choice[0][0] < best_ect[0]:
                best_ect = (choice[0][0], choice[1])
        assert best_ect is not None
        c_star, m_star = best_ect
        conflict = [c for c in cand if c[1] == m_star and c[2] < c_star] or [c for c in cand if c[2] + c[3] == c_star]
        j, m, est, d = max(conflict, key=lambda c: (priority(c[0]), -c[2]))
        k = next_op[j]
        out.append(ScheduledOp(j, k, m, est, est + d))
        job_ready[j] = est + d
        mach_ready[m] = est + d
        work_left[j] -= min_d[j][k]
        next_op[j] = k + 1
    return ShopSchedule(tuple(out))


def best_of_rules(inst: ShopInstance) -> ShopSchedule:
    """The best deterministic rule schedule (a few milliseconds)."""
    return min((greedy_schedule(inst, r) for r in RULES), key=lambda s: s.makespan)
