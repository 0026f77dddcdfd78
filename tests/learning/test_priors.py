"""Empirical-Bayes shrinkage targets: group and operation effects, leave-one-out."""

from __future__ import annotations

import math
import random

import pytest

from seamline.learning.priors import DEFAULT_LOG_EFF, DEFAULT_SD, PriorInput, fit_priors

GROUP = {"trainee": math.log(0.6), "regular": math.log(0.8), "senior": math.log(1.0)}
OP = {f"OP{i}": d for i, d in enumerate((-0.1, -0.05, 0.0, 0.05, 0.1))}


def cells(seed: int = 1, drop: tuple[str, str] | None = None) -> list[PriorInput]:
    rng = random.Random(seed)
    out = []
    for g, gm in GROUP.items():
        for w in range(8):
            worker = f"{g}-{w}"
            knack = rng.gauss(0.0, 0.05)
            for op, om in OP.items():
                if (worker, op) == drop:
                    continue
                y = gm + om + knack + rng.gauss(0.0, 0.03)
                out.append(PriorInput((worker, op), op, g, worker, y, 0.02**2))
    return out


def test_no_cells_gives_the_trade_default():
    m = fit_priors([])
    assert m.prior("k", "OP1", "g", "w") == (DEFAULT_LOG_EFF, DEFAULT_SD)


def test_an_unseen_pair_gets_its_group_and_operation():
    model = fit_priors(cells(drop=("senior-3", "OP4")))
    m, sd = model.prior(("senior-3", "OP4"), "OP4", "senior", "senior-3")
    assert m == pytest.approx(GROUP["senior"] + OP["OP4"], abs=0.06)
    assert sd < 0.1  # the residual spread is small: the prior is confident
    # a brand-new worker of a group: group + operation, no knack
    m2, _ = model.prior(("new", "OP0"), "OP0", "trainee", "new")
    assert m2 == pytest.approx(GROUP["trainee"] + OP["OP0"], abs=0.06)


def test_a_cell_is_left_out_of_its_own_prior():
    data = cells()
    # one cell far off its group: its own prior must not follow it
    data.append(PriorInput(("loner", "OPX"), "OPX", "regular", "loner", math.log(1.6), 0.02**2))
    model = fit_priors(data)
    m, _ = model.prior(("loner", "OPX"), "OPX", "regular", "loner")
    assert m == pytest.approx(GROUP["regular"], abs=0.08)
    m_in, _ = model.prior(None, "OPX", "regular", "loner")  # everyone else sees the loner's data
    assert m_in > m + 0.1


def graded_cells(grades: tuple[int, ...], seed: int = 2) -> list[PriorInput]:
    """Workers of one skill group whose log efficiency rises by 0.15 a grade (as operator grading
    schemes do), each with a knack, on five operations."""
    rng = random.Random(seed)
    out = []
    for w in range(12):
        worker = f"w{w}"
        knack = rng.gauss(0.0, 0.05)
        for i, (op, om) in enumerate(OP.items()):
            g = grades[(w + i) % len(grades)]
            y = math.log(0.85) + 0.15 * (g - 3) + om + knack + rng.gauss(0.0, 0.05)
            out.append(PriorInput((worker, op), op, ("regular", g), worker, y, 0.02**2, float(g)))
    return out


def test_a_grade_nobody_has_shown_follows_the_grades_that_have():
    # Only grades 3-5 were ever observed (a line sews what its people are good at): a grade-1 pair
    # must not get the line's average, which is what a categorical group seen zero times gives.
    model = fit_priors(graded_cells((3, 4, 5)))
    m1, _ = model.prior(None, "OP2", ("regular", 1), "w0", 1.0)
    truth1 = math.log(0.85) + 0.15 * (1 - 3) + model.worker.value("w0", model.ridge)
    assert m1 == pytest.approx(truth1, abs=0.08)
    m4, _ = model.prior(None, "OP2", ("regular", 4), "w0", 4.0)
    assert m4 - m1 > 0.3  # three grades apart: ~0.45 in log efficiency
    assert model.slope == pytest.approx(0.15, abs=0.05)


