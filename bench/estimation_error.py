"""How close seamline's learned efficiencies are to the floor's truth when a plan is made.

The estimation term of ``bench/balance_gap.py`` says what wrong figures cost a balance; this bench
says which figures are wrong, and how. For each closed-loop case (``twin.experiment.line_case``:
tee, polo, jeans × seeds × days) the seamline policy runs as in ``bench/closed_loop.py``; at each
day's last decision point, for every eligible (worker present, operation) pair, it notes

- ``fig``: what the running policy plans on (``SeamlinePolicy.efficiency``: a pair with cycles
  its ``planning_efficiency`` over the next bundle, a pair never sewn its prior at steady state);
- ``pe`` and ``sd``: ``LearningState.planning_efficiency`` over the next bundle and its posterior
  sd of log efficiency (``planning_sd``), the same estimator for every pair;

and sets them against the simulator's truth (``twin.experiment.current_efficiency``): ``now``,
where the pair's learning curve stands at that moment, and ``hz``, over her next bundle (the
figure's own horizon). Errors are in log (estimate ÷ truth): mean (bias), RMS, and calibration
(the share of truths inside the posterior's 95 % interval: |log pe + sd²/2 − log truth| ≤ 1.96 sd,
the log-normal's centre, since ``pe`` is SAM ÷ expected time). Pairs are grouped by the pieces
seamline has seen of them (0, 1–20, 21–100, > 100), by whether the truth has them on a learning
curve (more than 5 % below their steady state), by whether the truth's optimum balance uses them,
and by whether seamline's day plan does.

This bench reads the simulator's truth; the policy it measures does not.

    .venv/bin/python bench/estimation_error.py [--seeds 2] [--days 2] [--seed-offset 100] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

from seamline.adapters.layout_files import load_factory
from seamline.domain.model import Operation
from seamline.sim import SimConfig
from seamline.sim.engine import Engine
from seamline.twin.experiment import PRELOAD_WIP_BUNDLES_PER_STATION, current_efficiency, line_case
from seamline.twin.loop import run_loop
from seamline.twin.policy.balancing import balance_for, cycle_of, problem_for
from seamline.twin.policy.protocol import Directive
from seamline.twin.policy.seamline import SeamlinePolicy

ROOT = Path(__file__).resolve().parent.parent
STYLES = (("TEE-BASIC", "L1"), ("POLO", "L2"), ("JEANS-5P", "L3"))
Z95 = 1.96
LEARNING_GAP = 0.95  # a pair is "on a learning curve" while its truth is below 95 % of its steady state
PIECE_BINS = ((0, 0, "0"), (1, 20, "1-20"), (21, 100, "21-100"), (101, 10**9, ">100"))
# (badge, op) -> (fig, pe, sd, pieces seen, cycles)
Belief = dict[tuple[str, str], tuple[float, float, float, int, int]]
Snap = tuple[dict[str, str], Belief, Any, dict[tuple[str, str, str], int]]


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
            if ls.balance is None or ls.style is None:
                continue
            present = self.floor.present(line)
            style = ls.style
            horizon = self.layout.styles[style].bundle_size
            believed: Belief = {}
            for badge in present.values():
                for op in self.layout.styles[style].operations:
                    cell = self.learning.cells.get((self.fid, badge, style, op.code))
                    args = (self.fid, badge, style, op.code, horizon)
                    believed[(badge, op.code)] = (
                        self.efficiency(badge, style, op),
                        self.learning.planning_efficiency(*args),
                        self.learning.planning_sd(*args),
                        cell.n_pieces if cell is not None else 0,
                        cell.n_cycles if cell is not None else 0,
                    )
            self.snaps[now.date()] = (dict(present), believed, ls.balance.plan, dict(self.engine.done_count))
        return out


def one_case(args: tuple[str, str, int, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every eligible pair at each day's last decision: its figures, the truth, its groups."""
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
    lay = case.layout
    horizon = lay.styles[style].bundle_size
    ops = lay.styles[style].op_map()
    rows: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    for day, d in enumerate(sorted(ctl.snaps), start=1):
        present, believed, plan, done = ctl.snaps[d]
        planned = plan.pairs()
        now = current_efficiency(eng, style, done)
        hz = current_efficiency(eng, style, done, horizon)

        def true_eff(b: str, op: Operation, now: dict[tuple[str, str, str], float] = now) -> float:
            return now[(b, style, op.code)]

        def fig(b: str, op: Operation, believed: Belief = believed) -> float:
            return believed[(b, op.code)][0]

        problem, _ = problem_for(lay, style, present, true_eff)
        best = balance_for(lay, style, present, true_eff).plan
        optimum = best.pairs()
        on_truth = cycle_of(plan, problem)
        on_fig = cycle_of(plan, problem_for(lay, style, present, fig)[0])
        plans.append(
            {
                "case": f"{style}/{seed}",
                "day": day,
                "quality": best.cycle_min / on_truth,
                "truth_over_fig": on_truth / on_fig,
            }
        )
        for (badge, code), (fig, pe, sd, pieces, cycles) in believed.items():
            if problem.efficiency.get((badge, code), 0.0) <= 0:
                continue  # not eligible: no balance may use it
            skill = eng.workforce.skill(lay.workers[badge], style, ops[code])
            rows.append(
                {
                    "case": f"{style}/{seed}",
                    "day": day,
                    "fig": fig,
                    "pe": pe,
                    "sd": sd,
                    "pieces": pieces,
                    "cycles": cycles,
                    "now": now[(badge, style, code)],
                    "hz": hz[(badge, style, code)],
                    "ss": skill.eff_ss,
                    "grade": skill.grade,
                    "learning": now[(badge, style, code)] < LEARNING_GAP * skill.eff_ss,
                    "optimum": (badge, code) in optimum,
                    "planned": (badge, code) in planned,
                }
            )
    return rows, plans


