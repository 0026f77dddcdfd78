"""What a balance counts on for each (worker, operation): one estimator, from no data to a lot.

The old policy switched hard from the prior to a cell's own curve at 5 cycles, took the posterior
*mean* efficiency (which overstates uncertain cells) and gave a pair nobody had sewn its steady
state. These tests pin the replacement: precision-weighted shrinkage at every count, SAM ÷
expected time, and a first-bundle gap learned per skill group.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from seamline.domain.model import FactoryLayout, Worker
from seamline.learning.priors import PriorModel
from seamline.learning.state import Cell, LearningState
from seamline.twin.policy.seamline import SeamlinePolicy
from tests.conftest import tiny_layout

from .builders import SAM_S, lognormal_cycles

POP_EFF = 0.9  # the population's steady state on OP1


def _layout(extra: dict[str, int]) -> FactoryLayout:
    lay = tiny_layout()
    for badge, grade in extra.items():
        lay.workers[badge] = Worker(badge, badge, "L1", {"SNLS": grade})
    return lay


def _cell(worker: str, effs: list[float], seed: int, start_n: int = 0) -> Cell:
    """A cell of OP1 whose n-th cycle has mean SAM ÷ effs[n] (log-normal noise σ = 0.2)."""
    cell = Cell("f1", worker, "HEM", "OP1", SAM_S, "SNLS")
    for i, c in enumerate(lognormal_cycles([SAM_S / e for e in effs], 0.2, seed)):
        cell.add_cycle(start_n + i, c)
        cell.n_pieces = start_n + i + 1
    return cell


def _population(first_bundle: float = 1.0, grade: int = 4, n: int = 12) -> tuple[LearningState, FactoryLayout]:
    """``n`` workers with 200 cycles each at about POP_EFF; their first bundle (50 pieces) at
    ``first_bundle`` × their steady state."""
    badges = {f"M{i}": grade for i in range(n)}
    lay = _layout({**badges, "NEW": grade})
    st = LearningState({"f1": lay})
    for i, b in enumerate(badges):
        own = POP_EFF * math.exp(0.05 * ((i % 5) - 2))
        c = _cell(b, [own * (first_bundle if k < 50 else 1.0) for k in range(200)], seed=10 + i)
        st.cells[c.key] = c
    st.refresh_priors(force=True)
    return st, lay


def _prior_mean(st: LearningState) -> float:
    """The old estimate of a pair without data: the prior's mean efficiency at steady state."""
    return st.prior_estimate("f1", "NEW", "HEM", "OP1")


def test_two_cycles_land_between_the_prior_and_the_data() -> None:
    st, _ = _population()
    prior = _prior_mean(st)
    # Faster than anyone: no learning curve explains that (a slow start would: a newcomer below
    # the prior is read as one at the start of her curve), so it is the level that is shrunk.
    c = _cell("NEW", [1.3, 1.3], seed=3)
    c.logs = [math.log(SAM_S / 1.3)] * 2
    st.cells[c.key] = c
    e = st.planning_efficiency("f1", "NEW", "HEM", "OP1", 1)
    assert prior < e < 1.3
    # two cycles of noise σ 0.2 weigh less than a prior fitted on twelve people: closer to it
    assert abs(math.log(e / prior)) < abs(math.log(e / 1.3))
    assert e > 1.02 * prior  # but the data do move it (the old rule ignored them below 5 cycles)


def test_many_cycles_follow_the_data() -> None:
    st, _ = _population()
    c = _cell("NEW", [0.55] * 300, seed=4)
    st.cells[c.key] = c
    e = st.planning_efficiency("f1", "NEW", "HEM", "OP1", 1)
    assert e == pytest.approx(0.55, rel=0.04)


def test_the_balance_is_given_sam_over_expected_time_not_the_mean_speed() -> None:
    """An untried pair: E[1/e] of a log-normal is above 1/E[e], so the figure is below the
    prior's mean efficiency, by about exp(sd²) — more for a less certain prior."""
    st, lay = _population()
    untried = st.planning_efficiency("f1", "NEW", "HEM", "OP1", 1)
    w = lay.workers["NEW"]
    group = ("f1", w.skill_group, w.grade_for("SNLS", "OP1"))
    _m, sd = st.priors.prior(None, ("f1", "HEM", "OP1"), group, ("f1", "NEW"), float(group[2]))
    assert untried < _prior_mean(st)
    assert untried / _prior_mean(st) == pytest.approx(math.exp(-sd * sd), rel=0.02)