def test_the_grade_slope_is_never_negative():
    data = [
        PriorInput((f"w{i}", "OP1"), "OP1", ("g", g), f"w{i}", math.log(1.0 - 0.05 * g), 0.02**2, float(g))
        for i, g in enumerate((1, 2, 3, 4, 5, 1, 2, 3, 4, 5))
    ]
    model = fit_priors(data)
    assert model.slope == 0.0
    # cells without a grade (a badge the layout lacks) still fit, with no grade term
    plain = fit_priors([PriorInput(("a", "OP1"), "OP1", "g", "a", math.log(0.8), 0.02**2)] * 6)
    assert plain.slope == 0.0
    assert plain.prior(None, "OP1", "g", "a", None)[0] == pytest.approx(math.log(0.8), abs=0.05)


def test_guessed_levels_do_not_tilt_the_grade_line():
    # Steady cells on a line of 0.15 a grade, known to ±0.02; grade-1 learners whose steady state
    # was read off a short ramp (too low by 0.4, known to ±0.3): the line must follow the first.
    data = graded_cells((1, 2, 3, 4, 5))
    data += [
        PriorInput((f"l{i}", "OP1"), "OP1", ("regular", 1), f"l{i}", math.log(0.85) - 0.3 - 0.4, 0.3**2, 1.0)
        for i in range(20)
    ]
    assert fit_priors(data).slope == pytest.approx(0.15, abs=0.03)


def test_the_prior_spread_is_its_error_on_pairs_it_has_not_seen():
    """τ is measured on leave-one-out priors: with a few cells per operation the effects soak up
    part of each cell's own deviation, and the in-sample residual said τ ≈ half the truth."""
    rng = random.Random(7)
    true_sd = 0.15
    cells = []
    for op in range(12):
        op_eff = rng.gauss(0.0, 0.1)
        for w in range(3):
            y = math.log(0.8) + op_eff + 0.05 * (w - 1) + rng.gauss(0.0, true_sd)
            cells.append(PriorInput(("c", op, w), ("op", op), ("g", 1), ("w", w), y, 0.0004, None))
    model = fit_priors(cells)
    loo = [c.log_eff - model.prior(c.key, c.op, c.group, c.worker)[0] for c in cells]
    loo_sd = math.sqrt(sum(r * r for r in loo) / len(loo))
    assert model.sd == pytest.approx(loo_sd, rel=0.05)
    assert model.sd > 0.8 * true_sd


def knack_cells(knack_sd: float, seed: int = 3) -> tuple[list[PriorInput], dict[str, float]]:
    """Workers of one group, each seen on two of five operations (a line keeps people on their
    own work), their log efficiency = group + operation + the worker's knack + the pair's own 0.05."""
    rng = random.Random(seed)
    out, knacks = [], {}
    ops = list(OP)
    for w in range(30):
        worker = f"w{w}"
        knacks[worker] = knack = rng.gauss(0.0, knack_sd)
        for op in (ops[w % 5], ops[(w + 2) % 5]):
            y = GROUP["regular"] + OP[op] + knack + rng.gauss(0.0, 0.05)
            out.append(PriorInput((worker, op), op, "regular", worker, y, 0.02**2))
    return out, knacks


def test_a_workers_knack_carries_to_her_next_operation_as_far_as_knacks_differ():
    """People differ (knack sd 0.15), pairs little (0.05): a worker seen on two operations tells
    most of her third. A fixed ridge of 3 pseudo-cells kept only 2/5 of it (the closed-loop twin's
    knacks, true spread 0.10, were fitted at 0.03); the ridge is now measured from the data."""
    data, knacks = knack_cells(0.15)
    model = fit_priors(data)
    errs = []
    for w, k in knacks.items():
        unseen = next(op for op in OP if op not in {d.op for d in data if d.worker == w})
        m, _ = model.prior(None, unseen, "regular", w)
        errs.append(m - (GROUP["regular"] + OP[unseen] + k))
    rms = math.sqrt(sum(e * e for e in errs) / len(errs))
    assert rms < 0.095  # ridge 3: 0.115 (3/5 of each knack left out)
    assert model.sd_worker == pytest.approx(0.15, abs=0.05)
    # no knacks at all: the same estimator shrinks them to nothing instead
    flat, _ = knack_cells(0.0)
    model0 = fit_priors(flat)
    assert model0.ridge_worker > 5.0
    assert max(abs(model0.worker.value(w, model0.ridge_worker)) for w in knacks) < 0.03
