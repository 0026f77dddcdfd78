"""Learning curves on hand-made ramps: the model must beat the running mean on new operations."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from seamline.learning.curves import GRID, fit_curve
from seamline.learning.state import Cell, estimate_cell

from .builders import SAM_S, lognormal_cycles

PRIOR = (math.log(0.85), 0.15)


def ramp_cell(eff, n_pieces: int, seed: int, sigma: float = 0.2) -> Cell:
    cell = Cell("f1", "W1", "HEM", "OP1", SAM_S, "SNLS")
    cycles = lognormal_cycles([SAM_S / eff(n) for n in range(n_pieces)], sigma, seed)
    for n, c in enumerate(cycles):
        cell.add_cycle(n, c)
        cell.n_pieces += 1
    return cell


def block(eff, n0: int, k: int) -> float:
    return k / sum(1.0 / eff(n) for n in range(n0, n0 + k))


def hyperbolic(n: float) -> float:
    return 0.9 * (n + 30.0) / (n + 90.0)


def exponential(n: float) -> float:
    return 0.95 * (1.0 - 0.55 * math.exp(-n / 45.0))


def power_with_plateau(n: float) -> float:
    return 1.0 * min(1.0, ((n + 1.0) / 400.0) ** 0.2)


@pytest.mark.parametrize("eff", [hyperbolic, exponential, power_with_plateau], ids=lambda f: f.__name__)
def test_curve_beats_running_mean_on_the_next_50_pieces(eff):
    model_err, naive_err = [], []
    for seed in range(12):
        cell = ramp_cell(eff, 30, seed)
        est, _ = estimate_cell(cell, PRIOR, 0.2)
        truth = block(eff, 30, 50)
        running = 30 * SAM_S / sum(math.exp(y) for y in cell.logs)
        model_err.append(abs(est.forecast_next / truth - 1.0))
        naive_err.append(abs(running / truth - 1.0))
        assert est.trend == "learning" or seed > 6 or eff is power_with_plateau
    assert statistics.median(model_err) < statistics.median(naive_err)
    assert statistics.median(model_err) < 0.15


def test_a_long_ramp_is_learned_and_its_plateau_found():
    cell = ramp_cell(hyperbolic, 600, 3)
    est, fit = estimate_cell(cell, PRIOR, 0.2)
    assert est.efficiency == pytest.approx(hyperbolic(600), rel=0.05)
    assert est.steady_state == pytest.approx(0.9, rel=0.12)
    assert est.p_learning > 0.95
    assert fit.family_weights()["flat"] < 0.05


def test_a_steady_worker_is_called_steady():
    cell = ramp_cell(lambda n: 0.8, 300, 5)
    est, _ = estimate_cell(cell, PRIOR, 0.2)
    assert est.trend == "steady"
    assert est.efficiency == pytest.approx(0.8, rel=0.04)
    assert est.lo < 0.8 < est.hi
    assert est.confidence == "high"


def test_no_pieces_gives_the_prior_and_few_pieces_shrink_toward_it():
    empty = Cell("f1", "W1", "HEM", "OP1", SAM_S, "SNLS")
    est0, _ = estimate_cell(empty, (math.log(0.6), 0.1), 0.2)
    assert est0.steady_state == pytest.approx(0.6, rel=0.02)
    assert est0.confidence == "low"
    # three pieces at 100 %: the estimate moves from the prior toward 1.0 but not all the way
    few = ramp_cell(lambda n: 1.0, 3, 1, sigma=0.01)
    est3, _ = estimate_cell(few, (math.log(0.6), 0.1), 0.2)
    assert 0.6 < est3.steady_state < 0.95
    many = ramp_cell(lambda n: 1.0, 200, 1, sigma=0.05)
    est200, _ = estimate_cell(many, (math.log(0.6), 0.1), 0.2)
    assert est200.efficiency == pytest.approx(1.0, rel=0.03)


def test_outliers_do_not_drag_the_estimate():
    cell = ramp_cell(lambda n: 0.8, 100, 9)
    for i in range(0, 100, 10):  # every tenth cycle 2.8 times too long (below the interruption cap)
        cell.logs[i] += math.log(2.8)
    est, _ = estimate_cell(cell, PRIOR, 0.2)
    assert est.efficiency == pytest.approx(0.8, rel=0.06)


def test_fit_weights_are_a_distribution_and_flat_data_prefer_flat():
    n = np.arange(200.0)
    z = np.full(200, math.log(0.8))
    fit = fit_curve(n, z, np.ones(200), 0.1, math.log(0.8), 0.2)
    assert fit.weights.sum() == pytest.approx(1.0)
    assert len(fit.weights) == len(GRID)
    # with exactly flat data every curve that is flat over n >= 0 fits equally; the ramps do not
    assert fit.efficiency(100.0)[0] == pytest.approx(0.8, rel=0.01)
    assert fit.family_weights()["hyperbolic"] < 0.2


def test_the_factory_learns_its_curve_shapes_and_new_cells_benefit():
    from seamline.learning.curves import FLAT
    from seamline.learning.state import LearningState
    from tests.conftest import tiny_layout

    st = LearningState({"f1": tiny_layout()})
    for i in range(14):  # fourteen workers who all learned OP1 along the same hyperbolic curve
        c = ramp_cell(hyperbolic, 300, 100 + i)
        c.worker = f"M{i}"
        st.cells[c.key] = c
    st.refresh_priors(force=True)
    st.estimates(st.cells.values())
    st.refresh_priors(force=True)
    assert st._shape_sum is not None and len(st._shape_own) == 14
    newcomer = Cell("f1", "NEW", "HEM", "OP1", SAM_S, "SNLS")
    learned = st.grid_for(newcomer)
    flat_mass = lambda g: float(np.exp(g.log_prior)[g.family == FLAT].sum())  # noqa: E731
    assert flat_mass(learned) < 0.55 * flat_mass(GRID)  # half the prior is learned, and nobody was flat
    mature = next(iter(st.cells.values()))
    assert not np.allclose(st.grid_for(mature).log_prior, learned.log_prior)  # left out of its own prior
    base_err, learned_err = [], []
    truth = block(hyperbolic, 30, 50)
    for seed in range(10):
        cell = ramp_cell(hyperbolic, 30, seed)
        base_err.append(abs(estimate_cell(cell, PRIOR, 0.2, GRID)[0].forecast_next / truth - 1.0))
        learned_err.append(abs(estimate_cell(cell, PRIOR, 0.2, learned)[0].forecast_next / truth - 1.0))
    assert statistics.median(learned_err) < statistics.median(base_err)
