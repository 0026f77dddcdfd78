"""Shrinkage targets for sparse cells: empirical Bayes over the whole factory.

A cell is one worker × operation. Its log steady-state efficiency is modelled as

    log E = μ + β·(grade − ḡ) + operation effect + skill-group effect + worker effect + residual,

where the operation is (style, op) factory-wide, the skill group is the worker's ``skill_group``
together with their grade on the operation's machine type (a trainee's grade 1 on overlock is not
a senior's grade 5), and the worker effect is their general knack seen on their other operations.
The grade also enters as a number (β, log-efficiency per grade, never negative): a line mostly
sews what its people are good at, so the low grades are the pairs nobody has tried yet, and a
categorical group seen zero times would give them the line's average — 30-50 % too optimistic for
a grade-1 pair. The slope carries what the seen grades say to the unseen ones (operator grading
schemes are roughly geometric: each grade a similar factor faster), and the group effect keeps
whatever a group deviates from that line.
The effects are fitted by ridge backfitting on the cells that already have data (each effect is
shrunk toward zero by ``ridge`` pseudo-cells, so a group seen twice moves the prior only a little);
the residual variance left over is τ², the prior's spread. A new worker on a new operation thus
starts at "people of this group and grade on this operation", and moves to their own data as it
arrives. Each cell's prior leaves its own contribution out, so a cell never shrinks toward itself.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

DEFAULT_LOG_EFF = math.log(0.75)  # trade figure: individual operators measure 65-90 %
DEFAULT_SD = 0.35
MIN_SD = 0.05
# Bounds of the measured worker ridge (pseudo-cells): a knack is never taken whole from one cell,
# and with no sign of knacks it is all but zero.
WORKER_RIDGE_MIN, WORKER_RIDGE_MAX = 0.5, 50.0


@dataclass(frozen=True, slots=True)
class PriorInput:
    """One cell's current level, with the variance of that level."""

    key: Hashable
    op: Hashable
    group: Hashable
    worker: Hashable
    log_eff: float
    var: float
    grade: float | None = None  # the worker's skill grade on the operation's machine, when known


@dataclass(slots=True)
class _Effect:
    sums: dict[Hashable, float] = field(default_factory=dict)
    counts: dict[Hashable, float] = field(default_factory=dict)

    def value(self, k: Hashable, ridge: float, minus: float = 0.0, minus_n: float = 0.0) -> float:
        n = self.counts.get(k, 0.0) - minus_n
        if n <= 0:
            return 0.0
        return (self.sums.get(k, 0.0) - minus) / (n + ridge)


@dataclass(slots=True)
class PriorModel:
    mu: float = DEFAULT_LOG_EFF
    sd: float = DEFAULT_SD
    ridge: float = 3.0
    op: _Effect = field(default_factory=_Effect)
    group: _Effect = field(default_factory=_Effect)
    worker: _Effect = field(default_factory=_Effect)
    # each fitted cell's partial residual per effect, for leave-one-out priors
    own: dict[Hashable, tuple[float, float, float, float]] = field(default_factory=dict)
    n_cells: int = 0
    sd_worker: float = 0.0  # spread of the workers' knacks: added when the worker is unknown
    slope: float = 0.0  # β: log efficiency per skill grade
    grade_mean: float = 0.0  # ḡ of the fitted cells
    # pseudo-cells a worker's knack is shrunk by: the pair-level spread ÷ the knacks' spread,
    # measured (``_worker_ridge``); ``ridge`` until there is evidence
    ridge_worker: float = 3.0

    def _grade_term(self, grade: float | None) -> float:
        return 0.0 if grade is None else self.slope * (grade - self.grade_mean)

    def prior(
        self, key: Hashable, op: Hashable, group: Hashable, worker: Hashable, grade: float | None = None
    ) -> tuple[float, float]:
        """(mean, sd) of log E for a cell, leaving the cell's own data out when it was fitted."""
        own = self.own.get(key)
        if own is None:
            m = self.mu + self._grade_term(grade) + self.op.value(op, self.ridge) + self.group.value(group, self.ridge)
            known = self.worker.counts.get(worker, 0.0) > 0
            return m + self.worker.value(worker, self.ridge_worker), self._sd(known)
        w_mu, r_op, r_grp, r_w = own
        n = self.n_cells
        mu = (self.mu * n - w_mu) / (n - 1) if n > 1 else DEFAULT_LOG_EFF
        m = mu + self._grade_term(grade)
        m += self.op.value(op, self.ridge, r_op, 1.0) + self.group.value(group, self.ridge, r_grp, 1.0)
        known = self.worker.counts.get(worker, 0.0) > 1
        return m + self.worker.value(worker, self.ridge_worker, r_w, 1.0), self._sd(known)

    def _sd(self, worker_known: bool) -> float:
        return self.sd if worker_known else math.sqrt(self.sd**2 + self.sd_worker**2)


