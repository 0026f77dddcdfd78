"""Planning engine against the literature: ``seamline solve`` vs a plain CP-SAT model vs a dispatch rule.

Runs every instance in ``<repo>/../shared/bench`` (or ``$SEAMLINE_BENCH_DIR``) per family, all
three methods at the same time limit in the same run, checks every answer for feasibility with the
independent checkers, and prints a table; the last line is one JSON object with the per-family mean
gaps (%) to the best known values. ``seamline solve`` runs as a real subprocess (start-up included).

    .venv/bin/python bench/planning.py                     # everything, 2 s each (≈ 5 min; make bench)
    .venv/bin/python bench/planning.py --time-limit 5      # the docs/planning.md table (≈ 12 min)
    .venv/bin/python bench/planning.py --quick             # one instance per family, 1 s (make bench-quick)
    .venv/bin/python bench/planning.py --family fjsp --limit 3 --time-limit 2
    .venv/bin/python bench/planning.py --dispatch          # only the dispatch decision time
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from seamline.planning.dispatch.rule import dispatch  # noqa: E402
from seamline.planning.dispatch.synthetic import synthetic_snapshot  # noqa: E402
from seamline.planning.readers import bench_dir, read_alb, read_fjsp, read_index, read_jssp  # noqa: E402
from seamline.planning.salbp.data import SalbpSolution, check_salbp  # noqa: E402
from seamline.planning.salbp.heuristics import dispatch_rule as salbp_rule  # noqa: E402
from seamline.planning.salbp.solver import solve_plain as salbp_plain  # noqa: E402
from seamline.planning.salbp.solver import solve_salbp  # noqa: E402
from seamline.planning.shop.rules import greedy_schedule  # noqa: E402
from seamline.planning.shop.solution import ScheduledOp, ShopSchedule, check_schedule  # noqa: E402
from seamline.planning.shop.solver import solve_plain as shop_plain  # noqa: E402
from seamline.planning.shop.solver import solve_shop  # noqa: E402

FAMILIES = ("jssp", "fjsp", "salbp")
FAILED_GAP = 100.0  # a method that returns nothing feasible scores this gap


def instances(family: str) -> list[tuple[str, Path, int]]:
    d = bench_dir() / family
    rows = read_index(family)
    ext = {"jssp": ".txt", "fjsp": ".fjs", "salbp": ".alb"}[family]
    col = {"jssp": "upper_bound", "fjsp": "best_known", "salbp": "optimal_stations"}[family]
    return [(r["name"], d / f"{r['name']}{ext}", int(r[col])) for r in rows]


def run_cli(family: str, path: Path, time_limit: float) -> tuple[dict | None, float]:
    t0 = time.monotonic()
    cmd = [
        sys.executable,
        "-m",
        "seamline.entrypoints.cli",
        "solve",
        family,
        str(path),
        "--time-limit",
        str(time_limit),
    ]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit + 30, cwd=REPO)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0
    wall = time.monotonic() - t0
    lines = [ln for ln in out.stdout.splitlines() if ln.strip()]
    if out.returncode != 0 or len(lines) != 1:
        print(f"  seamline solve failed: rc={out.returncode} {out.stderr[-300:]}", file=sys.stderr)
        return None, wall
    return json.loads(lines[0]), wall


def gap(value: float | None, best: int) -> float:
    return FAILED_GAP if value is None else 100.0 * (value - best) / best


def bench_family(family: str, time_limit: float, limit: int | None, in_process: bool = False) -> list[dict]:
    rows = []
    for name, path, best in instances(family)[:limit]:
        res, wall = run_cli(family, path, time_limit)
        if family == "salbp":
            inst = read_alb(path)
            ours = None
            if res is not None:
                sol = SalbpSolution(tuple(tuple(s) for s in res["assignment"]))
                errs = check_salbp(inst, sol)
                ours = sol.num_stations if not errs and sol.num_stations == res["stations"] else None
            plain = salbp_plain(inst, time_limit)
            plain_v = plain.num_stations if plain is not None and not check_salbp(inst, plain) else None
            rule = salbp_rule(inst)
            rule_v = rule.num_stations if not check_salbp(inst, rule) else None
            size = inst.n
            engine_v = None
            if in_process:
                eng = solve_salbp(inst, time_limit)
                engine_v = eng.num_stations if not check_salbp(inst, eng) else None
        else:
            inst = read_jssp(path) if family == "jssp" else read_fjsp(path)
            ours = None
            if res is not None:
                sched = ShopSchedule(
                    tuple(ScheduledOp(o["job"], o["op"], o["machine"], o["start"], o["end"]) for o in res["schedule"])
                )
                errs = check_schedule(inst, sched)
                ours = sched.makespan if not errs and sched.makespan == res["makespan"] else None
                if errs:
                    print(f"  {name}: INFEASIBLE answer: {errs[:3]}", file=sys.stderr)
            plain = shop_plain(inst, time_limit)
            plain_v = plain.makespan if plain is not None and not check_schedule(inst, plain) else None
            rule = greedy_schedule(inst, "mwkr")
            rule_v = rule.makespan if not check_schedule(inst, rule) else None
            size = inst.num_jobs
            engine_v = None
            if in_process:
                eng_s = solve_shop(inst, time_limit)
                engine_v = eng_s.makespan if not check_schedule(inst, eng_s) else None
        row = {
            "family": family,
            "name": name,
            "size": size,
            "best": best,
            "seamline": ours,
            "plain_cpsat": plain_v,
            "dispatch_rule": rule_v,
            "wall_s": round(wall, 2),
            "gap_seamline": gap(ours, best),
            "gap_plain": gap(plain_v, best),
            "gap_rule": gap(rule_v, best),
        }
        if in_process:
            row["engine"] = engine_v
            row["gap_engine"] = gap(engine_v, best)
        rows.append(row)
        print(
            f"{family:6} {name:18} n={size:3} best={best:6} seamline={ours!s:>6} ({row['gap_seamline']:6.2f}%)"
            f" plain={plain_v!s:>6} ({row['gap_plain']:6.2f}%) rule={rule_v!s:>6} ({row['gap_rule']:6.2f}%)"
            f" wall={wall:5.2f}s" + (f" engine={engine_v} ({row['gap_engine']:.2f}%)" if in_process else ""),
            flush=True,
        )
    return rows


def mean(xs: list[float]) -> float | None:
    return round(statistics.fmean(xs), 3) if xs else None


def bench_dispatch(n_stations: int = 200, repeats: int = 500) -> dict:
    """p99 decision time for a whole line, and a baseline measured alongside."""
    snap = synthetic_snapshot(n_stations=n_stations)
    times, base_walk, base_copy = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        dispatch(snap)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        # Baseline: the least any rule must do — read every queued bundle's key once.
        sum(len(b.bundle_id) + b.qty for st in snap.stations for b in st.queue)
        base_walk.append(time.perf_counter() - t)
    for _ in range(max(20, repeats // 10)):
        t = time.perf_counter()
        copy.deepcopy(snap)
        base_copy.append(time.perf_counter() - t)

    def p99(xs: list[float]) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(0.99 * len(xs)))] * 1000

    out = {
        "stations": n_stations,
        "bundles": sum(len(st.queue) for st in snap.stations),
        "p99_ms": round(p99(times), 3),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "baseline_walk_p99_ms": round(p99(base_walk), 3),
        "baseline_deepcopy_p99_ms": round(p99(base_copy), 3),
    }
    out["ratio_to_walk"] = round(out["p99_ms"] / max(1e-9, out["baseline_walk_p99_ms"]), 2)
    out["ratio_to_deepcopy"] = round(out["p99_ms"] / max(1e-9, out["baseline_deepcopy_p99_ms"]), 3)
    print(
        f"dispatch: {out['stations']} stations, {out['bundles']} bundles: p99 {out['p99_ms']} ms "
        f"(median {out['median_ms']} ms); baseline walk p99 {out['baseline_walk_p99_ms']} ms "
        f"(×{out['ratio_to_walk']}), deepcopy p99 {out['baseline_deepcopy_p99_ms']} ms",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=2.0, help="seconds per instance and method")
    ap.add_argument("--family", action="append", choices=FAMILIES, help="repeatable; default all")
    ap.add_argument("--limit", type=int, default=None, help="first N instances per family")
    ap.add_argument("--dispatch", action="store_true", help="only the dispatch decision-time benchmark")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="also run the same engine in-process (no CLI start-up) as a fourth column",
    )
    ap.add_argument("--quick", action="store_true", help="first instance per family at 1 s (make bench-quick)")
    args = ap.parse_args()
    if args.quick:
        args.time_limit, args.limit = 1.0, 1
    result: dict = {"time_limit_s": args.time_limit}
    if not args.dispatch and not bench_dir().is_dir():
        # A clone without the instances beside it: say so, and still run the dispatch benchmark.
        print(f"no benchmark instances in {bench_dir()} (set SEAMLINE_BENCH_DIR): dispatch only", file=sys.stderr)
        result["instances_missing"] = str(bench_dir())
        args.dispatch = True
    if not args.dispatch:
        rows = []
        for fam in args.family or FAMILIES:
            rows += bench_family(fam, args.time_limit, args.limit, args.in_process)

        def summary(r: list[dict]) -> dict:
            out = {
                "n": len(r),
                "seamline": mean([x["gap_seamline"] for x in r]),
                "plain_cpsat": mean([x["gap_plain"] for x in r]),
                "dispatch_rule": mean([x["gap_rule"] for x in r]),
            }
            if args.in_process:
                out["engine_in_process"] = mean([x["gap_engine"] for x in r])
            return out

        fams = {fam: summary([x for x in rows if x["family"] == fam]) for fam in args.family or FAMILIES}
        big = [x for x in rows if x["family"] != "salbp" and x["size"] >= 20]
        result["families"] = fams
        result["shop_20plus_jobs"] = summary(big)
        result["max_wall_over_limit_s"] = round(max((x["wall_s"] - args.time_limit for x in rows), default=0.0), 2)
        print()
        print(f"{'family':8}{'n':>4}{'seamline %':>12}{'plain CP-SAT %':>16}{'rule %':>10}")
        for fam, v in {**fams, "shop>=20": result["shop_20plus_jobs"]}.items():
            print(f"{fam:8}{v['n']:>4}{v['seamline']!s:>12}{v['plain_cpsat']!s:>16}{v['dispatch_rule']!s:>10}")
    if args.dispatch or not args.family:
        result["dispatch"] = bench_dispatch()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
