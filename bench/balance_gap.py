"""Where seamline's learned balance loses to the oracle's: the gap of ``bench/closed_loop.py``'s
balance quality taken apart, per working day.

For each case the seamline policy runs as in the closed loop; at every decision the efficiencies
it believes and the plant's piece counts are noted. At each day's last decision the day plan's
cycle, scored on the floor's truth (the learning curves where they are), is set against three
balances of the people present (all with the same engine, ``twin.policy.balancing``):

- ``untried``: the optimum on the truth using only the pairs seamline has seen (≥ MIN_CYCLES cycles)
  or planned, ÷ the optimum over every pair — what pairs never tried cost (exploration would
  recover it);
- ``estimation``: the optimum on seamline's estimates over those known pairs, scored on the truth,
  ÷ the optimum on the truth over the same pairs — what the estimation errors of known pairs cost;
- ``lag``: the optimum on seamline's own estimates (known pairs) ÷ the day plan's cycle on them —
  what the policy's hysteresis costs by its own reckoning (a drift re-balance needs a 3 % gain and
  a re-balance keeps the cycle within 2 % of the optimum with fewer moves);
- ``estimation_lcb``: as ``estimation``, the known pairs balanced on their lower confidence bounds
  (``planning_efficiency`` × exp(−1.96 ``planning_sd``), ``SeamlinePolicy.fresh_balance(lcb=True)``);
- ``quality``: the bench's figure, the truth's optimum ÷ the day plan's cycle on the truth;
- ``list_quality``: the truth's optimum ÷ the shortest cycle the day plan's station lists allow on
  the truth (shares re-optimised within the lists, ``twin.floor_check.list_cycle``): the floor is
  handed the lists, not the shares (docs/closed-loop.md, "What the floor receives").

This bench reads the simulator's truth; the policy it measures does not.

    .venv/bin/python bench/balance_gap.py [--seeds 2] [--days 2] [--seed-offset 100]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import Operation
from seamline.sim import SimConfig
from seamline.sim.engine import Engine
from seamline.twin.experiment import PRELOAD_WIP_BUNDLES_PER_STATION, current_efficiency, line_case
from seamline.twin.floor_check import list_cycle
from seamline.twin.loop import run_loop
from seamline.twin.policy.balancing import balance_for, cycle_of, problem_for
from seamline.twin.policy.protocol import Directive
from seamline.twin.policy.seamline import LCB_Z, MIN_CYCLES, SeamlinePolicy

ROOT = Path(__file__).resolve().parent.parent
STYLES = (("TEE-BASIC", "L1"), ("POLO", "L2"), ("JEANS-5P", "L3"))
KEYS = ("quality", "untried", "estimation", "lag", "estimation_lcb", "list_quality")
# present, (badge, op) -> (estimate, cycles, lower confidence bound), the day plan, pieces done
Snap = tuple[dict[str, str], dict[tuple[str, str], tuple[float, int, float]], Any, dict[tuple[str, str, str], int]]


class _Noting(SeamlinePolicy):
    """The seamline policy, noting at each decision what it believes and what the plant has done."""

    def __init__(self, *a: Any, engine: Engine, **k: Any) -> None:
        super().__init__(*a, **k)
        self.engine = engine
        self.snaps: dict[date, Snap] = {}

    def decide(self, now: datetime) -> list[Directive]:
        out = super().decide(now)
        for line in self.lines:
            ls = self.state[line]
            if ls.balance is None:
                continue
            present = self.floor.present(line)
            believed: dict[tuple[str, str], tuple[float, int, float]] = {}
            horizon = self.layout.styles[ls.style].bundle_size
            for badge in present.values():
                for op in self.layout.styles[ls.style].operations:
                    cell = self.learning.cells.get((self.fid, badge, ls.style, op.code))
                    n = cell.n_cycles if cell is not None else 0
                    args = (self.fid, badge, ls.style, op.code, horizon)
                    lcb = self.learning.planning_efficiency(*args) * math.exp(-LCB_Z * self.learning.planning_sd(*args))
                    believed[(badge, op.code)] = (self.efficiency(badge, ls.style, op), n, lcb)
            self.snaps[now.date()] = (dict(present), believed, ls.balance, dict(self.engine.done_count))
        return out


def one_case(args: tuple[str, str, int, int]) -> dict[int, dict[str, float]]:
    style, line, seed, days = args
    case = line_case(load_factory(ROOT / "examples" / "factory"), line, style, seed, days)
    cfg = SimConfig(
        seed=seed,
        start=case.start,
        hours=24.0 * (days + 2),
        record_pieces=False,
        preload_wip_bundles_per_station=PRELOAD_WIP_BUNDLES_PER_STATION,
    )
    eng = Engine(case.layout, cfg)
    ctl = _Noting(case.layout, [line], time_limit_s=0.3, engine=eng)
    run_loop(case.layout, cfg, ctl, line, days=days, engine=eng)
    return {i: _gap(case.layout, style, eng, ctl.snaps[d]) for i, d in enumerate(sorted(ctl.snaps), start=1)}


def _gap(lay: Any, style: str, eng: Engine, snap: Snap) -> dict[str, float]:
    present, believed, lb, done = snap
    truth = current_efficiency(eng, style, done)
    planned = {(a.badge, a.op_code) for a in lb.plan.assignments}

    def known(b: str, op: Operation) -> bool:
        return believed[(b, op.code)][1] >= MIN_CYCLES or (b, op.code) in planned

    def true_eff(b: str, op: Operation) -> float:
        return truth[(b, style, op.code)]

    def only_known(f: Callable[[str, Operation], float]) -> Callable[[str, Operation], float]:
        return lambda b, op: f(b, op) if known(b, op) else 0.01  # never chosen while anyone else can

    def est(b: str, op: Operation) -> float:
        return believed[(b, op.code)][0]

    def best(f: Callable[[str, Operation], float]) -> Any:
        return balance_for(lay, style, present, f).plan

    def on(f: Callable[[str, Operation], float], plan: Any) -> float:
        return cycle_of(plan, problem_for(lay, style, present, f)[0])

    opt = best(true_eff).cycle_min
    opt_known = on(true_eff, best(only_known(true_eff)))
    est_known = on(true_eff, best(only_known(est)))

    def lcb(b: str, op: Operation) -> float:
        return believed[(b, op.code)][2]

    return {
        "quality": opt / on(true_eff, lb.plan),
        "untried": opt / opt_known,
        "estimation": opt_known / est_known,
        "lag": best(only_known(est)).cycle_min / on(only_known(est), lb.plan),
        "estimation_lcb": opt_known / on(true_eff, best(only_known(lcb))),
        "list_quality": opt / list_cycle(lb, problem_for(lay, style, present, true_eff)[0]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1 seed × 1 day (make bench-quick)")
    ap.add_argument(
        "--seed-offset", type=int, default=0, help="seeds offset+1 … offset+seeds (check on seeds not tuned on)"
    )
    a = ap.parse_args()
    if a.quick:
        a.seeds, a.days = 1, 1
    jobs = [(s, ln, seed, a.days) for s, ln in STYLES for seed in range(a.seed_offset + 1, a.seed_offset + a.seeds + 1)]
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        cases = list(ex.map(one_case, jobs))
    for (style, _ln, seed, _d), c in zip(jobs, cases, strict=True):
        print(
            f"{style} seed {seed}: "
            + "; ".join(f"day {d} " + " ".join(f"{c[d][k]:.3f}" for k in KEYS) for d in sorted(c))
        )
    summary: dict[str, list[float]] = {k: [] for k in KEYS}
    for d in range(1, a.days + 1):
        row = {k: statistics.fmean(c[d][k] for c in cases if d in c) for k in KEYS}
        for k in KEYS:
            summary[k].append(round(row[k], 4))
        print(f"day {d}: " + ", ".join(f"{k} {row[k]:.3f}" for k in KEYS))
    print(json.dumps({"cases": len(cases), "days": a.days, **summary}))


if __name__ == "__main__":
    sys.exit(main())
