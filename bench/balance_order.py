"""Deterministic A/B of the worker-order ladder (``balance/worker_order.py``) on ALWABP, free of the clock.

From the same start plans (IPBS with ``--searches`` beam searches, seed 0, then ``--rounds`` rounds
of the overload tabu search with ``--iters`` iterations each, every round followed by window
repacking — the child's local search without its timed turns), both arms run ``--more`` further
rounds; arm "order" also gives the ladder ``--questions`` CP-SAT questions after each round
(``ORDER_DET``… ``MAX_DET`` deterministic units each, one CP-SAT worker, no wall-clock limit that
binds). Prints each instance's key (cycle, soft cost, stations at the cycle) per arm and, as the
last line, one JSON object with the mean gap (%) to the best known per family for both arms, the
ladder's counts and the CPU seconds. The cycles do not depend on the machine's load.

    SEAMLINE_BENCH_DIR=../shared/bench .venv/bin/python bench/balance_order.py --only tonge --only wee-mag
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
from seamline.planning.balance.data import LineSolution  # noqa: E402
from seamline.planning.balance.ipbs import solve_ipbs  # noqa: E402
from seamline.planning.balance.polish import _key  # noqa: E402
from seamline.planning.balance.repack import repack  # noqa: E402
from seamline.planning.balance.tabu import tabu_search  # noqa: E402
from seamline.planning.balance.worker_order import OrderStats, improve_order  # noqa: E402
from seamline.planning.readers import bench_dir, read_alwabp, read_index  # noqa: E402

FAR = 1e6  # seconds: deadlines that never bind


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="instance name prefix (repeatable)")
    ap.add_argument("--searches", type=int, default=40, help="IPBS beam searches for the start plans")
    ap.add_argument("--rounds", type=int, default=4, help="tabu + repacking rounds of the start plans")
    ap.add_argument("--more", type=int, default=3, help="further rounds in both arms")
    ap.add_argument("--iters", type=int, default=3000, help="tabu iterations a round")
    ap.add_argument("--questions", type=int, default=4, help="ladder questions after each round (arm order)")
    ap.add_argument("--starts", type=Path, help="JSON {instance: [[worker, [tasks]], ...]} of start plans (skips IPBS)")
    args = ap.parse_args()
    rows = [r for r in read_index("alwabp") if not args.only or r["instance"].startswith(tuple(args.only))]
    given = json.loads(args.starts.read_text()) if args.starts else {}
    arms = ("tabu+repack", "tabu+repack+order")
    gaps: dict[str, dict[str, list[float]]] = {a: {} for a in arms}
    cpu = dict.fromkeys(arms, 0.0)
    totals = OrderStats()
    for r in rows:
        name = r["instance"].removesuffix(".alwabp")
        p = read_alwabp(bench_dir() / "alwabp" / r["instance"])
        best_known = int(r["best_known"])
        if name in given:
            start = LineSolution(tuple((w, tuple(ts)) for w, ts in given[name]))
        else:
            start = solve_ipbs(p, FAR, seed=0, max_searches=args.searches)
            for rnd in range(args.rounds):
                start = tabu_search(p, start, max_iters=args.iters, seed=rnd, patience=3)
                start = repack(p, start, deadline=time.monotonic() + FAR)
        line = [name, f"best known {best_known}", f"start {_key(p, start)}"]
        for arm in arms:
            t0 = time.process_time()
            best = start
            stats = OrderStats()
            for rnd in range(args.rounds, args.rounds + args.more):
                best = tabu_search(p, best, max_iters=args.iters, seed=rnd, patience=3)
                best = repack(p, best, deadline=time.monotonic() + FAR)
                if arm.endswith("order"):
                    best = improve_order(
                        p, best, deadline=time.monotonic() + FAR, seed=rnd, stats=stats, max_questions=args.questions
                    )
            cpu[arm] += time.process_time() - t0
            if check_line(p, best):
                raise SystemExit(f"{name}: infeasible plan from {arm}: {check_line(p, best)}")
            gaps[arm].setdefault(name.rsplit("-", 1)[0], []).append(
                100.0 * (best.cycle_time(p) - best_known) / best_known
            )
            line.append(f"{arm} {_key(p, best)}")
            if arm.endswith("order"):
                line.append(f"(asked {stats.asked}: yes {stats.yes}, no {stats.no}, unknown {stats.unknown})")
                totals.asked += stats.asked
                totals.yes += stats.yes
                totals.no += stats.no
                totals.unknown += stats.unknown
        print("  ".join(line), flush=True)
    out = {
        "rounds": args.rounds,
        "more": args.more,
        "iters": args.iters,
        "questions": args.questions,
        "gap": {arm: {f: round(statistics.mean(v), 3) for f, v in fam.items()} for arm, fam in gaps.items()},
        "ladder": {"asked": totals.asked, "yes": totals.yes, "no": totals.no, "unknown": totals.unknown},
        "cpu_s": {arm: round(v, 1) for arm, v in cpu.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
