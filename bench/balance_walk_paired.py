"""Paired in-process portfolio runs with the walk over worker orders on and off (``portfolio.ORDER_WALK``).

For each instance and round, the portfolio runs ``--time-limit`` seconds once with the walk and once
without, the arm that goes first alternating by round, so both arms see the same load. Prints
each run's cycle and wall time, and as the last line one JSON object with the mean gap (%) to the
best known per family and arm, the pairs better / worse / equal with the walk, and the most wall
time over the limit. Timing-dependent: report ``uptime`` with it.

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/balance_walk_paired.py --only wee-mag-1 --rounds 2
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

from seamline.planning.balance import portfolio, whole_line  # noqa: E402
from seamline.planning.balance.check import check_line  # noqa: E402
from seamline.planning.readers import bench_dir, read_alwabp, read_index  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="instance name (repeatable, exact without .alwabp)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed-offset", type=int, default=0, help="round r runs the portfolio with seed offset + r")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--walk-every", type=int, default=portfolio.WALK_EVERY, help="portfolio.WALK_EVERY of arm on")
    ap.add_argument("--guide", type=int, choices=(0, 1), default=int(whole_line.GUIDE), help="whole_line.GUIDE")
    args = ap.parse_args()
    whole_line.GUIDE = bool(args.guide)
    rows = [r for r in read_index("alwabp") if not args.only or r["instance"].removesuffix(".alwabp") in args.only]
    gaps: dict[str, dict[str, list[float]]] = {"on": {}, "off": {}}
    tally = {"better": 0, "worse": 0, "equal": 0}
    over = 0.0
    for r in rows:
        name = r["instance"].removesuffix(".alwabp")
        p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
        best_known = int(r["best_known"])
        for rnd in range(args.rounds):
            got: dict[str, int] = {}
            for arm in ("on", "off") if rnd % 2 == 0 else ("off", "on"):
                portfolio.ORDER_WALK = arm == "on"
                portfolio.WALK_EVERY = args.walk_every
                t0 = time.monotonic()
                sol = portfolio.solve_portfolio(p, args.time_limit, seed=args.seed_offset + rnd)
                wall = time.monotonic() - t0
                over = max(over, wall - args.time_limit)
                if check_line(p, sol):
                    raise SystemExit(f"{name}: infeasible plan ({arm}): {check_line(p, sol)}")
                got[arm] = sol.cycle_time(p)
                gaps[arm].setdefault(name.rsplit("-", 1)[0], []).append(100.0 * (got[arm] - best_known) / best_known)
                print(f"{name} round {rnd} {arm}: {got[arm]} (best known {best_known}) {wall:.2f} s", flush=True)
            key = "better" if got["on"] < got["off"] else "worse" if got["on"] > got["off"] else "equal"
            tally[key] += 1
    out = {
        "time_limit_s": args.time_limit,
        "rounds": args.rounds,
        "walk_every": args.walk_every,
        "guide": bool(args.guide),
        "gap": {arm: {f: round(statistics.mean(v), 3) for f, v in fam.items()} for arm, fam in gaps.items()},
        "pairs_with_walk": tally,
        "max_over_limit_s": round(over, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
