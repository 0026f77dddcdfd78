"""Deterministic A/B of the walk over worker orders (``balance/whole_line.order_walk``), free of the clock.

From the same start plans (the portfolio's plans at ``--start-s`` seconds, saved with
``--save-starts`` / read back with ``--starts``), each arm walks ``--steps`` steps with the same
seeds; arms differ in how a fixed order is asked (``dfs``: ``decide_order_dfs`` with ``--nodes``
nodes a question; ``cpsat``: ``decide_order`` with ``STEP_DET`` deterministic units) and in the
guide (``--guide``). Prints per instance and arm the cycle reached, the steps at which it improved and
the CPU per step, and as the last line one JSON object with the mean gap (%) per family and arm
and the CPU seconds. Cycles and steps do not depend on the machine's load.

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/balance_walk.py --only wee-mag-1 --save-starts s.json
    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/balance_walk.py --starts s.json --arm cpsat --arm dfs
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from seamline.planning.balance import whole_line  # noqa: E402
from seamline.planning.balance.check import check_line  # noqa: E402
from seamline.planning.balance.data import LineSolution  # noqa: E402
from seamline.planning.balance.portfolio import solve_portfolio  # noqa: E402
from seamline.planning.readers import bench_dir, read_alwabp, read_index  # noqa: E402

FAR = 1e6  # seconds: deadlines that never bind


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="instance name (repeatable, exact without .alwabp)")
    ap.add_argument("--starts", type=Path, help="JSON {instance: [[worker, [tasks]], ...]} of start plans")
    ap.add_argument("--save-starts", type=Path, help="write the start plans made here (portfolio runs)")
    ap.add_argument("--start-s", type=float, default=10.0, help="seconds of the portfolio run of a start plan")
    ap.add_argument("--arm", action="append", default=[], help="dfs | cpsat | dfs+guide (repeatable)")
    ap.add_argument("--steps", type=int, default=300, help="walk steps per instance, seed and arm")
    ap.add_argument("--seeds", type=int, default=2, help="walk seeds 0..n-1")
    ap.add_argument("--nodes", type=int, default=whole_line.STEP_NODES, help="node budget of a dfs question")
    args = ap.parse_args()
    arms = args.arm or ["cpsat", "dfs"]
    rows = [r for r in read_index("alwabp") if not args.only or r["instance"].removesuffix(".alwabp") in args.only]
    given = json.loads(args.starts.read_text()) if args.starts else {}
    made: dict[str, list[object]] = {}
    gaps: dict[str, dict[str, list[float]]] = {a: {} for a in arms}
    cpu = dict.fromkeys(arms, 0.0)
    steps = dict.fromkeys(arms, 0)
    for r in rows:
        name = r["instance"].removesuffix(".alwabp")
        p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
        best_known = int(r["best_known"])
        if name in given:
            start = LineSolution(tuple((w, tuple(ts)) for w, ts in given[name]))
        else:
            start = solve_portfolio(p, args.start_s, seed=0)
        made[name] = [[w, list(ts)] for w, ts in start.stations]
        line = [name, f"best known {best_known}", f"start {start.cycle_time(p)}"]
        for arm in arms:
            cycles = []
            for seed in range(args.seeds):
                stats = whole_line.WalkStats()
                t0 = time.process_time()
                best = whole_line.order_walk(
                    p,
                    start,
                    time.monotonic() + FAR,
                    seed=seed,
                    max_steps=args.steps,
                    stats=stats,
                    question=arm.split("+")[0],
                    max_nodes=args.nodes,
                    guide="guide" in arm,
                )
                dt = time.process_time() - t0
                cpu[arm] += dt
                steps[arm] += stats.steps
                if check_line(p, best):
                    raise SystemExit(f"{name}: infeasible plan from {arm}: {check_line(p, best)}")
                cycles.append(best.cycle_time(p))
                gaps[arm].setdefault(name.rsplit("-", 1)[0], []).append(
                    100.0 * (best.cycle_time(p) - best_known) / best_known
                )
                line.append(
                    f"{arm}/s{seed} {best.cycle_time(p)} found {stats.found} acc {stats.accepted} "
                    f"ref {stats.refuted} {1000 * dt / max(1, stats.steps):.1f} ms/step"
                )
        print("  ".join(line), flush=True)
    if args.save_starts:
        args.save_starts.write_text(json.dumps(made))
    out = {
        "steps": args.steps,
        "seeds": args.seeds,
        "nodes": args.nodes,
        "gap": {arm: {f: round(statistics.mean(v), 3) for f, v in fam.items()} for arm, fam in gaps.items()},
        "cpu_s": {arm: round(v, 1) for arm, v in cpu.items()},
        "ms_per_step": {arm: round(1000 * cpu[arm] / max(1, steps[arm]), 2) for arm in arms},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
