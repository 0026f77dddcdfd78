"""Against the simulator's ground truth, on one simulated day of the sample factory (a few seconds)."""

from __future__ import annotations

import statistics
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from seamline.adapters.layout_files import load_factory
from seamline.domain.events import decode_event, parse_topic
from seamline.learning.state import LearningState
from seamline.sim import SimConfig, simulate
from tests.conftest import REPO


@pytest.fixture(scope="module")
def fed():
    layout = load_factory(REPO / "examples" / "factory")
    start = datetime(2026, 11, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    res = simulate(layout, SimConfig(seed=5, start=start, hours=10.0, double_count_rate=0.01))
    state = LearningState({layout.factory.id: layout})
    for topic, payload, _ in res.events:
        ev = decode_event(payload)
        ev.factory, ev.station = parse_topic(topic)
        state.apply(ev)
    return state, res.truth


def test_double_counts_are_found_and_pieces_match_the_truth(fed):
    state, truth = fed
    found = sum(c.n_double for c in state.cells.values())
    dups = len(truth["duplicates"])
    assert dups >= 20
    # a double count right after a defect comes after the rework and looks like a fast piece
    assert 0.85 * dups <= found <= dups
    counts = {(p["worker"], p["style"], p["op"]): p["pieces"] for p in truth["piece_counts"]}
    off = [abs(c.n_pieces - counts[(c.worker, c.style, c.op)]) for c in state.cells.values()]
    assert max(off) <= 2


def test_steady_cells_are_estimated_within_a_few_percent(fed):
    state, truth = fed
    skills = {(s["worker"], s["style"], s["op"]): s for s in truth["skills"]}
    state.refresh_priors(force=True)
    errs = []
    for c in state.cells.values():
        sk = skills[(c.worker, c.style, c.op)]
        if sk["learning"] is None and c.n_cycles >= 50:
            errs.append(abs(state.estimate(c).efficiency / sk["eff_ss"] - 1.0))
    assert len(errs) >= 30
    assert statistics.median(errs) < 0.04
    assert max(errs) < 0.2


def _gain(sk: dict, n: int, ahead: int = 100) -> float:
    lr = sk["learning"]
    if lr is None:
        return 0.0
    g = lambda k: (k + lr["p"]) / (k + lr["p"] + lr["r"])  # noqa: E731 - the simulator's truth
    return g(n + ahead) / g(n) - 1.0


def test_trend_follows_the_true_gain_of_the_next_100_pieces(fed):
    state, truth = fed
    skills = {(s["worker"], s["style"], s["op"]): s for s in truth["skills"]}
    ramping, flat, errs = [], [], []
    for c in state.cells.values():
        if c.n_cycles < 40:
            continue
        sk = skills[(c.worker, c.style, c.op)]
        true_gain = _gain(sk, c.n_pieces)
        est = state.estimate(c)
        assert c.curve is not None
        pred_gain = c.curve.efficiency(c.n_pieces + 100)[0] / est.efficiency - 1.0
        errs.append(abs(pred_gain - true_gain))
        if true_gain > 0.06:
            ramping.append(est.trend == "learning")
        elif sk["learning"] is None:
            flat.append(est.trend == "steady")
    assert len(ramping) >= 8 and len(flat) >= 30
    assert sum(ramping) >= 0.8 * len(ramping)
    assert sum(flat) >= 0.9 * len(flat)
    assert statistics.median(errs) < 0.02