def test_an_untried_pair_starts_where_its_group_started() -> None:
    """People of this group sewed their first bundle at 55 % of their steady state: a newcomer of
    the group is expected there too, not at the steady state."""
    st_fast, _ = _population(first_bundle=1.0)
    st_slow, _ = _population(first_bundle=0.55)
    fast = st_fast.planning_efficiency("f1", "NEW", "HEM", "OP1", 1)
    slow = st_slow.planning_efficiency("f1", "NEW", "HEM", "OP1", 1)
    assert fast == pytest.approx(_prior_mean(st_fast), rel=0.08)
    # shrunk a little toward no gap (12 cells against 3 pseudo-cells), and the spread of the gaps
    assert slow / fast == pytest.approx(0.55, abs=0.12)
    assert slow < 0.75 * fast


def test_the_policy_blends_below_five_cycles() -> None:
    st, lay = _population()
    pol = SeamlinePolicy(lay, ["L1"])
    pol.learning = st
    op = lay.styles["HEM"].op("OP1")
    before = pol.efficiency("NEW", "HEM", op)
    c = _cell("NEW", [1.3, 1.3, 1.3], seed=5)
    c.logs = [math.log(SAM_S / 1.3)] * 3
    st.cells[c.key] = c
    pol._memo.clear()
    after = pol.efficiency("NEW", "HEM", op)
    assert 1.05 * before < after < 1.3


def test_an_old_checkpoint_without_the_start_model_still_loads() -> None:
    st, _ = _population(first_bundle=0.55)
    state = st.__dict__.copy()
    del state["start"]
    old = LearningState.__new__(LearningState)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert old.planning_efficiency("f1", "NEW", "HEM", "OP1", 1) == pytest.approx(
        st.planning_efficiency("f1", "NEW", "HEM", "OP1", 1), rel=1e-6
    )


def test_an_old_checkpoint_without_the_measured_worker_ridge_still_loads() -> None:
    """Priors pickled before ``PriorModel.ridge_worker`` existed lack the field (a slots
    dataclass restores its fields by position): the state refits them from the cells."""
    st, _ = _population(first_bundle=0.55)
    state = st.__dict__.copy()
    state["priors"] = PriorModel.__new__(PriorModel)  # no fields set, as an older pickle leaves the new one
    old = LearningState.__new__(LearningState)
    old.__setstate__(state)
    assert old.planning_efficiency("f1", "NEW", "HEM", "OP1", 1) == pytest.approx(
        st.planning_efficiency("f1", "NEW", "HEM", "OP1", 1), rel=1e-6
    )


def test_posterior_draws_are_what_the_planning_figure_summarises() -> None:
    """The balance's robust choice scores plans on draws of the posterior: their harmonic mean is
    the planning figure (SAM ÷ expected time), and a thin cell's draws spread wider than a
    well-known one's."""
    st, _ = _population()
    rng = np.random.default_rng(0)
    thin = _cell("NEW", [0.8] * 3, seed=6)
    st.cells[thin.key] = thin
    d_thin = st.planning_draws("f1", "NEW", "HEM", "OP1", 10, rng, 20000)
    assert 1.0 / np.mean(1.0 / d_thin) == pytest.approx(st.planning_efficiency("f1", "NEW", "HEM", "OP1", 10), rel=0.01)
    st2, _ = _population()
    known = _cell("NEW", [0.8] * 300, seed=6)
    st2.cells[known.key] = known
    d_known = st2.planning_draws("f1", "NEW", "HEM", "OP1", 10, rng, 20000)
    assert 1.0 / np.mean(1.0 / d_known) == pytest.approx(
        st2.planning_efficiency("f1", "NEW", "HEM", "OP1", 10), rel=0.01
    )
    assert np.std(np.log(d_thin)) > 2.0 * np.std(np.log(d_known))
    # the steady-state prior of a pair never sewn: its mean is the figure the policy counts on
    untried = st.prior_draws("f1", "NEW", "HEM", "OP1", rng, 40000)
    assert np.mean(untried) == pytest.approx(st.prior_estimate("f1", "NEW", "HEM", "OP1"), rel=0.01)


def test_the_planning_figure_carries_its_uncertainty() -> None:
    """``planning_sd`` is the posterior sd of the log figure: near the prior's for a pair never
    sewn, smaller for a thin cell, small for a well-known one — the lower confidence bound a
    from-scratch balance plans on marks the thin pairs down most."""
    st, _ = _population()
    untried = st.planning_sd("f1", "NEW", "HEM", "OP1", 10)
    thin = _cell("NEW", [0.8] * 3, seed=6)
    st.cells[thin.key] = thin
    sd_thin = st.planning_sd("f1", "NEW", "HEM", "OP1", 10)
    st2, _ = _population()
    known = _cell("NEW", [0.8] * 300, seed=6)
    st2.cells[known.key] = known
    sd_known = st2.planning_sd("f1", "NEW", "HEM", "OP1", 10)
    assert untried > sd_thin > 2.0 * sd_known > 0.0
    rng = np.random.default_rng(2)
    draws = st.planning_draws("f1", "NEW", "HEM", "OP1", 10, rng, 20000)
    assert float(np.std(np.log(draws))) == pytest.approx(sd_thin, rel=0.05)
