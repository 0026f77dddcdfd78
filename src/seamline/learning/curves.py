"""Learning curves: several families averaged by their evidence, with a shrinkage prior on the level.

A worker new to an operation gets faster with every piece. The trade's own evidence (the domain
reference) is that a *hyperbolic* curve (Mazur & Hastie) fitted Sri Lankan sewing lines best, so it
is the first family here. But one factory's ramps need not look like another's, and the engine is
judged on cases it has not seen, so the hyperbolic curve competes with an exponential
(constant-rate) curve, a Wright power curve with a plateau, and "no learning" (flat). Each family
has a grid of shape parameters; the level is integrated analytically against a normal prior (the
shrinkage target from ``priors``), and every grid point is weighted by its marginal likelihood.
The prediction is the posterior mean over all of them (Bayesian model averaging): with few pieces
the prior and the flat model dominate, with many the data choose the shape. No optimiser, so no
failed fits, and the cost is one small matrix product per refit.

All curves are written as efficiency(n) = E · g(n), where n is the number of pieces the worker
has already made of the operation and E the steady-state efficiency (g → 1):

- hyperbolic   g = (n + p) / (n + p + r),           f0 = p / (p + r) is the starting fraction;
- exponential  g = 1 − (1 − f0) · exp(−n / τ);
- Wright       g = min(1, ((n + 1) / (m + 1))^β),   a power law that levels off after m pieces;
- flat         g = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FLAT, HYPERBOLIC, EXPONENTIAL, WRIGHT = 0, 1, 2, 3
FAMILY_NAMES = {FLAT: "flat", HYPERBOLIC: "hyperbolic", EXPONENTIAL: "exponential", WRIGHT: "wright"}
# Prior mass of each family; the data move it quickly once a few dozen pieces exist.
FAMILY_PRIOR = {FLAT: 0.4, HYPERBOLIC: 0.25, EXPONENTIAL: 0.2, WRIGHT: 0.15}


@dataclass(frozen=True, slots=True)
class Grid:
    """Shape parameters of every candidate curve, one row per candidate."""

    family: np.ndarray  # int codes
    a: np.ndarray  # f0 (hyperbolic, exponential) or β (Wright)
    b: np.ndarray  # r, τ or m, in pieces
    log_prior: np.ndarray
    blocks: tuple[tuple[int, slice], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(_blocks(self.family)))

    def __len__(self) -> int:
        return len(self.family)

    def log_g(self, n: np.ndarray) -> np.ndarray:
        """log g(n) for every candidate (rows) at every piece index (columns).

        The grid is ordered by family, so each family is one contiguous block of rows.
        """
        n = np.asarray(n, dtype=float)[None, :]
        out = np.zeros((len(self), n.shape[1]))
        for fam, sl in self.blocks:
            a = self.a[sl, None]
            b = self.b[sl, None]
            if fam == HYPERBOLIC:
                p = a * b / (1.0 - a)
                out[sl] = np.log((n + p) / (n + p + b))
            elif fam == EXPONENTIAL:
                out[sl] = np.log1p(-(1.0 - a) * np.exp(-n / b))
            elif fam == WRIGHT:
                out[sl] = np.minimum(0.0, a * (np.log(n + 1.0) - np.log(b + 1.0)))
        return out


def _blocks(family: np.ndarray) -> list[tuple[int, slice]]:
    """Contiguous runs of one family code: [(code, slice), ...]."""
    out: list[tuple[int, slice]] = []
    start = 0
    for i in range(1, len(family) + 1):
        if i == len(family) or family[i] != family[start]:
            out.append((int(family[start]), slice(start, i)))
            start = i
    return out


def default_grid() -> Grid:
    """A broad grid: start at 15-90 % of steady state, half-way after 3-2000 pieces."""
    fams: list[int] = [FLAT]
    aa: list[float] = [1.0]
    bb: list[float] = [1.0]
    lp: list[float] = [math.log(FAMILY_PRIOR[FLAT])]
    f0s = np.linspace(0.15, 0.9, 9)
    scales = np.geomspace(3.0, 2000.0, 13)
    for fam in (HYPERBOLIC, EXPONENTIAL):
        w = math.log(FAMILY_PRIOR[fam] / (len(f0s) * len(scales)))
        for f0 in f0s:
            for s in scales:
                fams.append(fam)
                aa.append(float(f0))
                bb.append(float(s))
                lp.append(w)
    betas = np.geomspace(0.03, 0.6, 8)
    plateaus = np.geomspace(10.0, 3000.0, 10)
    w = math.log(FAMILY_PRIOR[WRIGHT] / (len(betas) * len(plateaus)))
    for beta in betas:
        for pl in plateaus:
            fams.append(WRIGHT)
            aa.append(float(beta))
            bb.append(float(pl))
            lp.append(w)
    return Grid(np.array(fams), np.array(aa), np.array(bb), np.array(lp))


GRID = default_grid()


@dataclass(frozen=True, slots=True)
class CurveFit:
    """The posterior over candidates: weights, and the normal posterior of log E under each."""

    grid: Grid
    weights: np.ndarray
    mu: np.ndarray  # posterior mean of log E per candidate
    var: float  # posterior variance of log E (the same for every candidate)
    n_obs: int

    def _level(self) -> np.ndarray:
        return np.exp(self.mu + 0.5 * self.var)

    def efficiency(self, n: float) -> tuple[float, float]:
        """Posterior mean and standard deviation of the efficiency at piece index n."""
        g = np.exp(self.grid.log_g(np.array([n]))[:, 0])
        m1 = self._level() * g
        m2 = np.exp(2.0 * self.mu + 2.0 * self.var) * g * g
        mean = float(self.weights @ m1)
        second = float(self.weights @ m2)
        return mean, math.sqrt(max(0.0, second - mean * mean))

    def steady_state(self) -> float:
        return float(self.weights @ self._level())

    def block_efficiency(self, n_from: float, count: int) -> float:
        """Efficiency over the next ``count`` pieces: their SAM ÷ their time, i.e. the harmonic
        mean of the per-piece efficiencies (earned minutes over attended minutes)."""
        ns = n_from + np.arange(count, dtype=float)
        inv_g = np.exp(-self.grid.log_g(ns)).mean(axis=1)
        return float(self.weights @ (self._level() / inv_g))

    def planning_efficiency(self, n_from: float, count: int) -> float:
        """SAM ÷ the *expected* time per piece over the next ``count`` pieces, the expectation
        taken over the pieces, the curve candidates and the level's posterior alike.

        A balance adds up times (share × SAM ÷ efficiency), so what it needs of an uncertain
        efficiency is E[1/efficiency], not E[efficiency]: by Jensen the posterior mean overstates
        the speed of every uncertain cell, by about exp(sd²) of its log, and the optimiser then
        prefers exactly the cells it knows least (the optimiser's curse). For a log-normal level
        E[1/E] = exp(−μ + var/2)."""
        ns = n_from + np.arange(max(1, count), dtype=float)
        inv_g = np.exp(-self.grid.log_g(ns)).mean(axis=1)
        inv_level = np.exp(-self.mu + 0.5 * self.var)
        return 1.0 / float(self.weights @ (inv_level * inv_g))

    def planning_log_sd(self, n_from: float, count: int) -> float:
        """Posterior standard deviation of the log efficiency over the next ``count`` pieces
        (their SAM ÷ their time): the level's and the spread of the curve candidates'."""
        ns = n_from + np.arange(max(1, count), dtype=float)
        log_block = self.mu - np.log(np.exp(-self.grid.log_g(ns)).mean(axis=1))
        mean = float(self.weights @ log_block)
        return math.sqrt(self.var + float(self.weights @ (log_block - mean) ** 2))

    def draw_block_efficiency(self, n_from: float, count: int, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` draws from the posterior of the efficiency over the next ``count`` pieces (their
        SAM ÷ their time): a curve candidate by its weight, a level from its normal posterior.

        Their harmonic mean tends to ``planning_efficiency``; a balance that scores a plan on many
        draws sees what a single figure hides: the slowest of several uncertain workers is slower
        than the slowest of their means (``twin.policy.seamline``, "planning against uncertainty")."""
        ns = n_from + np.arange(max(1, count), dtype=float)
        inv_g = np.exp(-self.grid.log_g(ns)).mean(axis=1)
        comp = rng.choice(len(self.weights), size=k, p=self.weights)
        level = self.mu[comp] + math.sqrt(self.var) * rng.standard_normal(k)
        return np.asarray(np.exp(level) / inv_g[comp], dtype=float)

    def family_weights(self) -> dict[str, float]:
        return {name: float(self.weights[self.grid.family == code].sum()) for code, name in FAMILY_NAMES.items()}


def fit_curve(
    n: np.ndarray, z: np.ndarray, w: np.ndarray, sigma: float, prior_mean: float, prior_sd: float, grid: Grid = GRID
) -> CurveFit:
    """Posterior over ``grid`` for observations z ≈ log E + log g(n) with noise σ²/w.

    ``z`` are log efficiencies of single cycles or of bins of ``w`` cycles (the caller has already
    removed double counts and interruptions and winsorised outliers). log E ~ N(prior_mean,
    prior_sd²) is integrated out in closed form, which is what makes sparse cells shrink to the prior.
    """
    n = np.asarray(n, dtype=float)
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    s2 = max(sigma, 1e-3) ** 2
    t2 = max(prior_sd, 1e-3) ** 2
    if len(n) == 0:
        k = len(grid)
        return CurveFit(grid, np.exp(grid.log_prior) / np.exp(grid.log_prior).sum(), np.full(k, prior_mean), t2, 0)
    u = z[None, :] - grid.log_g(n)
    sw = float(w.sum())
    ubar = (u @ w) / sw
    ssr = ((u - ubar[:, None]) ** 2) @ w
    v_mean = s2 / sw + t2
    log_ml = -0.5 * ssr / s2 - 0.5 * (ubar - prior_mean) ** 2 / v_mean
    logw = grid.log_prior + log_ml
    logw -= logw.max()
    weights = np.exp(logw)
    weights /= weights.sum()
    prec = sw / s2 + 1.0 / t2
    mu = (sw * ubar / s2 + prior_mean / t2) / prec
    return CurveFit(grid, weights, mu, 1.0 / prec, len(n))