def fit_priors(cells: Sequence[PriorInput], *, ridge: float = 3.0, iters: int = 6) -> PriorModel:
    """Backfit μ and the three effects; τ² is the residual variance beyond the cells' own noise."""
    model = PriorModel(ridge=ridge)
    if not cells:
        return model
    ys = [c.log_eff for c in cells]
    mu = sum(ys) / len(ys)
    graded = [c.grade for c in cells if c.grade is not None]
    g_mean = sum(graded) / len(graded) if graded else 0.0
    # centred grades (0 for a cell whose grade is unknown); the slope needs two distinct grades
    dg = [0.0 if c.grade is None else c.grade - g_mean for c in cells]
    # each cell weighs by how well its level is known (a learner's steady state, read off a short
    # ramp, is a guess; on the grades that are mostly learners it would tilt the line)
    wt = [1.0 / (c.var + 0.05**2) for c in cells]
    w_mean = sum(wt) / len(wt)
    wt = [w / w_mean for w in wt]
    sxx = sum(w * d * d for w, d in zip(wt, dg, strict=True))
    slope = 0.0
    eff_op: dict[Hashable, float] = defaultdict(float)
    eff_grp: dict[Hashable, float] = defaultdict(float)
    eff_w: dict[Hashable, float] = defaultdict(float)
    # Operation and group first (crossed, backfitted), then the worker's knack on what is left:
    # fitted jointly, worker effects would soak up part of the group effect and a new worker of
    # the group would not get it.
    for _ in range(iters):
        if sxx > 0:
            # The grade line first, on what the operation leaves (not the group: a group is keyed by
            # its grade, so the two would split the trend and an unseen grade would get only part of
            # it); the groups then keep their deviations from the line. Never negative.
            sxy = sum(w * d * (c.log_eff - mu - eff_op[c.op]) for c, d, w in zip(cells, dg, wt, strict=True))
            slope = max(0.0, sxy / (sxx + ridge))
        for effect, get in ((eff_op, "op"), (eff_grp, "group")):
            sums: dict[Hashable, float] = defaultdict(float)
            cnt: dict[Hashable, float] = defaultdict(float)
            for c, d in zip(cells, dg, strict=True):
                k = getattr(c, get)
                partial = c.log_eff - mu - slope * d - eff_op[c.op] - eff_grp[c.group] + effect[k]
                sums[k] += partial
                cnt[k] += 1.0
            for k in cnt:
                effect[k] = sums[k] / (cnt[k] + ridge)
        mu = sum(c.log_eff - slope * d - eff_op[c.op] - eff_grp[c.group] for c, d in zip(cells, dg, strict=True))
        mu /= len(cells)
    w_sums: dict[Hashable, float] = defaultdict(float)
    w_cnt: dict[Hashable, float] = defaultdict(float)
    # what is left of each cell once μ, the grade slope, the operation and the group are taken out
    rest = [c.log_eff - mu - slope * d for c, d in zip(cells, dg, strict=True)]
    by_worker: dict[Hashable, list[float]] = defaultdict(list)
    for c, y in zip(cells, rest, strict=True):
        w_sums[c.worker] += y - eff_op[c.op] - eff_grp[c.group]
        w_cnt[c.worker] += 1.0
        by_worker[c.worker].append(y - eff_op[c.op] - eff_grp[c.group])
    ridge_w, var_w = _worker_ridge(list(by_worker.values()), ridge)
    model.ridge_worker = ridge_w
    for k in w_cnt:
        eff_w[k] = w_sums[k] / (w_cnt[k] + ridge_w)
    # Final sums per effect (partial residuals, as fitted), kept so a cell can be left out of its own prior.
    for c, y in zip(cells, rest, strict=True):
        parts = (
            (model.op, c.op, y - eff_grp[c.group]),
            (model.group, c.group, y - eff_op[c.op]),
            (model.worker, c.worker, y - eff_op[c.op] - eff_grp[c.group]),
        )
        for target, k, partial in parts:
            target.sums[k] = target.sums.get(k, 0.0) + partial
            target.counts[k] = target.counts.get(k, 0.0) + 1.0
        model.own[c.key] = (y + mu, parts[0][2], parts[1][2], parts[2][2])
    resid2 = 0.0
    noise = 0.0
    for c, y in zip(cells, rest, strict=True):
        r = y - eff_op[c.op] - eff_grp[c.group] - eff_w[c.worker]
        resid2 += r * r
        noise += c.var
    k = len(cells)
    # Degrees of freedom are eaten by the effects; a small-sample inflation keeps τ honest.
    tau2 = max(resid2 / max(1, k) * (1.0 + 5.0 / max(1, k)) - noise / k, MIN_SD**2)
    model.mu = mu
    model.slope, model.grade_mean = slope, g_mean
    if var_w is not None:
        model.sd_worker = math.sqrt(var_w)
    elif len(eff_w) >= 3:
        vals = list(eff_w.values())
        mean_w = sum(vals) / len(vals)
        model.sd_worker = math.sqrt(sum((v - mean_w) ** 2 for v in vals) / (len(vals) - 1))
    model.n_cells = k
    if k >= 5:
        # τ is what the prior misses on a pair it has not seen: measure it so, on each cell's
        # leave-one-out prior. The in-sample residual understates it (each cell pulled the
        # effects toward itself; in the closed-loop twin it gave τ ≈ 0.07 where the prior's error
        # on pairs not yet seen was 0.15), and a prior that thinks itself twice as sure as it is
        # outweighs a first bundle's cycles and hands the balance its own errors.
        loo2 = 0.0
        for c in cells:
            m, _ = model.prior(c.key, c.op, c.group, c.worker, c.grade)
            loo2 += (c.log_eff - m) ** 2
        tau2 = max(tau2, loo2 / k - noise / k)
        model.sd = min(DEFAULT_SD, math.sqrt(tau2))
    else:
        model.sd = DEFAULT_SD
    return model