def stats(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Bias and RMS (log) of the policy's figure against the truth now and of ``pe`` against the
    truth over the bundle; calibration of ``pe`` ± 1.96 sd; mean sd."""
    rs = list(rows)
    n = len(rs)
    if n == 0:
        return {"n": 0}

    def mean(xs: Iterable[float]) -> float:
        return sum(xs) / n

    e_fig = [math.log(r["fig"] / r["now"]) for r in rs]
    e_pe = [math.log(r["pe"] / r["hz"]) for r in rs]
    inside = [abs(math.log(r["pe"]) + 0.5 * r["sd"] ** 2 - math.log(r["hz"])) <= Z95 * r["sd"] for r in rs]
    return {
        "n": n,
        "fig_bias": round(mean(e_fig), 4),
        "fig_rms": round(math.sqrt(mean(e * e for e in e_fig)), 4),
        "pe_bias": round(mean(e_pe), 4),
        "pe_rms": round(math.sqrt(mean(e * e for e in e_pe)), 4),
        "mean_sd": round(mean(r["sd"] for r in rs), 4),
        "calib95": round(mean(float(x) for x in inside), 4),
    }


def piece_bin(pieces: int) -> str:
    return next(name for lo, hi, name in PIECE_BINS if lo <= pieces <= hi)


def groups(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"all": stats(rows)}
    for _lo, _hi, name in PIECE_BINS:
        out[f"pieces {name}"] = stats(r for r in rows if piece_bin(r["pieces"]) == name)
    for flag in ("learning", "optimum", "planned"):
        for v in (True, False):
            out[f"{flag} {'yes' if v else 'no'}"] = stats(r for r in rows if r[flag] is v)
    for _lo, _hi, name in PIECE_BINS:
        out[f"optimum, pieces {name}"] = stats(r for r in rows if r["optimum"] and piece_bin(r["pieces"]) == name)
        out[f"learning, pieces {name}"] = stats(r for r in rows if r["learning"] and piece_bin(r["pieces"]) == name)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1 seed × 1 day (make bench-quick)")
    ap.add_argument("--seed-offset", type=int, default=0, help="seeds offset+1 … offset+seeds")
    ap.add_argument("--dump", type=Path, help="write every pair's row here (JSON lines) for a closer look")
    a = ap.parse_args()
    if a.quick:
        a.seeds, a.days = 1, 1
    jobs = [(s, ln, seed, a.days) for s, ln in STYLES for seed in range(a.seed_offset + 1, a.seed_offset + a.seeds + 1)]
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        done = list(ex.map(one_case, jobs))
    rows = [r for case, _ in done for r in case]
    plans = [p for _, case in done for p in case]
    if a.dump is not None:
        a.dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_day = {f"day {d}": groups([r for r in rows if r["day"] == d]) for d in range(1, a.days + 1)}
    head = f"{'group':<24} {'n':>5} {'fig bias':>9} {'fig rms':>8} {'pe bias':>8} {'pe rms':>7} {'sd':>6} {'cal95':>6}"
    for day, g in by_day.items():
        print(f"--- {day}\n{head}")
        for name, s in g.items():
            if s["n"]:
                print(
                    f"{name:<24} {s['n']:>5} {s['fig_bias']:>9.3f} {s['fig_rms']:>8.3f} {s['pe_bias']:>8.3f}"
                    f" {s['pe_rms']:>7.3f} {s['mean_sd']:>6.3f} {s['calib95']:>6.3f}"
                )
    for d in range(1, a.days + 1):
        ps = [p for p in plans if p["day"] == d]
        if ps:
            q = sum(p["quality"] for p in ps) / len(ps)
            t = sum(p["truth_over_fig"] for p in ps) / len(ps)
            print(f"day {d}: day plan quality {q:.4f}; its cycle on the truth ÷ on seamline's figures {t:.4f}")
    allg = groups(rows)
    keys = (
        "all",
        "optimum yes",
        "planned yes",
        "learning yes",
        "pieces 0",
        "pieces 1-20",
        "pieces 21-100",
        "pieces >100",
    )
    summary = {k: allg[k] for k in keys}
    plan_keys = ("quality", "truth_over_fig")
    by_day_plan = {
        k: [
            round(sum(p[k] for p in plans if p["day"] == d) / max(1, sum(p["day"] == d for p in plans)), 4)
            for d in range(1, a.days + 1)
        ]
        for k in plan_keys
    }
    print(
        json.dumps(
            {
                "cases": len(jobs),
                "days": a.days,
                "seed_offset": a.seed_offset,
                **{f"plan_{k}_by_day": v for k, v in by_day_plan.items()},
                **summary,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
