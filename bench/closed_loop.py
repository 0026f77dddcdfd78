"""Closed loop: the simulator as the plant, seamline (and two other policies) as the controller.

For every style (tee on L1, polo on L2, jeans on L3 of examples/factory) and seed, the same line,
workers, hidden skills, order book, absences and breakdowns run under three policies
(docs/closed-loop.md): baseline (balance for equal workers, FIFO, ≤ 2 re-balances a day), seamline
(efficiencies learned from the events only, dispatch and release control) and oracle (balance on
the true efficiencies, where the learning curves stand at each decision). Prints per style and
policy: packed garments per attended hour, line efficiency (earned ÷ attended minutes), mean WIP
(bundles), lead time of small orders (first bundle in → last bundle packed, working hours, for
orders cut during the run: an order already under way at the start shows only its drain), each
with a 95 % t-interval over seeds; then how close seamline's balance is to the oracle's (both
scored on the truth) by working day; last, one JSON line.

    .venv/bin/python bench/closed_loop.py [--seeds 10] [--days 4] [--quick] [--seed-offset 100]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from scipy import stats

from seamline.adapters.layout_files import load_factory
from seamline.twin.experiment import (
    POLICIES,
    QUALITY_REACHED,
    SMALL_MAX_PCS,
    PolicyRun,
    floor_quality,
    line_case,
    run_policy,
)

ROOT = Path(__file__).resolve().parent.parent
STYLES = (("TEE-BASIC", "L1"), ("POLO", "L2"), ("JEANS-5P", "L3"))
# The model figures the floor check is set against (twin.experiment.FloorDay.model).
MODELS = ("shares", "lists", "carry")


def ci95(xs: list[float]) -> tuple[float, float, float]:
    """Mean and the 95 % t-interval of the mean (nan for fewer than two values)."""
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return math.nan, math.nan, math.nan
    m = statistics.fmean(xs)
    if len(xs) < 2:
        return m, math.nan, math.nan
    h = stats.t.ppf(0.975, len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))
    return m, m - h, m + h


def lead_ratios(cases: list[dict[str, Any]], key: str) -> list[float]:
    """Per case: mean lead of seamline ÷ baseline over the orders of ``key`` both finished (paired)."""
    out = []
    for c in cases:
        both = set(c["seamline"][key]) & set(c["baseline"][key])
        if both:
            s = statistics.fmean(c["seamline"][key][o] for o in both)
            b = statistics.fmean(c["baseline"][key][o] for o in both)
            if b > 0:
                out.append(s / b)
    return out


def one_case(args: tuple[str, str, int, int, int]) -> dict[str, Any]:
    style, line, seed, days, floor_days = args
    base = load_factory(ROOT / "examples" / "factory")
    case = line_case(base, line, style, seed, days)
    out: dict[str, Any] = {"style": style, "seed": seed}
    runs: dict[str, PolicyRun] = {}
    for pol in POLICIES:
        r = runs[pol] = run_policy(case, pol, quality=pol != "baseline")
        res = r.result
        fresh = {o: h for o, h in res.order_lead_h.items() if o in res.orders_cut_in_run}
        out[pol] = {
            "oph": res.output_per_attended_h,
            "eff": res.line_eff,
            "wip": res.wip_mean_bundles,
            # lead from cut to packed, for orders cut during the run (work in progress at the start
            # shows only its drain: kept apart, "lead_started")
            "lead": {o: h for o, h in fresh.items() if res.order_qty[o] <= SMALL_MAX_PCS},
            "lead_big": {o: h for o, h in fresh.items() if res.order_qty[o] > SMALL_MAX_PCS},
            "lead_started": {
                o: h for o, h in res.order_lead_h.items() if o not in fresh and res.order_qty[o] <= SMALL_MAX_PCS
            },
            "quality": r.balance_quality,
            "quality_ss": r.balance_quality_ss,
            "fresh": r.fresh_quality,
            "fresh_lcb": r.fresh_lcb_quality,
            "list": r.list_quality,
            "carry": r.carry_quality,
            "decisions": len(res.decisions),
        }
    # The floor itself: each of the first ``floor_days`` days replayed from seamline's learning
    # state with seamline's, the oracle's and the truth's optimum plan held fixed (common random
    # numbers): whole garments of work per hour (twin.floor_check).
    out["floor"] = {}
    if floor_days > 0:
        for d, fd in floor_quality(case, runs["seamline"], runs["oracle"], range(1, floor_days + 1)).items():
            out["floor"][d] = {
                "seamline": fd.seamline.garments_per_h,
                "oracle": fd.oracle.garments_per_h if fd.oracle is not None else math.nan,
                "optimum": fd.optimum.garments_per_h,
                "seamline_packed": fd.seamline.packed_per_h,
                "optimum_packed": fd.optimum.packed_per_h,
                "model_optimum": 60.0 / fd.optimum_cycle_min if fd.optimum_cycle_min > 0 else math.nan,
                "model": fd.model,
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 seeds × 2 days")
    ap.add_argument(
        "--floor-days",
        type=int,
        default=2,
        help="replay days 1 … N of each case on the simulator with each plan held fixed (0: none)",
    )
    ap.add_argument(
        "--seed-offset", type=int, default=0, help="seeds offset+1 … offset+seeds (check on seeds not tuned on)"
    )
    a = ap.parse_args()
    seeds, days = (2, 2) if a.quick else (a.seeds, a.days)
    t0 = time.perf_counter()
    floor_days = min(days, max(0, a.floor_days))
    jobs = [
        (s, ln, seed, days, floor_days)
        for s, ln in STYLES
        for seed in range(a.seed_offset + 1, a.seed_offset + seeds + 1)
    ]
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        cases = list(ex.map(one_case, jobs))
    print(
        f"{len(cases)} cases ({seeds} seeds × {len(STYLES)} styles × {days} working days)"
        f" in {time.perf_counter() - t0:.0f} s"
    )
    print(f"{'style':10} {'policy':9} {'pcs/att.h':>20} {'line eff %':>20} {'WIP bundles':>20} {'small lead h':>20}")

    def fmt(xs: list[float], k: float = 1.0) -> str:
        m, lo, hi = ci95(xs)
        return f"{m * k:6.2f} [{lo * k:6.2f},{hi * k:6.2f}]"

    for style, _ in STYLES:
        rows = [c for c in cases if c["style"] == style]
        for pol in POLICIES:
            leads = [statistics.fmean(c[pol]["lead"].values()) if c[pol]["lead"] else math.nan for c in rows]
            print(
                f"{style:10} {pol:9} {fmt([c[pol]['oph'] for c in rows]):>20} "
                f"{fmt([c[pol]['eff'] for c in rows], 100):>20} {fmt([c[pol]['wip'] for c in rows]):>20} "
                f"{fmt(leads):>20}"
            )
    # Ratios per case (paired: same floor), pooled over styles and seeds.
    uplift = [c["seamline"]["oph"] / c["baseline"]["oph"] for c in cases if c["baseline"]["oph"] > 0]
    oracle = [c["seamline"]["oph"] / c["oracle"]["oph"] for c in cases if c["oracle"]["oph"] > 0]
    wip = [c["seamline"]["wip"] / c["baseline"]["wip"] for c in cases if c["baseline"]["wip"] > 0]
    lead = lead_ratios(cases, "lead")
    eff_uplift = [c["seamline"]["eff"] / c["baseline"]["eff"] for c in cases if c["baseline"]["eff"] > 0]
    for style, _ in STYLES:
        rows = [c for c in cases if c["style"] == style]
        up = ci95([c["seamline"]["oph"] / c["baseline"]["oph"] for c in rows if c["baseline"]["oph"] > 0])
        ue = ci95([c["seamline"]["eff"] / c["baseline"]["eff"] for c in rows if c["baseline"]["eff"] > 0])
        print(
            f"{style:10} seamline/baseline: pcs per attended hour {up[0]:.3f} [{up[1]:.3f}, {up[2]:.3f}],"
            f" line efficiency {ue[0]:.3f} [{ue[1]:.3f}, {ue[2]:.3f}]"
        )
    um, ulo, uhi = ci95(uplift)
    n_up = len(uplift)
    print(f"uplift seamline/baseline (pcs per attended hour): {um:.3f} [{ulo:.3f}, {uhi:.3f}] over {n_up} cases")
    em, elo, ehi = ci95(eff_uplift)
    print(f"uplift in line efficiency (earned minutes, counts WIP in process): {em:.3f} [{elo:.3f}, {ehi:.3f}]")
    om, olo, ohi = ci95(oracle)
    print(f"seamline/oracle: {om:.3f} [{olo:.3f}, {ohi:.3f}]")
    lm, llo, lhi = ci95(lead)
    n_small = sum(len(set(c["seamline"]["lead"]) & set(c["baseline"]["lead"])) for c in cases)
    print(
        f"small orders (≤ {SMALL_MAX_PCS} pcs, cut in the run) lead time seamline/baseline: {lm:.3f}"
        f" [{llo:.3f}, {lhi:.3f}] over {len(lead)} cases, {n_small} orders"
    )
    bm, blo, bhi = ci95(lead_ratios(cases, "lead_big"))
    print(
        f"large orders (> {SMALL_MAX_PCS} pcs, cut in the run) lead time seamline/baseline: {bm:.3f}"
        f" [{blo:.3f}, {bhi:.3f}]"
    )
    pm, plo, phi = ci95(lead_ratios(cases, "lead_started"))
    print(
        f"small orders already under way at the start (drain only) seamline/baseline: {pm:.3f} [{plo:.3f}, {phi:.3f}]"
    )
    wm, wlo, whi = ci95(wip)
    print(f"WIP seamline/baseline: {wm:.3f} [{wlo:.3f}, {whi:.3f}]")
    # Balance quality: the oracle's cycle ÷ seamline's day plan's, both scored on the truth — as the
    # floor has it at the day's end (learning curves where they are), and fully learned (steady state).
    quality: dict[str, list[float]] = {"quality": [], "quality_ss": []}
    for d in range(1, days + 1):
        for k, label in (("quality", "on the floor's truth"), ("quality_ss", "on the steady-state truth")):
            qm, qlo, qhi = ci95([c["seamline"][k].get(d, math.nan) for c in cases])
            quality[k].append(round(qm, 4))
            print(f"balance quality (oracle ÷ seamline cycle) {label}, end of day {d}: {qm:.3f} [{qlo:.3f}, {qhi:.3f}]")
    # The oracle policy's own day plans on the same scale: its re-balances also keep the cycle
    # within 2 % of the optimum with fewer moves, so this is as close as a policy that moves few
    # people gets even on the truth.
    for d in range(1, days + 1):
        qm, qlo, qhi = ci95([c["oracle"]["quality"].get(d, math.nan) for c in cases])
        sm, slo, shi = ci95([c["oracle"]["quality_ss"].get(d, math.nan) for c in cases])
        print(
            f"  the oracle policy's own plan, end of day {d}: {qm:.3f} [{qlo:.3f}, {qhi:.3f}] on the floor's truth,"
            f" {sm:.3f} [{slo:.3f}, {shi:.3f}] on the steady state"
        )
    # The learned efficiencies themselves: the balance the engine computes fresh from seamline's
    # estimates at the day's last decision (no move costs), scored on the truth ÷ the truth's
    # optimum; and seamline's day-plan quality ÷ the oracle policy's, paired by case.
    fresh_by_day: list[float] = []
    lcb_by_day: list[float] = []
    vs_oracle_by_day: list[float] = []
    for d in range(1, days + 1):
        fm, flo, fhi = ci95([c["seamline"]["fresh"].get(d, math.nan) for c in cases])
        vm, vlo, vhi = ci95(
            [
                c["seamline"]["quality"][d] / c["oracle"]["quality"][d]
                for c in cases
                if c["seamline"]["quality"].get(d) and c["oracle"]["quality"].get(d)
            ]
        )
        lm_, llo_, lhi_ = ci95([c["seamline"]["fresh_lcb"].get(d, math.nan) for c in cases])
        fresh_by_day.append(round(fm, 4))
        lcb_by_day.append(round(lm_, 4))
        vs_oracle_by_day.append(round(vm, 4))
        print(
            f"learned efficiencies' own balance (fresh, no move costs), day {d}: {fm:.3f} [{flo:.3f}, {fhi:.3f}];"
            f" on the lower confidence bounds: {lm_:.3f} [{llo_:.3f}, {lhi_:.3f}];"
            f" seamline's day plan ÷ the oracle policy's: {vm:.3f} [{vlo:.3f}, {vhi:.3f}]"
        )
    # What the floor receives is each station's LIST of operations, not the shares: the same
    # quality with the shares re-optimised within the lists on the truth, for seamline and for the
    # oracle policy, and seamline ÷ oracle on it (paired by case).
    list_by_day: list[float] = []
    oracle_list_by_day: list[float] = []
    list_vs_oracle_by_day: list[float] = []
    for d in range(1, days + 1):
        sm, slo, shi = ci95([c["seamline"]["list"].get(d, math.nan) for c in cases])
        om_, olo_, ohi_ = ci95([c["oracle"]["list"].get(d, math.nan) for c in cases])
        rm, rlo, rhi = ci95(
            [
                c["seamline"]["list"][d] / c["oracle"]["list"][d]
                for c in cases
                if c["seamline"]["list"].get(d) and c["oracle"]["list"].get(d)
            ]
        )
        list_by_day.append(round(sm, 4))
        oracle_list_by_day.append(round(om_, 4))
        list_vs_oracle_by_day.append(round(rm, 4))
        print(
            f"station-list quality (shares re-optimised within the lists), day {d}: seamline {sm:.3f}"
            f" [{slo:.3f}, {shi:.3f}], the oracle policy {om_:.3f} [{olo_:.3f}, {ohi_:.3f}],"
            f" seamline ÷ oracle {rm:.3f} [{rlo:.3f}, {rhi:.3f}]"
        )
    carry_by_day: list[float] = []
    oracle_carry_by_day: list[float] = []
    for d in range(1, days + 1):
        sm, slo, shi = ci95([c["seamline"]["carry"].get(d, math.nan) for c in cases])
        om_, olo_, ohi_ = ci95([c["oracle"]["carry"].get(d, math.nan) for c in cases])
        carry_by_day.append(round(sm, 4))
        oracle_carry_by_day.append(round(om_, 4))
        print(
            f"station lists with the floor's carry-on (floor_check.carry_cycle), day {d}: seamline {sm:.3f}"
            f" [{slo:.3f}, {shi:.3f}], the oracle policy {om_:.3f} [{olo_:.3f}, {ohi_:.3f}]"
        )
    # The floor: whole garments of work per hour with each plan held fixed on the same replayed
    # day, seamline's plan ÷ the truth's optimum plan; and which model figure it agrees with.
    floor_by_day: list[float] = []
    oracle_floor_by_day: list[float] = []
    packed_floor_by_day: list[float] = []
    floor_of_model: dict[str, list[float]] = {"seamline": [], "oracle": [], "optimum": []}
    for d in range(1, floor_days + 1):
        rows = [c for c in cases if d in c["floor"] and c["floor"][d]["optimum"] > 0]
        fm_, flo_, fhi_ = ci95([c["floor"][d]["seamline"] / c["floor"][d]["optimum"] for c in rows])
        om2, olo2, ohi2 = ci95([c["floor"][d]["oracle"] / c["floor"][d]["optimum"] for c in rows])
        pm2, _, _ = ci95(
            [
                c["floor"][d]["seamline_packed"] / c["floor"][d]["optimum_packed"]
                for c in rows
                if c["floor"][d]["optimum_packed"] > 0
            ]
        )
        floor_by_day.append(round(fm_, 4))
        oracle_floor_by_day.append(round(om2, 4))
        packed_floor_by_day.append(round(pm2, 4))
        of_model = {
            k: ci95([c["floor"][d][k] / c["floor"][d]["model_optimum"] for c in rows])[0] for k in floor_of_model
        }
        for k, v in of_model.items():
            floor_of_model[k].append(round(v, 4))
        dfix = ci95([c["floor"][d]["seamline"] / c["floor"][d]["optimum"] - c["seamline"]["quality"][d] for c in rows])
        dlist = ci95([c["floor"][d]["seamline"] / c["floor"][d]["optimum"] - c["seamline"]["list"][d] for c in rows])
        print(
            f"floor (plan held fixed, whole garments/h), day {d}: seamline ÷ optimum plan {fm_:.3f}"
            f" [{flo_:.3f}, {fhi_:.3f}], oracle ÷ optimum plan {om2:.3f} [{olo2:.3f}, {ohi2:.3f}];"
            f" packed garments seamline ÷ optimum {pm2:.3f}; of the model's optimum rate: seamline"
            f" {of_model['seamline']:.3f}, oracle {of_model['oracle']:.3f}, optimum plan {of_model['optimum']:.3f};"
            f" floor − fixed-share figure {dfix[0]:+.3f} [{dfix[1]:+.3f}, {dfix[2]:+.3f}],"
            f" floor − list figure {dlist[0]:+.3f} [{dlist[1]:+.3f}, {dlist[2]:+.3f}] over {len(rows)} cases"
        )
    # Which model the floor agrees with: per case and plan, the model's seamline ÷ optimum-plan ratio
    # against the floor's (mean absolute difference), and the floor's rate ÷ the model's for a plan.
    agreement: dict[str, list[float]] = {m: [] for m in MODELS}
    realised: dict[str, list[float]] = {m: [] for m in MODELS}
    for d in range(1, floor_days + 1):
        rows = [c for c in cases if d in c["floor"] and c["floor"][d]["optimum"] > 0]
        line = []
        for m in MODELS:
            diffs, ratios = [], []
            for c in rows:
                f, mod = c["floor"][d], c["floor"][d]["model"]
                if mod["optimum"][m] > 0:
                    diffs.append(abs(f["seamline"] / f["optimum"] - mod["seamline"][m] / mod["optimum"][m]))
                ratios += [f[k] / mod[k][m] for k in mod if mod[k][m] > 0 and not math.isnan(f[k])]
            agreement[m].append(round(statistics.fmean(diffs), 4) if diffs else math.nan)
            realised[m].append(round(statistics.fmean(ratios), 4) if ratios else math.nan)
            rm_, rlo_, rhi_ = ci95(ratios)
            line.append(
                f"{m}: |floor − model| of seamline ÷ optimum plan {agreement[m][-1]:.3f},"
                f" floor ÷ model rate {rm_:.3f} [{rlo_:.3f}, {rhi_:.3f}]"
            )
        print(f"floor against the models, day {d}: " + "; ".join(line))

    # The goal: "learned efficiencies reach the oracle's balance quality within 2 working days".
    # Three readings, strictest first: against the truth's optimum of the plain share LP (a plan
    # no policy hands out: the oracle's own day plans are at 0.99 of it), against the oracle
    # policy's day plan on the shares, and against it on the station lists the floor receives
    # (what a free station actually follows; docs/closed-loop.md, "What the floor receives").
    def first_day(by_day: list[float]) -> int | None:
        return next((d for d, q in enumerate(by_day, start=1) if q >= QUALITY_REACHED), None)

    reached = first_day(quality["quality"])
    reached_shares = first_day(vs_oracle_by_day)
    reached_lists = first_day(list_vs_oracle_by_day)
    print(
        f"learned balance reaches {QUALITY_REACHED:.2f} (goal: by day 2): of the truth's share optimum on day"
        f" {reached}; of the oracle policy's plan on the shares on day {reached_shares}, on the station"
        f" lists on day {reached_lists}"
    )
    base_eff = statistics.fmean(c["baseline"]["eff"] for c in cases) * 100
    print(
        json.dumps(
            {
                "seeds": seeds,
                "styles": [s for s, _ in STYLES],
                "uplift_mean": round(um, 4),
                "uplift_ci95_low": round(ulo, 4),
                "oracle_ratio": round(om, 4),
                "small_order_lead_ratio": round(lm, 4),
                "large_order_lead_ratio": round(bm, 4),
                "wip_ratio": round(wm, 4),
                "baseline_line_eff_pct": round(base_eff, 2),
                "balance_quality_by_day": quality["quality"],
                "balance_quality_ss_by_day": quality["quality_ss"],
                "balance_reached_day": reached,
                "oracle_quality_reached_day_shares": reached_shares,
                "oracle_quality_reached_day_lists": reached_lists,
                "fresh_balance_quality_by_day": fresh_by_day,
                "fresh_lcb_balance_quality_by_day": lcb_by_day,
                "quality_vs_oracle_by_day": vs_oracle_by_day,
                "list_quality_by_day": list_by_day,
                "oracle_list_quality_by_day": oracle_list_by_day,
                "list_quality_vs_oracle_by_day": list_vs_oracle_by_day,
                "carry_quality_by_day": carry_by_day,
                "oracle_carry_quality_by_day": oracle_carry_by_day,
                "floor_quality_by_day": floor_by_day,
                "oracle_floor_quality_by_day": oracle_floor_by_day,
                "floor_packed_quality_by_day": packed_floor_by_day,
                "floor_of_model_optimum_by_day": floor_of_model,
                "floor_model_gap_by_day": agreement,
                "floor_of_model_rate_by_day": realised,
                "seed_offset": a.seed_offset,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
