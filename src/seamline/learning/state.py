"""The online learning state: O(1) work per event, estimates computed lazily and cached.

``apply`` does only bookkeeping per event: who is at the station, the previous piece, and for a
piece the verdict of ``cycles.judge`` and an append to the cell's cycle list. Fitting a curve is
done when someone asks (the API, a snapshot, the bench) and only for cells that changed since
their last fit; the factory-wide priors are refitted when enough new cycles have arrived.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from ..domain import yielding
from ..domain.events import BundleIn, BundleOut, Defect, Downtime, Login, Logout, Machine, Piece, SensorEvent
from ..domain.model import FactoryLayout
from .curves import GRID, CurveFit, Grid, fit_curve
from .cycles import Rules, Verdict, judge
from .priors import DEFAULT_LOG_EFF, PriorInput, PriorModel, StartModel, StartSample, fit_priors, fit_start
from .robust import diff_sd, huber_location, median

CellKey = tuple[str, str, str, str]  # factory, worker, style, op
MAX_KEEP = 800  # cycles kept per cell; older ones are dropped in blocks (amortised O(1))
KEEP_AFTER_TRIM = 500
REF_WINDOW = 15
RECENT_WINDOW = 60
MAX_POINTS = 100  # a fit bins cycles beyond this many
DEFAULT_SIGMA = 0.25
FORECAST_PIECES = 50
TREND_PIECES = 100
TREND_GAIN = 0.03  # a predicted gain of 3 % over the next 100 pieces is "learning"


@dataclass(slots=True)
class Cell:
    """Everything kept about one worker on one operation of one style."""

    factory: str
    worker: str
    style: str
    op: str
    sam_s: float
    machine_type: str
    line: str | None = None
    n_pieces: int = 0
    ns: list[float] = field(default_factory=list)  # piece index of each kept cycle
    logs: list[float] = field(default_factory=list)  # log cycle seconds
    n_cycles: int = 0  # accepted ever (ns/logs may have been trimmed)
    n_double: int = 0
    n_interrupt: int = 0
    n_context: int = 0
    ref_log: float | None = None  # median log cycle of the latest REF_WINDOW cycles, every 5th cycle
    ref_s: float | None = None
    _since_ref: int = 0
    last_ts: datetime | None = None
    version: int = 0
    fit_version: int = -1
    fit: SkillEstimate | None = None
    curve: CurveFit | None = None

    @property
    def key(self) -> CellKey:
        return (self.factory, self.worker, self.style, self.op)

    def add_cycle(self, n: int, cycle_s: float) -> None:
        self.ns.append(float(n))
        self.logs.append(math.log(cycle_s))
        self.n_cycles += 1
        self.version += 1
        if len(self.logs) > MAX_KEEP:
            del self.ns[: len(self.ns) - KEEP_AFTER_TRIM]
            del self.logs[: len(self.logs) - KEEP_AFTER_TRIM]
        self._since_ref += 1
        if self.ref_log is None or self._since_ref >= 5:
            self._since_ref = 0
            self.ref_log = median(self.logs[-REF_WINDOW:])
            self.ref_s = math.exp(self.ref_log)


@dataclass(frozen=True, slots=True)
class SkillEstimate:
    """What the skill matrix shows for one cell. Efficiencies are fractions of standard (1.0 = 100 %)."""

    factory: str
    worker: str
    style: str
    op: str
    line: str | None
    n_pieces: int
    n_cycles: int
    efficiency: float  # now, at the current piece count
    se: float
    lo: float  # 95 % interval
    hi: float
    steady_state: float  # where the curve levels off
    forecast_next: float  # efficiency over the next FORECAST_PIECES pieces
    trend: str  # learning | steady
    p_learning: float
    recent_efficiency: float | None  # robust level of the last cycles alone, no prior
    prior_efficiency: float
    confidence: str  # high | medium | low
    double_counts: int
    interruptions: int
    updated_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        r = 4
        return {
            "factory": self.factory,
            "worker": self.worker,
            "style": self.style,
            "op": self.op,
            "line": self.line,
            "n_pieces": self.n_pieces,
            "n_cycles": self.n_cycles,
            "efficiency": round(self.efficiency, r),
            "se": round(self.se, r),
            "interval": [round(self.lo, r), round(self.hi, r)],
            "steady_state": round(self.steady_state, r),
            "forecast_next_50": round(self.forecast_next, r),
            "trend": self.trend,
            "p_learning": round(self.p_learning, 3),
            "recent_efficiency": None if self.recent_efficiency is None else round(self.recent_efficiency, r),
            "prior_efficiency": round(self.prior_efficiency, r),
            "confidence": self.confidence,
            "double_counts": self.double_counts,
            "interruptions": self.interruptions,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class FitJob:
    cell: Cell
    version: int
    copy: Cell
    prior: tuple[float, float]
    sigma_pool: float
    grid: Grid


@dataclass(slots=True)
class _Station:
    line: str | None
    worker: str | None = None
    last_t: float | None = None
    last_bundle: str | None = None
    last_op: str | None = None
    last_worker: str | None = None
    clean: bool = False


def _confidence(rel_se: float) -> str:
    if rel_se < 0.05:
        return "high"
    if rel_se < 0.12:
        return "medium"
    return "low"


class LearningState:
    """Cells per (factory, worker, style, op), fed one event at a time."""

    def __init__(
        self,
        layouts: dict[str, FactoryLayout],
        rules: Rules | None = None,
        grid: Grid = GRID,
        prior_refresh_cycles: int = 2000,
        refit_fraction: float = 0.1,
    ) -> None:
        self.layouts = layouts
        self.rules = rules or Rules()
        self.grid = grid
        # Empirical-Bayes prior over curve shapes: the average posterior of mature cells.
        self.shape_mature_cycles = 150
        self.shape_weight = 0.5  # share of the learned shape prior; the rest stays broad
        self._shape_sum: np.ndarray | None = None
        self._shape_own: dict[CellKey, np.ndarray] = {}
        self.cells: dict[CellKey, Cell] = {}
        self.stations: dict[tuple[str, str], _Station] = {}
        self._bundle_style: dict[tuple[str, str], str | None] = {}
        self._ops: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._seen_layout: dict[str, int] = {}  # factory -> id() of the layout the caches came from
        self.priors = PriorModel()
        self.start = StartModel()
        self.sigma_pool = DEFAULT_SIGMA
        self._cycles_since_priors = 0
        self._priors_ready = False
        self.prior_refresh_cycles = prior_refresh_cycles
        self.refit_fraction = refit_fraction
        self.events_applied = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A checkpoint pickled before the start model (or the measured worker ridge of the priors)
        existed loads without a replay: the model is empty and the priors are marked stale, so the
        next estimate refits both from the cells."""
        self.__dict__.update(state)
        if "start" not in state:
            self.start = StartModel()
            self._priors_ready = False
        if not hasattr(self.priors, "ridge_worker"):  # priors fitted before the measured worker ridge
            self.priors = PriorModel()
            self._priors_ready = False

    # --- per-event bookkeeping --------------------------------------------------------------
    def _station(self, factory: str, station: str) -> _Station | None:
        st = self.stations.get((factory, station))
        if st is None:
            lay = self.layouts.get(factory)
            if lay is None or station not in lay.stations:
                return None
            st = _Station(line=lay.stations[station].line_id)
            self.stations[(factory, station)] = st
        return st

    def _op_info(self, factory: str, bundle: str, op: str) -> tuple[str, float, str] | None:
        lay_id = id(self.layouts.get(factory))
        if self._seen_layout.get(factory) != lay_id:  # master data were replaced: forget lookups
            self._seen_layout[factory] = lay_id
            self._bundle_style = {k: v for k, v in self._bundle_style.items() if k[0] != factory}
            self._ops = {k: v for k, v in self._ops.items() if k[0] != factory}
        style = self._bundle_style.get((factory, bundle), "")
        if style == "":
            lay = self.layouts.get(factory)
            s = lay.style_of_bundle(bundle) if lay else None
            style = s.code if s else None
            self._bundle_style[(factory, bundle)] = style
        if style is None:
            return None
        info = self._ops.get((factory, style, op))
        if info is None:
            lay = self.layouts[factory]
            try:
                o = lay.styles[style].op(op)
            except KeyError:
                return None
            info = (o.sam_min * 60.0, o.machine_type)
            self._ops[(factory, style, op)] = info
        return style, info[0], info[1]

    def apply(self, ev: SensorEvent) -> None:
        self.events_applied += 1
        if ev.factory is None or ev.station is None:
            return
        st = self._station(ev.factory, ev.station)
        if st is None:
            return
        if isinstance(ev, Piece):
            self._piece(st, ev)
        elif isinstance(ev, Login):
            st.worker = ev.worker
            st.last_t = None
        elif isinstance(ev, Logout):
            st.worker = None
            st.last_t = None
        elif isinstance(ev, Machine):
            if ev.state != "running":
                st.clean = False
        elif isinstance(ev, (Downtime, BundleIn, BundleOut, Defect)):
            st.clean = False

    def _piece(self, st: _Station, ev: Piece) -> None:
        factory = ev.factory or ""
        worker = st.worker
        if worker is None:
            return
        info = self._op_info(factory, ev.bundle, ev.op)
        if info is None:
            return
        style, sam_s, machine_type = info
        key = (factory, worker, style, ev.op)
        cell = self.cells.get(key)
        if cell is None:
            cell = Cell(factory, worker, style, ev.op, sam_s, machine_type, st.line)
            self.cells[key] = cell
        elif cell.sam_s != sam_s:  # the bulletin was re-timed: cycles are times, the SAM applies to all
            cell.sam_s = sam_s
            cell.version += 1
        t = ev.ts.timestamp()
        same_run = (
            st.last_t is not None and st.last_op == ev.op and st.last_bundle == ev.bundle and st.last_worker == worker
        )
        ref = cell.ref_s if cell.n_cycles >= self.rules.min_cycles_for_ref else None
        expected = ref if ref is not None else sam_s / math.exp(DEFAULT_LOG_EFF)
        sensor = ev.source == "sensor"
        v = judge(
            self.rules,
            dt_s=None if st.last_t is None else t - st.last_t,
            qty=ev.qty,
            same_run=same_run,
            clean=st.clean and sensor,
            sam_s=sam_s,
            ref_cycle_s=ref,
            expected_cycle_s=expected,
        )
        if v is Verdict.DOUBLE_COUNT and not sensor:
            v = Verdict.CONTEXT  # a hand entry right after a sensor piece is an entry, not a bounce
        if v is Verdict.DOUBLE_COUNT:
            cell.n_double += ev.qty
            return
        if v is Verdict.CYCLE:
            assert st.last_t is not None
            cell.add_cycle(cell.n_pieces, (t - st.last_t) / ev.qty)
            self._cycles_since_priors += 1
        elif v is Verdict.INTERRUPTION:
            cell.n_interrupt += 1
        else:
            cell.n_context += 1
        cell.n_pieces += ev.qty
        cell.line = st.line
        cell.last_ts = ev.ts
        if st.last_t is None or t >= st.last_t:  # an out-of-order piece does not move the clock back
            st.last_t = t
        st.last_bundle, st.last_op, st.last_worker, st.clean = ev.bundle, ev.op, worker, sensor

    # --- estimates -------------------------------------------------------------------------
    def _group(self, cell: Cell) -> tuple[str, str, int]:
        lay = self.layouts.get(cell.factory)
        w = lay.workers.get(cell.worker) if lay else None
        if w is None:
            return (cell.factory, "unknown", 0)
        return (cell.factory, w.skill_group, w.grade_for(cell.machine_type, cell.op))

    def grid_for(self, cell: Cell) -> Grid:
        """The shape prior for a cell: the base grid blended with what the factory's mature cells
        showed (the cell's own contribution left out)."""
        return self._grid_without(cell.key)

    def _grid_without(self, key: CellKey) -> Grid:
        total = self._shape_sum
        if total is None:
            return self.grid
        n = len(self._shape_own)
        own = self._shape_own.get(key)
        if own is not None:
            if n < 2:
                return self.grid
            pop = (total - own) / (n - 1)
        else:
            pop = total / n
        base = np.exp(self.grid.log_prior)
        mixed = (1.0 - self.shape_weight) * base + self.shape_weight * pop
        return Grid(self.grid.family, self.grid.a, self.grid.b, np.log(np.maximum(mixed, 1e-300)))

    def _learn_shapes(self) -> None:
        own: dict[CellKey, np.ndarray] = {}
        for cell in self.cells.values():
            if (
                cell.curve is not None
                and cell.curve.n_obs > 0
                and cell.n_cycles >= self.shape_mature_cycles
                and cell.curve.grid.family.shape == self.grid.family.shape
            ):
                own[cell.key] = cell.curve.weights
        if len(own) >= 10:
            self._shape_own = own
            self._shape_sum = np.sum(list(own.values()), axis=0)
        else:
            self._shape_own, self._shape_sum = {}, None

    def _prior_for(self, cell: Cell) -> tuple[float, float]:
        group = self._group(cell)
        return self.priors.prior(
            cell.key, (cell.factory, cell.style, cell.op), group, (cell.factory, cell.worker), _grade_of(group)
        )

    def refresh_priors(self, force: bool = False) -> None:
        """Refit the factory-wide shrinkage targets from every cell with enough cycles.

        A cell's level is its latest fitted steady state when a curve says it is still learning,
        otherwise the robust level of its recent cycles.
        """
        due = max(self.prior_refresh_cycles, 20 * len(self.cells))
        if not force and self._priors_ready and self._cycles_since_priors < due:
            return
        self._cycles_since_priors = 0
        inputs: list[PriorInput] = []
        sigmas: list[float] = []
        for cell in self.cells.values():
            if len(cell.logs) < 20:
                continue
            z = _log_eff(cell)
            sigmas.append(diff_sd(z[-RECENT_WINDOW:]))
            if cell.fit is not None and cell.fit.trend == "learning":
                ss = cell.fit.steady_state
                rel = cell.fit.se / max(cell.fit.efficiency, 1e-6)
                inputs.append(self._prior_input(cell, math.log(ss), max(rel, 0.02) ** 2))
                continue
            loc = huber_location(z[-RECENT_WINDOW:])
            inputs.append(self._prior_input(cell, loc.loc - 0.5 * loc.sd**2, loc.se**2))
        if sigmas:
            self.sigma_pool = max(0.03, median(sigmas))
        self.priors = fit_priors(inputs)
        self.start = fit_start(self._start_samples())
        self._learn_shapes()
        self._priors_ready = True
        if force:
            for cell in self.cells.values():
                cell.fit_version = -1  # refit everything against the new priors
        # Otherwise cached fits keep their old prior until the cell has new data: priors move slowly,
        # and refitting every cell at once would hold the ingest lock for seconds in a big factory.

    def _start_samples(self) -> list[StartSample]:
        """Each cell whose first bundle was seen: the log level of its cycles in that bundle
        (noise-corrected as in ``estimate_cell``) against its steady-state prior."""
        out: list[StartSample] = []
        for cell in self.cells.values():
            lay = self.layouts.get(cell.factory)
            st = lay.styles.get(cell.style) if lay else None
            first = st.bundle_size if st is not None else FORECAST_PIECES
            if not cell.ns or cell.ns[0] >= first:
                continue  # trimmed, or its first pieces gave no cycle
            z = [math.log(cell.sam_s) - y for n, y in zip(cell.ns, cell.logs, strict=True) if n < first]
            if len(z) < 3:
                continue
            level = sum(z) / len(z) - 0.5 * self.sigma_pool**2
            m, _ = self._prior_for(cell)
            out.append(StartSample(self._group(cell), level - m))
        return out

    def _prior_input(self, cell: Cell, log_eff: float, var: float) -> PriorInput:
        group = self._group(cell)
        return PriorInput(
            cell.key,
            (cell.factory, cell.style, cell.op),
            group,
            (cell.factory, cell.worker),
            log_eff,
            var,
            _grade_of(group),
        )

    def _needs_fit(self, cell: Cell) -> bool:
        if cell.fit is None or cell.fit_version < 0:
            return True
        new = cell.version - cell.fit_version
        # A few more cycles on a long history barely move the fit: then only the counts are refreshed.
        return new > 0 and new >= self.refit_fraction * cell.n_cycles

    def estimate(self, cell: Cell, upto_n: int | None = None) -> SkillEstimate:
        """The cell's estimate now (cached), or as it would have been after ``upto_n`` pieces."""
        self.refresh_priors()
        if upto_n is None and not self._needs_fit(cell):
            assert cell.fit is not None
            if cell.version == cell.fit_version:
                return cell.fit
            return replace(
                cell.fit,
                n_pieces=cell.n_pieces,
                n_cycles=cell.n_cycles,
                double_counts=cell.n_double,
                interruptions=cell.n_interrupt,
                updated_at=cell.last_ts.astimezone(UTC) if cell.last_ts else None,
            )
        est, curve = estimate_cell(cell, self._prior_for(cell), self.sigma_pool, self.grid_for(cell), upto_n)
        if upto_n is None:
            cell.fit, cell.curve, cell.fit_version = est, curve, cell.version
        return est

    # Fitting without holding the ingest lock: copy under the lock, fit outside, store under it.
    def fit_jobs(self, cells: Iterable[Cell]) -> list[FitJob]:
        """Copies of the cells that need a fit, with their priors (call under the lock)."""
        self.refresh_priors()
        return [
            FitJob(
                cell,
                cell.version,
                replace(cell, ns=list(cell.ns), logs=list(cell.logs), fit=None, curve=None),
                self._prior_for(cell),
                self.sigma_pool,
                self.grid_for(cell),
            )
            for cell in cells
            if self._needs_fit(cell)
        ]

    def run_jobs(self, jobs: Iterable[FitJob]) -> list[tuple[FitJob, SkillEstimate, CurveFit]]:
        """Fit the copies (no shared state is touched: safe outside the lock)."""
        out = []
        for j in jobs:
            yielding.point()  # a page that fits (the suggestion's skills) gives way to ingest here
            out.append((j, *estimate_cell(j.copy, j.prior, j.sigma_pool, j.grid)))
        return out

    def store_fits(self, results: Iterable[tuple[FitJob, SkillEstimate, CurveFit]]) -> None:
        """Keep the fits whose cell has not been refitted meanwhile (call under the lock)."""
        for job, est, curve in results:
            if job.cell.fit_version < job.version:
                job.cell.fit, job.cell.curve, job.cell.fit_version = est, curve, job.version

    def forecast(self, cell: Cell, pieces: int) -> float:
        """Efficiency over the cell's next ``pieces`` pieces (SAM earned ÷ time), from its curve."""
        self.estimate(cell)
        assert cell.curve is not None
        return cell.curve.block_efficiency(float(cell.n_pieces), pieces)

    def planning_efficiency(self, factory: str, worker: str, style: str, op: str, pieces: int) -> float:
        """What a balance should count on for ``worker`` on ``op`` over her next ``pieces``.

        One estimator for every pair, however much is known of it: the curve posterior of the cell
        (its cycles and the factory's prior, weighted by their precisions; ``fit_curve``), or for a
        pair without a cycle the prior alone with the population's learning curve — a pair nobody
        has sewn starts at the bottom of its curve, not at the steady state. The position on the
        curve is the pieces the worker has made of it (cycles or not), and the figure is SAM ÷
        expected time per piece (``CurveFit.planning_efficiency``).
        """
        cell = self.cells.get((factory, worker, style, op))
        if cell is not None and cell.n_cycles > 0:
            self.estimate(cell)
            assert cell.curve is not None
            return cell.curve.planning_efficiency(float(cell.n_pieces), pieces)
        m, sd, group = self._prior(factory, worker, style, op)
        gap, var = self.start.gap(group)
        if var is None:
            var = sd * sd
        # log efficiency ~ N(m + gap, var): SAM ÷ expected time is exp(m + gap − var/2)
        return math.exp(m + gap - 0.5 * var)

    def planning_sd(self, factory: str, worker: str, style: str, op: str, pieces: int) -> float:
        """The uncertainty of ``planning_efficiency``: the posterior sd of the pair's log efficiency
        over her next ``pieces`` (a pair without a cycle: its prior with the group's start gap)."""
        cell = self.cells.get((factory, worker, style, op))
        if cell is not None and cell.n_cycles > 0:
            self.estimate(cell)
            assert cell.curve is not None
            return cell.curve.planning_log_sd(float(cell.n_pieces), pieces)
        _m, sd, group = self._prior(factory, worker, style, op)
        _gap, var = self.start.gap(group)
        return sd if var is None else math.sqrt(var)

    def planning_draws(
        self, factory: str, worker: str, style: str, op: str, pieces: int, rng: np.random.Generator, k: int
    ) -> np.ndarray:
        """``k`` draws from the posterior of what ``planning_efficiency`` summarises: the pair's
        efficiency over her next ``pieces`` (SAM ÷ time). A cell with cycles draws from its curve
        posterior (``CurveFit.draw_block_efficiency``); a pair without one from its prior with the
        group's start gap, as ``planning_efficiency`` counts it."""
        cell = self.cells.get((factory, worker, style, op))
        if cell is not None and cell.n_cycles > 0:
            self.estimate(cell)
            assert cell.curve is not None
            return cell.curve.draw_block_efficiency(float(cell.n_pieces), pieces, rng, k)
        m, sd, group = self._prior(factory, worker, style, op)
        gap, var = self.start.gap(group)
        if var is None:
            var = sd * sd
        return np.asarray(np.exp(m + gap + math.sqrt(var) * rng.standard_normal(k)), dtype=float)

    def prior_draws(
        self, factory: str, worker: str, style: str, op: str, rng: np.random.Generator, k: int
    ) -> np.ndarray:
        """``k`` draws of a pair's steady-state efficiency from its prior (``prior_estimate`` is
        their mean)."""
        m, sd, _group = self._prior(factory, worker, style, op)
        return np.asarray(np.exp(m + sd * rng.standard_normal(k)), dtype=float)

    def iter_cells(
        self, factory: str | None = None, line: str | None = None, worker: str | None = None
    ) -> Iterator[Cell]:
        for cell in self.cells.values():
            if factory is not None and cell.factory != factory:
                continue
            if worker is not None and cell.worker != worker:
                continue
            if line is not None and cell.line != line:
                lay = self.layouts.get(cell.factory)
                w = lay.workers.get(cell.worker) if lay else None
                if w is None or w.line_id != line:
                    continue
            yield cell

    def estimates(self, cells: Iterable[Cell]) -> list[SkillEstimate]:
        return [self.estimate(c) for c in cells]

    def prior_estimate(self, factory: str, worker: str, style: str, op: str) -> float:
        """Efficiency expected of a worker on an operation they have never done (steady state)."""
        m, sd, _group = self._prior(factory, worker, style, op)
        return math.exp(m + 0.5 * sd * sd)

    def _prior(self, factory: str, worker: str, style: str, op: str) -> tuple[float, float, tuple[str, str, int]]:
        """The prior of a pair in log efficiency (mean, sd) and the skill group it comes from."""
        self.refresh_priors()
        lay = self.layouts[factory]
        o = lay.styles[style].op(op)
        w = lay.workers.get(worker)
        group = (factory, w.skill_group, w.grade_for(o.machine_type, op)) if w else (factory, "unknown", 0)
        m, sd = self.priors.prior(None, (factory, style, op), group, (factory, worker), _grade_of(group))
        return m, sd, group


