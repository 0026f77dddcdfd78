"""Deterministic A/B of the window repacking (``balance/repack.py``) on ALWABP, free of the clock.

From the same IPBS plans (``max_searches`` beam searches, seed 0), a few rounds of the overload
tabu search with a fixed number of iterations, with or without ``repack`` after each round; prints
each instance's (cycle, soft cost, stations at the cycle) before and after and, as the last line,
one JSON object with the mean gap (%) to the best known per family for both arms and their CPU
seconds. The cycles do not depend on the machine's load (the repacking passes get a generous
deadline; pass ``--repack-s`` to cap them as the portfolio does, which makes them load-dependent).

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/balance_repack.py --only tonge --only wee-mag
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

from seamline.planning.balance.check import check_line  # noqa: E402
from seamline.planning.balance.ipbs import solve_ipbs  # noqa: E402
from seamline.planning.balance.polish import _key  # noqa: E402
from seamline.planning.balance.repack import MAX_TASKS, MAX_WIDTH, repack  # noqa: E402
from seamline.planning.balance.tabu import tabu_search  # noqa: E402
from seamline.planning.readers import bench_dir, read_alwabp, read_index  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="instance name prefix (repeatable)")
    ap.add_argument("--searches", type=int, default=40, help="IPBS beam searches for the seed plans")
    ap.add_argument("--rounds", type=int, default=4, help="tabu rounds (each then repacked in arm B)")
    ap.add_argument("--iters", type=int, default=3000, help="tabu iterations a round")
    ap.add_argument("--repack-s", type=float, default=60.0, help="seconds one repacking pass may take")
    ap.add_argument("--max-tasks", type=int, default=MAX_TASKS, help="tasks in a repacked window at most")
    ap.add_argument("--max-width", type=int, default=MAX_WIDTH, help="stations in a repacked window at most")
    args = ap.parse_args()
    rows = [r for r in read_index("alwabp") if not args.only or r["instance"].startswith(tuple(args.only))]
    gaps: dict[str, dict[str, list[float]]] = {"tabu": {}, "tabu+repack": {}}
    cpu = {"tabu": 0.0, "tabu+repack": 0.0}
    for r in rows:
        name = r["instance"].removesuffix(".alwabp")
        p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
        best_known = int(r["best_known"])
        seed_plan = solve_ipbs(p, 1e6, seed=0, max_searches=args.searches)
        line = [name, f"best known {best_known}", f"seed {_key(p, seed_plan)}"]
        for arm in ("tabu", "tabu+repack"):
            t0 = time.process_time()
            best = seed_plan
            for rnd in range(args.rounds):
                best = tabu_search(p, best, max_iters=args.iters, seed=rnd, patience=3)
                if arm == "tabu+repack":
                    best = repack(
                        p,
                        best,
                        deadline=time.monotonic() + args.repack_s,
                        max_tasks=args.max_tasks,
                        max_width=args.max_width,
                    )
            cpu[arm] += time.process_time() - t0
            if check_line(p, best):
                raise SystemExit(f"{name}: infeasible plan from {arm}: {check_line(p, best)}")
            gaps[arm].setdefault(name.rsplit("-", 1)[0], []).append(
                100.0 * (best.cycle_time(p) - best_known) / best_known
            )
            line.append(f"{arm} {_key(p, best)}")
        print("  ".join(line), flush=True)
    out = {
        "searches": args.searches,
        "rounds": args.rounds,
        "iters": args.iters,
        "max_tasks": args.max_tasks,
        "max_width": args.max_width,
        "gap": {arm: {f: round(statistics.mean(v), 3) for f, v in fam.items()} for arm, fam in gaps.items()},
        "cpu_s": {arm: round(v, 1) for arm, v in cpu.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
