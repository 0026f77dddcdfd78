"""DHU estimated from events against the truth that produced them.

1. The simulator (seamline.sim): every sewn piece is defective with the worker's true rate for
   that operation; the aggregator only sees the sensor events. Its DHU per operation and per
   worker must match the piece-weighted true rate within a binomial tolerance, and its defect
   counts must equal the truth's exactly.
2. A plain Bernoulli check with numpy, independent of the simulator's model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import msgspec
import numpy as np
import pytest

from seamline.domain.events import Defect, Login, Piece, decode_event, parse_topic
from seamline.quality.dhu import DhuAggregator
from seamline.sim import SimConfig, simulate

from .layouts import MONDAY_8, tee_factory

Z_MAX = 4.0  # |z| per group; with ~50 groups a 4-sigma miss has odds of ~1 in 300 000 per group


@pytest.fixture(scope="module")
def sim_run():  # type: ignore[no-untyped-def]
    layout = tee_factory(3, qty=3000)
    # Two shifts of three lines, defects made common enough to measure (mean true rate 5 %).
    res = simulate(layout, SimConfig(seed=11, start=MONDAY_8, hours=33, defect_rate_mean=0.05))
    agg = DhuAggregator(layout)
    for topic, payload, _ in res.events:
        factory, station = parse_topic(topic)
        agg.apply(msgspec.structs.replace(decode_event(payload), factory=factory, station=station))
    return layout, res, agg


def test_defect_counts_equal_the_truth(sim_run) -> None:  # type: ignore[no-untyped-def]
    _, res, agg = sim_run
    fields = res.truth["piece_fields"]
    wi, oi, di = fields.index("worker"), fields.index("op"), fields.index("defect")
    truth_defects: dict[tuple[str, str], int] = defaultdict(int)
    for p in res.truth["pieces"]:
        if p[di]:
            truth_defects[(p[wi], p[oi])] += 1
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for d in agg.defects:
        seen[(d.made_by, d.op)] += d.qty
    assert sum(truth_defects.values()) > 300
    assert seen == truth_defects
    # pieces checked = pieces sewn plus the sensor's double counts, nothing else
    snap = agg.snapshot()
    assert snap.total.pieces == len(res.truth["pieces"]) + len(res.truth["duplicates"])


def _z(observed: int, probs: list[float]) -> float:
    mean = sum(probs)
    var = sum(p * (1 - p) for p in probs)
    return (observed - mean) / math.sqrt(var) if var > 0 else 0.0


def test_dhu_matches_true_rates(sim_run) -> None:  # type: ignore[no-untyped-def]
    _, res, agg = sim_run
    rate = {(s["worker"], s["style"], s["op"]): s["defect_rate"] for s in res.truth["skills"]}
    fields = res.truth["piece_fields"]
    wi, si, oi = fields.index("worker"), fields.index("style"), fields.index("op")
    by_op: dict[str, list[float]] = defaultdict(list)
    by_worker: dict[str, list[float]] = defaultdict(list)
    for p in res.truth["pieces"]:
        r = rate[(p[wi], p[si], p[oi])]
        by_op[f"{p[si]}:{p[oi]}"].append(r)
        by_worker[p[wi]].append(r)
    snap = agg.snapshot()
    worst = 0.0
    for scope, groups in (("operation", by_op), ("worker", by_worker)):
        for key, probs in groups.items():
            tally = snap.by[scope][key]
            true_dhu = 100.0 * sum(probs) / len(probs)
            est = tally.dhu
            assert est is not None
            z = _z(tally.defects, probs)
            worst = max(worst, abs(z))
            assert abs(z) < Z_MAX, (scope, key, est, true_dhu, z)
            # and in DHU units: within 4 binomial standard errors (plus the double-count dilution)
            se = 100.0 * math.sqrt(sum(p * (1 - p) for p in probs)) / len(probs)
            assert abs(est - true_dhu) <= Z_MAX * se + 0.01 * true_dhu, (scope, key)
    total_probs = [p for ps in by_op.values() for p in ps]
    assert abs(_z(snap.total.defects, total_probs)) < Z_MAX
    assert worst > 0.0  # the comparison really ran


def test_bernoulli_rates_by_numpy() -> None:
    """Known per-worker rates, Bernoulli defects, events fed one by one: DHU within 4 SE of truth."""
    layout = tee_factory(1)
    rng = np.random.default_rng(7)
    workers = [f"W1{i:02d}" for i in range(1, 9)]
    stations = [f"L1-S{i:02d}" for i in range(1, 9)]
    ops = [op.code for op in layout.styles["TEE"].operations]
    true_rate = dict(zip(workers, [0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2], strict=True))
    agg = DhuAggregator(layout)
    n = 0
    for w, s in zip(workers, stations, strict=True):
        agg.apply(Login(id=f"l{w}", seq=0, ts=MONDAY_8, factory="F1", station=s, worker=w))
    pieces = 2000
    defects_made = defaultdict(int)
    for w, s, op in zip(workers, stations, ops, strict=True):
        flags = rng.random(pieces) < true_rate[w]
        for k, bad in enumerate(flags):
            ts = MONDAY_8 + timedelta(seconds=10 * k + 1)
            bundle = f"O1-{k // 10 + 1:04d}"
            n += 1
            agg.apply(Piece(id=f"p{n}", seq=n, ts=ts, factory="F1", station=s, bundle=bundle, op=op))
            if bad:
                defects_made[w] += 1
                agg.apply(
                    Defect(
                        id=f"d{n}", seq=n, ts=ts, factory="F1", station=s, bundle=bundle, op=op, defect="SKIP_STITCH"
                    )
                )
    snap = agg.snapshot()
    for w, p in true_rate.items():
        t = snap.by["worker"][w]
        assert t.pieces == pieces and t.defects == defects_made[w]
        se = 100.0 * math.sqrt(p * (1 - p) / pieces)
        assert abs(t.dhu - 100.0 * p) < Z_MAX * se, (w, t.dhu, p)
