"""Solving a shop: greedy starts → hinted CP-SAT → large-neighbourhood search, within a deadline.

``solve_shop`` is what ``seamline solve jssp|fjsp`` runs; ``solve_plain`` is the textbook model
(no hint, no bounds, no LNS) kept as the benchmark's yardstick.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from seamline.planning.shop.backend import run_cpsat
from seamline.planning.shop.data import ShopInstance
from seamline.planning.shop.lns import lns
from seamline.planning.shop.model import ShopModel, build_shop_model
from seamline.planning.shop.rules import RULES, greedy_schedule
from seamline.planning.shop.solution import ShopSchedule

LNS_FROM_OPS = 150  # flexible shops this large get half the time for large-neighbourhood search
GREEDY_MAX_S = 0.2  # the greedy start's budget: at most this, and at most 3 % of the limit
GREEDY_SHARE = 0.03
HINT_FLEXIBLE = True  # flexible shops keep the hint: not re-measured there (their LNS margin is large)


@dataclass(frozen=True)
class PhasePlan:
    """How ``solve_shop`` splits its budget, decided before it starts (and tested as such)."""

    greedy_s: float  # dispatch rules: a fallback answer and the upper bound for the model
    full_frac: float  # share of the limit for the full model before LNS takes over
    hint_full: bool  # whether the first full model is hinted with the greedy start


def plan_phases(inst: ShopInstance, time_limit_s: float, full_frac: float | None = None) -> PhasePlan:
    """The phase split for ``inst``: by the shop's shape, never by its name.

    Classic job shops give the whole budget (less one dispatch rule) to the full model, which is
    the plain model with its domains cut by the greedy makespan and the lower bound, and **not
    hinted**. Measured at a fixed CP-SAT deterministic time on 10 held-out instances (session 9,
    ``bench/shop_det_ab.py``): the greedy hint made CP-SAT worse than the plain model (9 better,
    16 worse over seeds 0–2) — its search and its LNS start from a dispatch-rule schedule 15–25 %
    above the optimum and stay near it — while the same bounds without the hint were level or
    better (10 better, 7 worse over seeds 1–2). At wall time in-process it is at parity with the
    plain model (docs/planning.md), not ahead.
    Flexible shops from 150 operations keep half for LNS, where machine choices make the full
    model stall (Brandimarte: 3.2 % against 7.1 %).
    """
    if full_frac is None:
        full_frac = 0.5 if inst.is_flexible and inst.num_ops >= LNS_FROM_OPS else 1.0
    hint_full = HINT_FLEXIBLE and inst.is_flexible
    return PhasePlan(
        # Unhinted, the start is only a fallback and the horizon: one rule (0.02–0.12 s on 400–600
        # operations) gives both, and CP-SAT keeps the time randomised restarts would take.
        greedy_s=min(GREEDY_MAX_S, GREEDY_SHARE * time_limit_s) if hint_full else 0.0,
        full_frac=full_frac,
        hint_full=hint_full,
    )


def _log(log: Callable[[str], None] | None, msg: str) -> None:
    if log:
        log(msg)


def first_model(inst: ShopInstance, plan: PhasePlan, start: ShopSchedule, lower_bound: int) -> ShopModel:
    """The first full model: the plain model with its makespan cut to [lower bound, greedy makespan].

    Its search is the plain model's search on smaller domains; the greedy start is a hint only
    where ``plan`` says so (see ``plan_phases``).
    """
    return build_shop_model(inst, start.makespan, lower_bound=lower_bound, hint=start if plan.hint_full else None)


def greedy_starts(inst: ShopInstance, budget_s: float, seed: int = 0) -> ShopSchedule:
    """Best of the deterministic rules and as many randomised runs as fit in ``budget_s``.

    The first rule always runs (there must be an answer); the others only while time remains,
    since one rule on a few thousand operations already takes a noticeable fraction of a second.
    """
    t_end = time.monotonic() + budget_s
    best = greedy_schedule(inst, RULES[0])
    for rule in RULES[1:]:
        if time.monotonic() >= t_end:
            break
        s = greedy_schedule(inst, rule)
        if s.makespan < best.makespan:
            best = s
    rng = random.Random(seed)
    while time.monotonic() < t_end:
        s = greedy_schedule(inst, rng.choice(("mwkr", "mopnr", "mwkr")), rng=rng, noise=0.3)
        if s.makespan < best.makespan:
            best = s
    return best


def solve_shop(
    inst: ShopInstance,
    time_limit_s: float,
    *,
    workers: int = 2,
    seed: int = 0,
    full_frac: float | None = None,
    sub_limit_s: float = 0.5,
    sub_workers: int = 2,
    secondary: bool = True,
    init_ops: int = 60,
    shrink: float = 0.9,
    log: Callable[[str], None] | None = None,
    on_solution: Callable[[ShopSchedule], None] | None = None,
    stats: dict[str, object] | None = None,
) -> ShopSchedule:
    """A feasible schedule, as good as ``time_limit_s`` seconds allow.

    ``full_frac`` is the share of the time the full model gets before LNS takes over; by default
    it comes from ``plan_phases`` (all of it for classic job shops, half for flexible shops from
    150 operations on, where neighbourhoods win). ``on_solution`` gets each schedule the full
    model finds as it finds it; ``stats["optimal"]`` says whether the answer is proven optimal.
    """
    plan = plan_phases(inst, time_limit_s, full_frac)
    t0 = time.monotonic()
    deadline = t0 + time_limit_s
    lb = inst.lower_bound()
    # The greedy start is a fallback and an upper bound; keep it short so CP-SAT keeps the budget.
    best = greedy_starts(inst, plan.greedy_s, seed)
    _log(log, f"greedy makespan {best.makespan}, lower bound {lb}")
    if stats is not None:
        stats["optimal"] = best.makespan <= lb
        stats["bound"] = lb
    if best.makespan <= lb or deadline - time.monotonic() < 0.1:
        return best
    # Phase 1: the full model, bounded (and hinted only where that measured better).
    t_build = time.monotonic()
    sm = first_model(inst, plan, best, lb)
    build_s = time.monotonic() - t_build  # what any later model costs before it solves
    full_s = min(deadline - time.monotonic(), plan.full_frac * time_limit_s)
    if full_s < 0.05:
        return best
    _log(log, f"full model: {full_s:.2f} s of {time_limit_s:.2f} s, hinted={plan.hint_full}")
    res = run_cpsat(sm, full_s, workers=workers, seed=seed, on_solution=on_solution)
    if res.schedule is not None and res.schedule.makespan <= best.makespan:
        best = res.schedule
    lb = max(lb, res.bound)
    if stats is not None:
        stats["optimal"] = res.optimal or best.makespan <= lb
        stats["bound"] = lb
    _log(log, f"full model makespan {best.makespan}, bound {lb}, optimal={res.optimal}")
    if res.optimal or best.makespan <= lb or deadline - time.monotonic() < 0.1:
        return best
    # Phase 2: large-neighbourhood search for the rest of the time.
    best = lns(
        inst,
        best,
        deadline,
        lower_bound=lb,
        workers=sub_workers,
        seed=seed,
        sub_limit_s=sub_limit_s,
        secondary=secondary,
        init_ops=init_ops,
        shrink=shrink,
        min_iter_s=build_s + 0.05,
        log=log,
    )
    _log(log, f"lns makespan {best.makespan}")
    left = deadline - time.monotonic()
    if left > 0.2 + build_s and best.makespan > lb:
        # LNS is exhausted: the full model, hinted with the improved incumbent, gets the rest.
        sm = build_shop_model(inst, best.makespan, lower_bound=lb, hint=best)
        res = run_cpsat(sm, deadline - time.monotonic() - 0.05, workers=workers, seed=seed + 1, on_solution=on_solution)
        if res.schedule is not None and res.schedule.makespan < best.makespan:
            best = res.schedule
        if stats is not None:
            stats["optimal"] = res.optimal or best.makespan <= max(lb, res.bound)
        _log(log, f"final full model makespan {best.makespan}")
    return best


def solve_plain(inst: ShopInstance, time_limit_s: float, *, workers: int = 2, seed: int = 0) -> ShopSchedule | None:
    """The textbook CP-SAT model alone: the yardstick ``seamline solve`` must beat."""
    sm = build_shop_model(inst, inst.horizon())
    return run_cpsat(sm, time_limit_s, workers=workers, seed=seed).schedule