def _worker_ridge(residuals: Sequence[Sequence[float]], default: float) -> tuple[float, float | None]:
    """How hard to shrink a worker's knack, from the data: (pseudo-cells, variance of the knacks).

    A cell's residual (after μ, grade, operation and group) is her knack plus what is particular to
    the pair. Two cells of one worker share only the knack, so the mean product of residuals of
    different cells of the same worker estimates the knacks' variance (method of moments), and the
    rest of the residuals' variance is the pair's. The empirical-Bayes weight of a worker seen on n
    cells is then n ÷ (n + pair variance ÷ knack variance): a worker's other operations say as much
    about her next one as the factory's people differ, no more — a fixed ridge of 3 pseudo-cells
    shrank the closed-loop twin's knacks (true spread 0.10 in log) to a fitted spread of 0.03.
    Without two workers seen on two cells each, or with no sign of knacks, the default stays."""
    num = den = 0.0
    sq, n = 0.0, 0
    multi = 0
    for rs in residuals:
        s = sum(rs)
        ss = sum(r * r for r in rs)
        sq += ss
        n += len(rs)
        if len(rs) >= 2:
            multi += 1
            num += s * s - ss
            den += len(rs) * (len(rs) - 1)
    if multi < 2 or den <= 0 or n == 0:
        return default, None
    var_w = num / den
    total = sq / n
    if var_w <= 0:
        return WORKER_RIDGE_MAX, 0.0
    ridge = max(0.0, total - var_w) / var_w
    return min(WORKER_RIDGE_MAX, max(WORKER_RIDGE_MIN, ridge)), min(var_w, total)


@dataclass(frozen=True, slots=True)
class StartSample:
    """A cell's first bundle against its steady-state prior: log level of its first cycles minus
    the prior's mean log efficiency (leave-one-out), for one skill group."""

    group: Hashable
    gap: float


@dataclass(slots=True)
class StartModel:
    """How far below its steady-state prior a pair sews its first bundle, per skill group.

    A pair nobody has sewn is not at its steady state: people new to an operation start slow, and
    how slow depends on who they are (a trainee on a machine she barely knows starts lower than a
    senior operator on a new seam). The gap is averaged per group, shrunk toward the factory's
    (``ridge`` pseudo-cells), which is shrunk toward 0 (no evidence: the steady-state prior). Its
    spread within the group is the untried pair's uncertainty.
    """

    ridge: float = 3.0
    mean_all: float = 0.0
    var_all: float | None = None
    groups: dict[Hashable, tuple[float, float, int]] = field(default_factory=dict)  # mean, var, n

    def gap(self, group: Hashable) -> tuple[float, float | None]:
        """(mean, variance) of the first bundle's log gap for ``group``; variance None without data."""
        g = self.groups.get(group)
        if g is None:
            return self.mean_all, self.var_all
        return g[0], g[1]


def fit_start(samples: Sequence[StartSample], *, ridge: float = 3.0) -> StartModel:
    """Shrunken group means and pooled-toward-factory variances of the first-bundle gaps."""
    model = StartModel(ridge=ridge)
    if not samples:
        return model
    n = len(samples)
    total = sum(s.gap for s in samples)
    mean_all = total / (n + ridge)
    var_all = sum((s.gap - mean_all) ** 2 for s in samples) / n if n >= 2 else DEFAULT_SD**2
    var_all = max(var_all, MIN_SD**2)
    by: dict[Hashable, list[float]] = defaultdict(list)
    for s in samples:
        by[s.group].append(s.gap)
    for k, gaps in by.items():
        m = (sum(gaps) + ridge * mean_all) / (len(gaps) + ridge)
        ss = sum((g - m) ** 2 for g in gaps)
        v = (ss + ridge * var_all) / (len(gaps) + ridge)
        model.groups[k] = (m, max(v, MIN_SD**2), len(gaps))
    model.mean_all, model.var_all = mean_all, var_all
    return model
