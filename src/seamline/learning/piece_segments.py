"""Pieces as segments of a burst sequence: a semi-Markov model fitted on bundles of known quantity.

A fixed idle-gap threshold splits bursts into pieces well only when the gaps inside a piece (turn,
align the next seam, stop to reposition) are all shorter than the gaps between pieces (dispose, pick
up). On many operations they overlap, and a threshold then merges or splits pieces on every bundle.
What else tells pieces apart is that a piece's *motor seconds* repeat (one cycle's seams) and so does
its number of bursts. So a piece is a run of consecutive bursts, and a segmentation of a window
into pieces is scored by

- every gap inside a piece under the learned density of gaps inside pieces, every gap that starts
  a piece under the density of gaps between pieces (both smoothed histograms of log seconds);
- every piece's total run seconds under a log-normal (median and robust spread of known pieces);
- every piece's burst count under its learned frequency;
- a burst may also be *no piece* (a pedal test run, or a rework seam sewn again after the piece),
  at a small prior.

Dynamic programming finds the best segmentation:

- **Learning** (``label``): a known bundle of n pieces is segmented into *exactly* n pieces; its
  pieces' runs, bursts and inner/between gaps become the model's data. The first bundles of a
  signature are labelled from their n - 1 longest gaps, the model fitted, and then labelled again
  by the model (one hard-EM step).
- **Counting** (``DpState``): the best segmentation with any number of pieces, extended burst by
  burst (O(longest piece) per burst); its piece count is the raw count. Its bias (a resewn seam of
  a one-seam operation looks like a piece; pieces merged where gaps overlap) is corrected from
  reconciliations in learning/signature.py.

Pure: no database, no clock, no I/O.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

LOG_LO = math.log(0.05)  # the gap grid: log seconds from 0.05 s ...
LOG_STEP = 0.1
N_BINS = 120  # ... to about 2 h
BANDWIDTH = 0.25  # log seconds: smoothing of the gap histograms
FLOOR = 0.02  # share of a flat density mixed into every learned one: nothing is impossible
RUN_SD_MIN = 0.08  # a piece's run seconds never look steadier than this (log units)
RUN_SPAN = 8.0  # log units the flat part of the run density spreads over
JUNK_PRIOR = 0.01  # a burst that is no piece (pedal tap, resewn seam)
K_CAP = 60  # bursts in one piece at most
LABEL_BUDGET = 3_000_000  # cells of the constrained DP: above, a bundle keeps its gap labels

_versions = itertools.count(1)


def _gap_bin(g: float) -> int:
    return min(N_BINS - 1, max(0, int((math.log(max(g, 1e-3)) - LOG_LO) / LOG_STEP)))


def _log_density(values: list[float]) -> tuple[float, ...]:
    """Log density of log seconds on the grid: a Gaussian-smoothed histogram plus a flat floor."""
    x = LOG_LO + (np.arange(N_BINS) + 0.5) * LOG_STEP
    d = np.zeros(N_BINS)
    if values:
        logs = np.log(np.maximum(np.asarray(values, dtype=float), 1e-3))
        hist = np.bincount(np.clip(((logs - LOG_LO) / LOG_STEP).astype(int), 0, N_BINS - 1), minlength=N_BINS)
        for i in np.nonzero(hist)[0]:
            d += hist[i] * np.exp(-0.5 * ((x - x[i]) / BANDWIDTH) ** 2)
    flat = 1.0 / (N_BINS * LOG_STEP)
    d = d / (d.sum() * LOG_STEP) if d.sum() > 0 else np.full(N_BINS, flat)
    return tuple(float(v) for v in np.log((1 - FLOOR) * d + FLOOR * flat))


@dataclass(slots=True)
class Labels:
    """A known bundle segmented into its pieces: what the model learns from."""

    piece_runs_s: list[float]
    bursts_per_piece: list[int]
    inner_gaps_s: list[float]
    between_gaps_s: list[float]
    junk: int  # bursts that belonged to no piece
    by_model: bool  # segmented by a model (not only by its longest gaps)


@dataclass(frozen=True, slots=True)
class PieceModel:
    version: int
    run_mu: float  # log seconds of motor run per piece (median)
    run_sd: float
    log_in: tuple[float, ...]  # log density of log gap inside a piece
    log_between: tuple[float, ...]
    log_k: tuple[float, ...]  # log P(bursts per piece = k); index 0 unused
    log_junk: float

    @property
    def k_max(self) -> int:
        return len(self.log_k) - 1

    def log_run(self, run_s: float) -> float:
        z = (math.log(max(run_s, 1e-3)) - self.run_mu) / self.run_sd
        dens = (1 - FLOOR) * math.exp(-0.5 * z * z) / (self.run_sd * math.sqrt(2 * math.pi)) + FLOOR / RUN_SPAN
        return math.log(dens)

    def as_dict(self) -> dict[str, float]:
        return {"run_s_per_piece": round(math.exp(self.run_mu), 2), "run_log_sd": round(self.run_sd, 3)}


def fit(labels: list[Labels]) -> PieceModel | None:
    runs = [r for lb in labels for r in lb.piece_runs_s if r > 0]
    ks = [k for lb in labels for k in lb.bursts_per_piece]
    if not runs or not ks:
        return None
    lr = np.log(np.asarray(runs))
    mu = float(np.median(lr))
    sd = max(RUN_SD_MIN, float(1.4826 * np.median(np.abs(lr - mu))))
    k_max = min(K_CAP, max(ks) + 2)
    cnt = np.bincount(np.minimum(ks, k_max), minlength=k_max + 1).astype(float) + 0.5
    cnt[0] = 0.0
    log_k = (-math.inf, *(float(v) for v in np.log(cnt[1:] / cnt[1:].sum())))
    pieces = len(ks)
    junk = sum(lb.junk for lb in labels)
    return PieceModel(
        version=next(_versions),
        run_mu=mu,
        run_sd=sd,
        log_in=_log_density([g for lb in labels for g in lb.inner_gaps_s]),
        log_between=_log_density([g for lb in labels for g in lb.between_gaps_s]),
        log_k=log_k,
        log_junk=math.log((junk + JUNK_PRIOR * 50) / (pieces + junk + 50)) - math.log(RUN_SPAN),
    )


def _labels(segs: list[tuple[int, int]], gaps: list[float], runs: list[float], by_model: bool) -> Labels:
    """``gaps[j]``: idle seconds before burst j + 1 (Window.gaps_s)."""
    lb = Labels([], [], [], [], len(runs) - sum(b - a + 1 for a, b in segs), by_model)
    for a, b in segs:
        lb.piece_runs_s.append(sum(runs[a : b + 1]))
        lb.bursts_per_piece.append(b - a + 1)
        lb.inner_gaps_s += gaps[a:b]
        if a > 0:
            lb.between_gaps_s.append(gaps[a - 1])
    return lb


def label_by_gaps(gaps: list[float], runs: list[float], n: int) -> Labels:
    """The bundle's n - 1 longest gaps end its pieces (the start of the model's fit)."""
    cuts = sorted(sorted(range(1, len(runs)), key=lambda j: -gaps[j - 1])[: max(n - 1, 0)])
    segs, a = [], 0
    for c in cuts:
        segs.append((a, c - 1))
        a = c
    segs.append((a, len(runs) - 1))
    return _labels(segs, gaps, runs, False)


def label(m: PieceModel, gaps: list[float], runs: list[float], n: int) -> Labels | None:
    """Segment a known bundle into exactly ``n`` pieces (and no-piece bursts); None if it cannot.
    The table of best scores by pieces so far is a numpy column per burst: O(bursts x longest
    piece) vector steps."""
    b_n = len(runs)
    if n <= 0 or b_n < n or b_n * n * m.k_max > LABEL_BUDGET:
        return None
    gi = [0.0] + [m.log_in[_gap_bin(g)] for g in gaps]
    gb = [0.0] + [m.log_between[_gap_bin(g)] for g in gaps]
    cum_in = list(itertools.accumulate(gi))
    rp = [0.0, *itertools.accumulate(runs)]
    w = np.full((b_n + 1, n + 1), -np.inf)
    w[0, 0] = 0.0
    back = np.zeros((b_n + 1, n + 1), dtype=np.int64)  # start burst of the last piece; -1: junk
    for j in range(b_n):
        lo = max(0, j - m.k_max + 1)
        starts = np.arange(lo, j + 1)
        seg = np.array(
            [gb[i] + cum_in[j] - cum_in[i] + m.log_k[j - i + 1] + m.log_run(rp[j + 1] - rp[i]) for i in starts]
        )
        cand = w[lo : j + 1, :-1] + seg[:, None]  # (starts, pieces before)
        best_i = np.argmax(cand, axis=0)
        piece = cand[best_i, np.arange(n)]
        junk = w[j] + gb[j] + m.log_junk
        row = np.full(n + 1, -np.inf)
        row[1:] = piece
        take_junk = junk >= row
        w[j + 1] = np.where(take_junk, junk, row)
        back[j + 1] = np.where(take_junk, -1, np.concatenate(([0], starts[best_i])))
    if not np.isfinite(w[b_n, n]):
        return None
    segs: list[tuple[int, int]] = []
    k, j = n, b_n
    while j > 0:
        i = int(back[j, k])
        if i < 0:
            j -= 1
        else:
            segs.append((i, j - 1))
            k, j = k - 1, i
    segs.reverse()
    return _labels(segs, gaps, runs, True)


@dataclass(slots=True)
class DpState:
    """The best segmentation of a growing burst sequence under one model, burst by burst.

    A piece looks back at most ``k_max`` bursts, so only the last ones are kept (``base``: the
    index of the first kept entry): a sensor-only window of thousands of bursts stays small."""

    version: int = 0
    n: int = 0  # bursts added
    base: int = 0
    score: list[float] = field(default_factory=lambda: [0.0])  # best score of bursts [0, i)
    count: list[int] = field(default_factory=lambda: [0])  # pieces on that best path
    cum_run: list[float] = field(default_factory=lambda: [0.0])  # run seconds of bursts [0, i)
    cum_in: list[float] = field(default_factory=list)  # Σ log inner density of gaps up to burst i
    between: list[float] = field(default_factory=list)  # log between density of the gap before i

    def add(self, m: PieceModel, gap_s: float | None, run_s: float) -> None:
        j, o = self.n, self.base
        gb = m.log_between[_gap_bin(gap_s)] if gap_s is not None else 0.0
        gi = m.log_in[_gap_bin(gap_s)] if gap_s is not None else 0.0
        self.between.append(gb)
        self.cum_in.append(self.cum_in[-1] + gi if self.cum_in else 0.0)
        self.cum_run.append(self.cum_run[-1] + run_s)
        sc, cum_in, cum_run, between = self.score, self.cum_in, self.cum_run, self.between
        best, n = sc[j - o] + gb + m.log_junk, self.count[j - o]
        end_in, end_run = cum_in[j - o], cum_run[j + 1 - o]
        for i in range(max(o, j - m.k_max + 1), j + 1):
            k = i - o
            s = sc[k] + between[k] + end_in - cum_in[k] + m.log_k[j - i + 1] + m.log_run(end_run - cum_run[k])
            if s > best:
                best, n = s, self.count[k] + 1
        sc.append(best)
        self.count.append(n)
        self.n = j + 1
        if len(between) > 4 * K_CAP:
            drop = len(between) - K_CAP - 1
            for lst in (self.score, self.count, self.cum_run, self.cum_in, self.between):
                del lst[:drop]
            self.base = o + drop

    def pieces(self) -> int:
        return self.count[-1]


def replay(m: PieceModel, gaps: list[float], runs: list[float]) -> DpState:
    """A fresh state over a whole window (a new model, or a known bundle's count)."""
    st = DpState(m.version)
    for j, r in enumerate(runs):
        st.add(m, gaps[j - 1] if j else None, r)
    return st
