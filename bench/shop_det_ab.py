"""Job shop A/B at a fixed CP-SAT deterministic time: the plain model against seamline's first model.

Wall-time comparisons on the shared 2-core machine are drowned by load; CP-SAT's deterministic
time counts work, not seconds, so this pairs the models on equal work (same seed each):

- ``plain``: the textbook model (``solve_plain``'s model);
- ``bounded``: seamline's first model of a classic shop — the makespan cut to [lower bound, best
  dispatch rule], no hint (``solver.first_model``);
- ``hinted``: the same bounds with the rule's schedule as a hint (the code before issue #24's
  ninth session).

    .venv/bin/python bench/shop_det_ab.py --det 0.25 --seeds 1,2 ../shared/bench/jssp/ft10.txt ...

Needs an ``index.csv`` (``name`` and ``upper_bound``) beside the instances. The last line is one
JSON object: per model the mean gap (%) and better/worse/equal counts against ``plain``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ortools.sat.python import cp_model  # noqa: E402

from seamline.planning.readers import read_jssp  # noqa: E402
from seamline.planning.shop.data import ShopInstance  # noqa: E402
from seamline.planning.shop.model import ShopModel, build_shop_model  # noqa: E402
from seamline.planning.shop.rules import RULES, greedy_schedule  # noqa: E402

MODELS = ("plain", "bounded", "hinted")


def best_known(path: Path) -> int:
    for r in csv.DictReader((path.parent / "index.csv").open()):
        if r["name"] == path.stem:
            return int(r["upper_bound"])
    raise SystemExit(f"{path.stem} not in {path.parent / 'index.csv'}")


def model(kind: str, inst: ShopInstance) -> tuple[ShopModel, int]:
    start = min((greedy_schedule(inst, r) for r in RULES), key=lambda s: s.makespan)
    if kind == "plain":
        return build_shop_model(inst, inst.horizon()), 10**9
    hint = start if kind == "hinted" else None
    return build_shop_model(inst, start.makespan, lower_bound=inst.lower_bound(), hint=hint), start.makespan


def solve(sm: ShopModel, det: float, seed: int, workers: int) -> int | None:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_deterministic_time = det
    p.max_time_in_seconds = 600.0
    p.num_workers = workers
    p.random_seed = seed
    status = solver.solve(sm.model)
    return int(solver.objective_value) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--det", type=float, default=0.25, help="CP-SAT deterministic time per solve")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (each pairs all models)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    gaps: dict[str, list[float]] = {k: [] for k in MODELS}
    for path in a.files:
        inst = read_jssp(path)
        best = best_known(path)
        for seed in (int(x) for x in a.seeds.split(",")):
            row = {}
            for kind in MODELS:
                sm, fallback = model(kind, inst)
                found = solve(sm, a.det, seed, a.workers)
                ms = min(x for x in (found, fallback) if x is not None)
                row[kind] = 100.0 * (ms - best) / best
                gaps[kind].append(row[kind])
            print(f"{inst.name:10} seed {seed}: " + "  ".join(f"{k} {v:6.2f}%" for k, v in row.items()), flush=True)
    out: dict[str, dict[str, float | int]] = {}
    for kind in MODELS:
        pairs = list(zip(gaps[kind], gaps["plain"], strict=True))
        out[kind] = {
            "mean_gap": round(sum(gaps[kind]) / len(gaps[kind]), 3),
            "better": sum(x < y for x, y in pairs),
            "worse": sum(x > y for x, y in pairs),
            "equal": sum(x == y for x, y in pairs),
        }
    print(json.dumps({"det_time": a.det, "workers": a.workers, "runs": len(gaps["plain"]), "models": out}))


if __name__ == "__main__":
    main()