def _grade_of(group: tuple[str, str, int]) -> float | None:
    """The skill grade of a (factory, skill group, grade) key; None for a worker the layout lacks."""
    return None if group[1] == "unknown" else float(group[2])


def _log_eff(cell: Cell, upto_n: int | None = None) -> list[float]:
    """Per-cycle log efficiency, log(SAM seconds ÷ cycle seconds), in piece order."""
    ls = math.log(cell.sam_s)
    if upto_n is None:
        return [ls - y for y in cell.logs]
    return [ls - y for n, y in zip(cell.ns, cell.logs, strict=True) if n < upto_n]


def _winsorise(z: np.ndarray, sigma: float, k: float = 2.5, half: int = 4) -> np.ndarray:
    """Clip each value to ±k·σ around the median of its neighbours: robust to a trend."""
    c = median_filter(z, size=2 * half + 1, mode="nearest")
    return np.clip(z, c - k * sigma, c + k * sigma)


def estimate_cell(
    cell: Cell, prior: tuple[float, float], sigma_pool: float, grid: Grid = GRID, upto_n: int | None = None
) -> tuple[SkillEstimate, CurveFit]:
    """Fit the curve mixture to one cell's cycles (those before piece ``upto_n``) and summarise it."""
    if upto_n is None:
        ns = np.asarray(cell.ns, dtype=float)
        raw = np.log(cell.sam_s) - np.asarray(cell.logs, dtype=float)
        n_now = cell.n_pieces
    else:
        mask = np.asarray(cell.ns, dtype=float) < upto_n
        ns = np.asarray(cell.ns, dtype=float)[mask]
        raw = (np.log(cell.sam_s) - np.asarray(cell.logs, dtype=float))[mask]
        n_now = min(cell.n_pieces, upto_n)
    k = len(raw)
    # Noise σ of log cycles: the cell's own (from successive differences, trend-proof) pooled with
    # the factory's, weighted by degrees of freedom.
    own_sd = diff_sd(raw.tolist()) if k >= 3 else sigma_pool
    k0 = 10.0
    sigma = math.sqrt((k0 * sigma_pool**2 + max(0, k - 1) * own_sd**2) / (k0 + max(0, k - 1)))
    recent: float | None = None
    if k:
        z = _winsorise(raw, sigma) - 0.5 * sigma * sigma  # E[z] = log efficiency
        loc = huber_location(raw[-RECENT_WINDOW:].tolist(), sd=sigma if k < 10 else None)
        recent = math.exp(loc.loc - 0.5 * loc.sd**2)
        if k > MAX_POINTS:
            b = math.ceil(k / MAX_POINTS)
            m = (k // b) * b
            # the oldest k − m cycles stay single, the rest are averaged in bins of b (weight b)
            head_n, head_z = ns[: k - m], z[: k - m]
            bn = ns[k - m :].reshape(-1, b).mean(axis=1)
            bz = z[k - m :].reshape(-1, b).mean(axis=1)
            fit_n = np.concatenate([head_n, bn])
            fit_z = np.concatenate([head_z, bz])
            fit_w = np.concatenate([np.ones(len(head_n)), np.full(len(bn), float(b))])
        else:
            fit_n, fit_z, fit_w = ns, z, np.ones(k)
    else:
        fit_n = fit_z = fit_w = np.zeros(0)
    fit: CurveFit = fit_curve(fit_n, fit_z, fit_w, sigma, prior[0], prior[1], grid)
    eff, sd = fit.efficiency(float(n_now))
    later, _ = fit.efficiency(float(n_now + TREND_PIECES))
    fam = fit.family_weights()
    p_learning = 1.0 - fam["flat"]
    trend = "learning" if later > eff * (1.0 + TREND_GAIN) else "steady"
    # Interval on the log scale (efficiency is positive and skewed).
    sd_log = math.sqrt(math.log1p((sd / eff) ** 2)) if eff > 0 else 0.0
    centre = math.log(eff) - 0.5 * sd_log**2 if eff > 0 else 0.0
    est = SkillEstimate(
        factory=cell.factory,
        worker=cell.worker,
        style=cell.style,
        op=cell.op,
        line=cell.line,
        n_pieces=n_now,
        n_cycles=cell.n_cycles if upto_n is None else k,
        efficiency=eff,
        se=sd,
        lo=math.exp(centre - 1.96 * sd_log),
        hi=math.exp(centre + 1.96 * sd_log),
        steady_state=fit.steady_state(),
        forecast_next=fit.block_efficiency(float(n_now), FORECAST_PIECES),
        trend=trend,
        p_learning=p_learning,
        recent_efficiency=recent,
        prior_efficiency=math.exp(prior[0] + 0.5 * prior[1] ** 2),
        confidence=_confidence(sd / eff if eff else 1.0),
        double_counts=cell.n_double,
        interruptions=cell.n_interrupt,
        updated_at=cell.last_ts.astimezone(UTC) if cell.last_ts else None,
    )
    return est, fit
