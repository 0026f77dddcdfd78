"""Paired in-process ALWABP portfolio runs: the code as it is (arm A) against the same code with some
of the balancer's module settings changed (arm B).

For each instance and round, ``portfolio.solve_portfolio`` runs ``--time-limit`` seconds once per
arm, so both arms see the same machine load. The arm that goes first alternates by round and by
instance: on a quiet machine a seed's answer is nearly fixed, so an arm that always went first
with a given seed would carry whatever going first does. Each run reads the instance afresh
(nothing computed for one arm is reused by the other). ``--b``
names the settings of arm B as ``module.NAME=value`` under ``seamline.planning.balance`` (0/1 for
switches, a number else), e.g. ``portfolio.ORDER_WALK=1`` (the walk over worker orders) or
``solver.BEAM_FRAC=0.4``; an unknown name fails at once. Instances come from the ALWABP index of
``SEAMLINE_BENCH_DIR`` (any folder laid out like ``shared/bench``, e.g. held-out instances).

Prints each run's cycle and wall time, and as the last line one JSON object: the mean gap (%) to
the best known per family and arm, the pairs where B is better / worse / equal, and the most wall
time over the limit. Timing-dependent: report ``uptime`` with it.

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/alwabp_paired.py \
        --b portfolio.ORDER_WALK=1 --only wee-mag-1
"""

from __future__ import annotations

import argparse
import importlib
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


def parse_settings(text: str) -> list[tuple[object, str, object, object]]:
    """``module.NAME=value,…`` → (module, name, value of A, value of B); unknown names fail."""
    out = []
    for item in filter(None, text.split(",")):
        path, _, value = item.partition("=")
        mod_name, _, name = path.rpartition(".")
        mod = importlib.import_module(f"seamline.planning.balance.{mod_name}")
        old = getattr(mod, name)
        new = bool(int(value)) if isinstance(old, bool) else type(old)(float(value))
        out.append((mod, name, old, new))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--b", required=True, help="arm B: module.NAME=value[,module.NAME=value…]")
    ap.add_argument("--only", action="append", default=[], help="instance name prefix (repeatable)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seed-offset", type=int, default=0, help="round r runs the portfolio with seed offset + r")
    ap.add_argument("--time-limit", type=float, default=10.0)
    args = ap.parse_args()
    settings = parse_settings(args.b)
    rows = [
        r
        for r in read_index("alwabp")
        if not args.only or any(r["instance"].removesuffix(".alwabp").startswith(o) for o in args.only)
    ]
    gaps: dict[str, dict[str, list[float]]] = {"A": {}, "B": {}}
    tally = {"better": 0, "worse": 0, "equal": 0}
    over = 0.0
    for i, r in enumerate(rows):
        name = r["instance"].removesuffix(".alwabp")
        best_known = int(r["best_known"])
        for rnd in range(args.rounds):
            got: dict[str, int] = {}
            for arm in ("A", "B") if (rnd + i) % 2 == 0 else ("B", "A"):
                for mod, key, old, new in settings:
                    setattr(mod, key, new if arm == "B" else old)
                p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
                t0 = time.monotonic()
                sol = portfolio.solve_portfolio(p, args.time_limit, seed=args.seed_offset + rnd)
                wall = time.monotonic() - t0
                over = max(over, wall - args.time_limit)
                if check_line(p, sol):
                    raise SystemExit(f"{name}: infeasible plan ({arm}): {check_line(p, sol)}")
                got[arm] = sol.cycle_time(p)
                gaps[arm].setdefault(name.rsplit("-", 1)[0], []).append(100.0 * (got[arm] - best_known) / best_known)
                print(f"{name} round {rnd} {arm}: {got[arm]} (best known {best_known}) {wall:.2f} s", flush=True)
            key = "better" if got["B"] < got["A"] else "worse" if got["B"] > got["A"] else "equal"
            tally[key] += 1
    out = {
        "time_limit_s": args.time_limit,
        "rounds": args.rounds,
        "b": args.b,
        "gap": {arm: {f: round(statistics.mean(v), 3) for f, v in fam.items()} for arm, fam in gaps.items()},
        "pairs_b": tally,
        "max_over_limit_s": round(over, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
