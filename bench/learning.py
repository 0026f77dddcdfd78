"""Benchmark of seamline.learning against the simulator's ground truth.

Runs the sample factory (120 workers, three styles) for several simulated days with a fixed seed,
feeds every event through the learning state exactly as ingest would, and compares:

- ``mdape_pct``: median |estimate − truth| / truth of each worker × operation's efficiency after
  its first 30 pieces (truth: the simulator's efficiency at piece 30, which is the steady state for
  cells that are not learning);
- ``curve_mdape_pct`` vs ``naive_curve_mdape_pct``: on operations new to the worker, the error of
  predicting the efficiency over the next 50 pieces (earned ÷ attended over those pieces) from the
  first 30, by the learning-curve model and by the running mean of what was seen so far;
- ``update_ms_per_1000_events``: the per-event cost of ``LearningState.apply`` on synthetic events
  of a 2,000-worker factory, with a bare loop over the same events measured in the same run.

The last line printed is one JSON object with those four figures. Usage:
    .venv/bin/python bench/learning.py [--days 5] [--seed 7] [--quick: 2 days, 200 workers]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from seamline.adapters.layout_files import load_factory
from seamline.domain.events import BundleIn, BundleOut, Login, Piece, decode_event, parse_topic
from seamline.domain.model import Factory, FactoryLayout, Line, Operation, Order, Station, Style, Worker
from seamline.learning.state import LearningState
from seamline.sim import SimConfig, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, add_quick

N0 = 30
HORIZON = 50


def true_eff(skill: dict, n: float) -> float:
    lr = skill["learning"]
    if lr is None:
        return skill["eff_ss"]
    return skill["eff_ss"] * (n + lr["p"]) / (n + lr["p"] + lr["r"])


def accuracy(days: float, seed: int, cycle_sigma: float = 0.2, double_rate: float = 0.002) -> dict[str, float]:
    layout = load_factory(REPO / "examples" / "factory")
    start = datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    t0 = time.perf_counter()
    cfg = SimConfig(seed=seed, start=start, hours=24.0 * days, cycle_sigma=cycle_sigma, double_count_rate=double_rate)
    res = simulate(layout, cfg)
    t_sim = time.perf_counter() - t0
    state = LearningState({layout.factory.id: layout})
    t0 = time.perf_counter()
    for topic, payload, _ts in res.events:
        ev = decode_event(payload)
        ev.factory, ev.station = parse_topic(topic)
        state.apply(ev)
    t_feed = time.perf_counter() - t0
    t0 = time.perf_counter()
    # Two rounds: the first fits give learning cells a steady-state level for the priors.
    state.refresh_priors(force=True)
    state.estimates(state.cells.values())
    state.refresh_priors(force=True)
    state.estimates(state.cells.values())
    t_fit = time.perf_counter() - t0
    truth = {(s["worker"], s["style"], s["op"]): s for s in res.truth["skills"]}
    ape, ape_steady, ape_learn, ape_recent = [], [], [], []
    curve, naive = [], []
    for cell in state.cells.values():
        sk = truth.get((cell.worker, cell.style, cell.op))
        if sk is None or cell.n_pieces < N0:
            continue
        est = state.estimate(cell, upto_n=N0)
        true = true_eff(sk, N0)
        e = abs(est.efficiency / true - 1.0) * 100.0
        ape.append(e)
        (ape_learn if sk["learning"] else ape_steady).append(e)
        if est.recent_efficiency is not None:
            ape_recent.append(abs(est.recent_efficiency / true - 1.0) * 100.0)
        if sk["learning"] is None or cell.n_pieces < N0 + HORIZON:
            continue
        block = HORIZON / sum(1.0 / true_eff(sk, n) for n in range(N0, N0 + HORIZON))
        seen = [(n, y) for n, y in zip(cell.ns, cell.logs, strict=True) if n < N0]
        if not seen:
            continue
        running = len(seen) * cell.sam_s / sum(math.exp(y) for _, y in seen)
        curve.append(abs(est.forecast_next / block - 1.0) * 100.0)
        naive.append(abs(running / block - 1.0) * 100.0)
    workers = {c.worker for c in state.cells.values()}
    styles = {c.style for c in state.cells.values()}
    print(
        f"# simulated {days:g} days, seed {seed}, cycle σ {cycle_sigma:g}, double counts {double_rate:g}: "
        f"{len(res.events)} events in {t_sim:.1f} s; fed in {t_feed:.2f} s; "
        f"fitted {len(state.cells)} cells in {t_fit:.2f} s; {len(workers)} workers, styles {sorted(styles)}",
        file=sys.stderr,
    )
    print(
        f"# mdape after {N0} pieces: all {statistics.median(ape):.2f} % (n={len(ape)}), steady "
        f"{statistics.median(ape_steady):.2f} % (n={len(ape_steady)}), learning {statistics.median(ape_learn):.2f} % "
        f"(n={len(ape_learn)}); robust recent level without prior or curve {statistics.median(ape_recent):.2f} %",
        file=sys.stderr,
    )
    print(
        f"# next {HORIZON} pieces on new operations (n={len(curve)}): curve {statistics.median(curve):.2f} %, "
        f"running mean {statistics.median(naive):.2f} %",
        file=sys.stderr,
    )
    return {
        "mdape_pct": round(statistics.median(ape), 3),
        "curve_mdape_pct": round(statistics.median(curve), 3),
        "naive_curve_mdape_pct": round(statistics.median(naive), 3),
    }


def synthetic_factory(n_workers: int) -> tuple[FactoryLayout, list]:
    """A 2,000-station factory and an hour of its events (logins, bundles, pieces), decoded."""
    fid = "big"
    lay = FactoryLayout(factory=Factory(fid, "Synthetic", "Asia/Shanghai"))
    ops = tuple(Operation(f"O{i:02d}", f"工序{i}", f"op {i}", 0.3 + 0.05 * (i % 10), "SNLS") for i in range(20))
    style = Style("S", "款", "style", ops, bundle_size=20)
    lay.styles["S"] = style
    order = Order("O1", "c", "S", {("M", "Black"): 10**6}, due=datetime(2027, 1, 1).date())
    lay.orders["O1"] = order
    from seamline.domain.model import Bundle

    events = []
    start = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    n_lines = max(1, n_workers // 50)
    for i in range(n_lines):
        lay.lines[f"L{i}"] = Line(f"L{i}", fid, f"line {i}")
    per_station = []
    for i in range(n_workers):
        sid, badge, line = f"S{i:04d}", f"W{i:04d}", f"L{i // 50}"
        lay.stations[sid] = Station(sid, fid, line, f"SEN{i}", "SNLS", i % 50)
        lay.workers[badge] = Worker(badge, badge, line, {"SNLS": 1 + i % 5}, skill_group="regular")
        seq = [Login(id=f"{sid}-l", seq=0, ts=start, worker=badge, factory=fid, station=sid)]
        op = ops[i % len(ops)]
        t = start
        for b in range(3):
            bid = f"B{i}-{b}"
            lay.bundles[bid] = Bundle(bid, "O1", "M", "Black", 20)
            seq.append(BundleIn(id=f"{sid}-bi{b}", seq=0, ts=t, bundle=bid, factory=fid, station=sid))
            for k in range(20):
                t = t + timedelta(seconds=op.sam_min * 60 / 0.8 * (0.8 + 0.4 * ((k * 7919 + i) % 11) / 10))
                seq.append(Piece(id=f"{sid}-p{b}-{k}", seq=0, ts=t, bundle=bid, op=op.code, factory=fid, station=sid))
            seq.append(BundleOut(id=f"{sid}-bo{b}", seq=0, ts=t, bundle=bid, factory=fid, station=sid))
        per_station.append(seq)
    # Interleave stations the way a live feed does: ordered by time.
    for seq in per_station:
        events.extend(seq)
    events.sort(key=lambda e: e.ts)
    return lay, events


def speed(n_workers: int = 2000, repeats: int = 3) -> dict[str, float]:
    lay, events = synthetic_factory(n_workers)

    def bare(evs: list) -> int:
        k = 0
        for ev in evs:
            if isinstance(ev, Piece):
                k += ev.qty
        return k

    best_apply = best_bare = math.inf
    for _ in range(repeats):
        state = LearningState({lay.factory.id: lay})
        t0 = time.perf_counter()
        for ev in events:
            state.apply(ev)
        best_apply = min(best_apply, time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare(events)
        best_bare = min(best_bare, time.perf_counter() - t0)
    n = len(events)
    ms = best_apply / n * 1000 * 1000
    cells = len(state.cells)
    t0 = time.perf_counter()
    state.estimates(state.cells.values())
    t_fit = time.perf_counter() - t0
    print(
        f"# speed: {n} events of {n_workers} workers; apply {ms:.2f} ms per 1000 events, bare loop "
        f"{best_bare / n * 1e6:.3f} ms per 1000 (ratio {best_apply / best_bare:.1f}x); full skill matrix of "
        f"{cells} cells fitted in {t_fit:.2f} s",
        file=sys.stderr,
    )
    return {"update_ms_per_1000_events": round(ms, 3), "update_vs_bare_loop_ratio": round(best_apply / best_bare, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2000)
    ap.add_argument("--cycle-sigma", type=float, default=0.2, help="log-σ of cycle times in the simulator")
    ap.add_argument("--double-rate", type=float, default=0.002, help="chance a piece is counted twice")
    add_quick(ap)
    args = ap.parse_args()
    if args.quick:
        args.days, args.workers = 2.0, 200
    out = accuracy(args.days, args.seed, args.cycle_sigma, args.double_rate)
    sp = speed(args.workers)
    print(json.dumps({**out, "update_ms_per_1000_events": sp["update_ms_per_1000_events"]}))


if __name__ == "__main__":
    main()
