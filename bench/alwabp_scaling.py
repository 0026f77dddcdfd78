"""How the ALWABP portfolio's answer grows with its time: the same instances and seed at several
limits, in-process (``portfolio.solve_portfolio``, the code ``seamline solve alwabp`` runs).

Why: at the bench's 10 s the answers are stable for a seed on a quiet machine (the paired runs of
``alwabp_paired.py`` give the same cycle in both arms when nothing differs), so what a change must
buy is more search per second or another basin. This bench says how much more time would reach a
target, and so how much faster the search has to become to reach it at 10 s.

Instances come from the ALWABP index of ``SEAMLINE_BENCH_DIR`` (any folder laid out like
``shared/bench``). Prints each run's cycle and wall time, and as the last line one JSON object:
the mean gap (%) to the best known per limit and family. Timing-dependent: report ``uptime``.

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/alwabp_scaling.py \
        --time-limit 10 --time-limit 30 --only wee-mag
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

from seamline.planning.balance import portfolio  # noqa: E402
from seamline.planning.balance.check import check_line  # noqa: E402
from seamline.planning.readers import bench_dir, read_alwabp, read_index  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, action="append", required=True, help="seconds (repeatable)")
    ap.add_argument("--only", action="append", default=[], help="instance name prefix (repeatable)")
    ap.add_argument("--seed", type=int, default=0, help="the portfolio's seed (the command line uses 0)")
    args = ap.parse_args()
    rows = [
        r
        for r in read_index("alwabp")
        if not args.only or any(r["instance"].removesuffix(".alwabp").startswith(o) for o in args.only)
    ]
    gaps: dict[str, dict[str, list[float]]] = {}
    over = 0.0
    for limit in args.time_limit:
        per = gaps.setdefault(f"{limit:g}", {})
        for r in rows:
            name = r["instance"].removesuffix(".alwabp")
            p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
            best_known = int(r["best_known"])
            t0 = time.monotonic()
            sol = portfolio.solve_portfolio(p, limit, seed=args.seed)
            wall = time.monotonic() - t0
            over = max(over, wall - limit)
            if check_line(p, sol):
                raise SystemExit(f"{name}: infeasible plan at {limit:g} s: {check_line(p, sol)[:3]}")
            cycle = sol.cycle_time(p)
            per.setdefault(name.rsplit("-", 1)[0], []).append(100.0 * (cycle - best_known) / best_known)
            print(f"{name} {limit:g} s: {cycle} (best known {best_known}) {wall:.2f} s", flush=True)
    out = {
        "seed": args.seed,
        "gap": {lim: {fam: round(statistics.fmean(v), 3) for fam, v in fams.items()} for lim, fams in gaps.items()},
        "max_over_limit_s": round(over, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
