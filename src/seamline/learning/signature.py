"""Counting pieces from motor bursts: per-operation signatures learned from scanned bundles.

A retrofit sensor sees the motor run and stop, never a piece. What makes a piece visible is that an
operation repeats: the same seams, so about the same number of bursts, trims and run seconds per
piece, and a longer idle gap between pieces (dispose, pick up, align) than inside one. None of these
is exact (repositioning splits a seam, rework adds bursts, a fast worker runs fewer seconds), so a
signature keeps, for every feature, the per-piece ratio *and its spread across bundles*, learned only
from bundles whose true quantity a scan told us. A bundle in work is then counted as the
inverse-variance weighted mean of the per-feature estimates: a feature that was steady in the known
bundles gets the weight, a noisy one (or one the sensor does not report, e.g. trims) none.

One feature is the piece count of a segmentation model (learning/piece_segments.py: pieces as
runs of bursts whose motor seconds, burst counts and gaps look like the known pieces'); its bias
per piece is what the reconciliations recorded (segments counted before the scan vs pieces
scanned), pulled toward the factory's. Rounding to whole pieces is carried from bundle to bundle
at a station, so it does not add up over a shift.

The scan's quantity always wins: at bundle done the count is reconciled, the difference recorded
and the bundle becomes training data. Until an operation has ``MIN_BUNDLES`` known bundles it is not
counted at all (cold start: scans only). A bundle whose bursts do not fit the signature (far more
bursts per piece than learned: rework, the wrong operation, a sensor that chatters) is flagged.

Pure: no database, no clock, no I/O; the ingest projection (service_layer/counting.py) and
bench/counting.py drive it with events.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from .piece_segments import DpState, Labels, PieceModel, fit, label, label_by_gaps, replay

MIN_BUNDLES = 3  # known bundles before an operation (or a worker on it) is counted from bursts
KEEP_BUNDLES = 30  # training bundles kept per key: the signature follows drift (learning curves)
GAP_MIN_S = 0.1  # gaps shorter than this are one burst's stutter, never between pieces
GAP_DEFAULT_S = 3.0  # bundles too small to read a gap from (1 piece, or fewer gaps than pieces)
CV_FLOOR = 0.004  # no feature is trusted as perfectly steady from a handful of bundles
SEGMENT_MIN_SHARE = 0.5  # of a piece's run seconds: a shorter segment is a tap or a resewn seam
# Pseudo-bundles pulling each feature's spread toward the signature's mean spread: from 3 bundles a
# spread is a poor estimate, and a feature that looked steady by chance would take all the weight.
CV_SHRINK = 1.0
MISFIT_RATIO = 1.6  # bursts per piece this many times the signature's: flag the bundle
MISFIT_MIN_EXCESS = 6  # ... and at least this many bursts more than expected (small bundles)
TRIMS_LOW_SHARE = 0.5  # trims below this share of the signature's (and >= 6 fewer): flag the bundle
# The segment count's bias (counted / scanned pieces) is pulled toward the factory's, known from
# every reconciled bundle, as if the key had this many more pieces at the factory's bias: one key's
# few bundles hold only a handful of resewn seams or merged pieces, far too few to read its own.
BIAS_PRIOR_PIECES = 150.0
POOL_PRIOR_PIECES = 50.0  # ... and the factory's bias itself starts from none (1.0), this strongly


def restore_slots(obj: Any, state: object) -> None:
    """Unpickle a slots dataclass from a checkpoint taken before some of its fields existed: the
    missing ones get their defaults (pickle would leave them unset)."""
    d: dict[str, Any] = {}
    for part in state if isinstance(state, tuple) else (state,):
        if isinstance(part, dict):
            d.update(part)
    for f in fields(obj):
        if f.name in d:
            setattr(obj, f.name, d[f.name])
        elif f.default is not MISSING:
            setattr(obj, f.name, f.default)
        elif f.default_factory is not MISSING:
            setattr(obj, f.name, f.default_factory())


Key = tuple[str, str]  # (style, op)
WorkerKey = tuple[str, str, str]  # (style, op, worker)


@dataclass(slots=True)
class Window:
    """What the sensor reported while one bundle was in work at one station."""

    bursts: int = 0
    trims: int = 0
    run_s: float = 0.0
    gaps_s: list[float] = field(default_factory=list)  # idle seconds before each burst but the first
    runs_s: list[float] = field(default_factory=list)  # run seconds of each burst
    trims_seen: bool = False  # the sensor reports trims at all
    # Pieces by segment for the tracked (gap, minimum run) pair, kept up to date as bursts arrive
    # (counting is per burst: O(1) each): closed segments that count, and the open one's run.
    _thr: tuple[float, float] = (-1.0, 0.0)
    _n_seg: int = 0
    _open_run: float = 0.0
    _dp: DpState | None = None  # the best segmentation into pieces under a signature's model

    def __setstate__(self, state: object) -> None:
        restore_slots(self, state)

    def dp_pieces(self, m: PieceModel) -> int:
        """Pieces in the best segmentation under ``m`` (caught up burst by burst; a new model
        replays the window once)."""
        st = self._dp
        if st is None or st.version != m.version:
            st = self._dp = replay(m, self.gaps_s, self.runs_s)
        for j in range(st.n, self.bursts):
            st.add(m, self.gaps_s[j - 1] if j else None, self.runs_s[j])
        return st.pieces()

    def add(self, start_s: float, run_s: float, trim: bool, last_end_s: float | None) -> None:
        g = None
        if last_end_s is not None:
            g = max(0.0, start_s - last_end_s)
            self.gaps_s.append(g)
        self.runs_s.append(run_s)
        self.bursts += 1
        self.run_s += run_s
        if trim:
            self.trims += 1
            self.trims_seen = True
        gap_s, min_run_s = self._thr
        if g is not None and g >= gap_s:
            self._n_seg += self._open_run >= min_run_s
            self._open_run = 0.0
        self._open_run += run_s

    def segments(self, gap_s: float, min_run_s: float) -> int:
        """Pieces by segment: the bursts split at idle gaps of at least ``gap_s`` (the
        dispose/pick-up between pieces); a segment counts if its motor ran ``min_run_s`` or more,
        so a lone pedal tap, backtack or the resewn seam of a rework (a short run after a long
        gap) is not taken for a piece, nor a piece's first seam before it has run long enough."""
        if (gap_s, min_run_s) == self._thr:
            return self._n_seg + (self._open_run >= min_run_s)
        n, run = 0, 0.0
        for i, r in enumerate(self.runs_s):
            if i and self.gaps_s[i - 1] >= gap_s:
                n += run >= min_run_s
                run = 0.0
            run += r
        return n + (run >= min_run_s) if self.runs_s else 0

    def track(self, gap_s: float, min_run_s: float) -> None:
        """Keep the segment count for these thresholds up to date from now on."""
        if (gap_s, min_run_s) != self._thr:
            n, run = 0, 0.0
            for i, r in enumerate(self.runs_s):
                if i and self.gaps_s[i - 1] >= gap_s:
                    n += run >= min_run_s
                    run = 0.0
                run += r
            self._thr, self._n_seg, self._open_run = (gap_s, min_run_s), n, run

    def features(self, gap_s: float, min_run_s: float) -> dict[str, float]:
        if not self.bursts:
            return {}
        f = {
            "bursts": float(self.bursts),
            "run_s": self.run_s,
            "pieces_by_gap": float(self.segments(gap_s, min_run_s)),
        }
        if self.trims_seen:
            f["trims"] = float(self.trims)
        return f


@dataclass(slots=True)
class Sample:
    window: Window
    pieces: int
    # The bundle cut into its pieces (piece_segments.label) and the segment count of its window:
    # counted before its scan where a model existed (what the reconciliation recorded), else
    # by the first model fitted on it. Filled lazily by ``learn``.
    labels: Labels | None = None
    dp: float | None = None

    def __setstate__(self, state: object) -> None:
        restore_slots(self, state)


@dataclass(slots=True)
class Signature:
    """Per-piece ratio and coefficient of variation of each feature, and the gap threshold."""

    gap_s: float
    min_run_s: float  # a segment of bursts shorter than this is no piece (see Window.segments)
    ratio: dict[str, float]
    cv: dict[str, float]
    bundles: int
    model: PieceModel | None = None  # pieces as segments (piece_segments.py)
    dp_ratio: float = 1.0  # segments counted per scanned piece: the bias the count is divided by

    def estimate(self, w: Window) -> float:
        w.track(self.gap_s, self.min_run_s)
        feats = w.features(self.gap_s, self.min_run_s)
        if self.model is not None:
            feats["segments"] = float(w.dp_pieces(self.model))
        num = den = 0.0
        for k, x in feats.items():
            r = self.ratio.get(k)
            if not r:
                continue
            wt = 1.0 / max(self.cv[k], CV_FLOOR) ** 2
            num += wt * x / r
            den += wt
        return num / den if den else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "bundles": self.bundles,
            "gap_s": self.gap_s,
            "min_run_s": round(self.min_run_s, 3),
            "per_piece": {k: round(v, 4) for k, v in self.ratio.items()},
            "cv": {k: round(v, 4) for k, v in self.cv.items()},
            "segments_per_piece": round(self.dp_ratio, 4),
            **(self.model.as_dict() if self.model is not None else {}),
        }


def piece_gap(samples: list[Sample]) -> float:
    """The idle gap that separates pieces, from bundles of known quantity: a bundle of n pieces
    has n - 1 gaps between pieces, the longest of its gaps if pieces are told apart by their
    gaps; its threshold lies between its (n-1)-th and n-th longest gap (geometric mean). The
    median over the bundles: read off the data, not fitted to make the known bundles look steady
    (a threshold picked for the steadiest count on 3 bundles is often a lucky one)."""
    mids = []
    for s in samples:
        gaps = sorted(s.window.gaps_s, reverse=True)
        n = s.pieces
        if n >= 2 and len(gaps) >= n:
            mids.append(math.sqrt(max(gaps[n - 2], GAP_MIN_S) * max(gaps[n - 1], GAP_MIN_S)))
        elif n >= 2 and len(gaps) == n - 1:
            mids.append(max(gaps[-1] / 2, GAP_MIN_S))  # every gap is a piece's end
    if not mids:
        return GAP_DEFAULT_S
    mids.sort()
    return mids[len(mids) // 2]


def fit_model(samples: list[Sample]) -> PieceModel | None:
    """The segment model of known bundles. A bundle is labelled once: by its longest gaps until a
    model exists, then by the model fitted on all (exactly its scanned pieces), and kept so."""
    fresh = [s for s in samples if s.labels is None]
    for s in fresh:
        s.labels = label_by_gaps(s.window.gaps_s, s.window.runs_s, s.pieces)
    m = fit([s.labels for s in samples if s.labels is not None])
    redo = [s for s in samples if s.labels is not None and not s.labels.by_model]
    if m is not None and redo:
        for s in redo:
            lb = label(m, s.window.gaps_s, s.window.runs_s, s.pieces)
            if lb is None:  # cannot be cut into its pieces (or too big to try): keep the gap labels
                assert s.labels is not None
                s.labels.by_model = True
            else:
                s.labels = lb
        m = fit([s.labels for s in samples if s.labels is not None])
    return m


def learn(samples: list[Sample], pool: tuple[float, float] = (0.0, 0.0)) -> Signature | None:
    """Fit a signature from known bundles; None below MIN_BUNDLES. ``pool``: segments counted and
    pieces scanned over every reconciled bundle of the factory (the prior of the count's bias)."""
    samples = [s for s in samples if s.pieces > 0 and s.window.bursts > 0]
    if len(samples) < MIN_BUNDLES:
        return None

    def ratio_cv(values: list[float], pieces: list[int]) -> tuple[float, float]:
        per = [v / n for v, n in zip(values, pieces, strict=True)]
        # Pooled ratio (Σx / Σn) weighs big bundles more; the spread is the bundles' scatter.
        r = sum(values) / sum(pieces)
        m = sum(per) / len(per)
        sd = math.sqrt(sum((x - m) ** 2 for x in per) / (len(per) - 1)) if len(per) > 1 else r
        return r, (sd / r if r > 0 else math.inf)

    pieces = [s.pieces for s in samples]
    min_run = SEGMENT_MIN_SHARE * sum(s.window.run_s for s in samples) / sum(pieces)
    best_gap = piece_gap(samples)
    ratio: dict[str, float] = {}
    cv: dict[str, float] = {}
    feats = [s.window.features(best_gap, min_run) for s in samples]
    keys = set.intersection(*(set(f) for f in feats))
    for k in sorted(keys):
        vals = [f[k] for f in feats]
        r, c = ratio_cv(vals, pieces)
        if r > 0 and math.isfinite(c):
            ratio[k], cv[k] = r, c
    if not ratio:
        return None
    model = fit_model(samples)
    dp_ratio = 1.0
    if model is not None:
        for s in samples:
            if s.dp is None:
                s.dp = float(replay(model, s.window.gaps_s, s.window.runs_s).pieces())
        prior = (pool[0] + POOL_PRIOR_PIECES) / (pool[1] + POOL_PRIOR_PIECES)
        seg = sum(s.dp or 0.0 for s in samples)
        dp_ratio = (seg + BIAS_PRIOR_PIECES * prior) / (sum(pieces) + BIAS_PRIOR_PIECES)
        _r, c = ratio_cv([s.dp or 0.0 for s in samples], pieces)
        ratio["segments"], cv["segments"] = dp_ratio, c
    if len(cv) > 1:
        m = len(samples) - 1
        prior = sum(max(c, CV_FLOOR) ** 2 for c in cv.values()) / len(cv)
        cv = {k: math.sqrt((m * c * c + CV_SHRINK * prior) / (m + CV_SHRINK)) for k, c in cv.items()}
    return Signature(best_gap, min_run, ratio, cv, len(samples), model, dp_ratio)


@dataclass(slots=True)
class Open:
    """A bundle in work at a station."""

    bundle: str
    style: str | None
    op: str | None
    worker: str | None
    since_s: float
    window: Window = field(default_factory=Window)
    last_end_s: float | None = None
    counted: int = 0  # pieces counted from bursts so far (provisional)
    signature: str = "none"  # which signature counts it: worker | operation | none (cold start)
    flagged: bool = False


@dataclass(frozen=True, slots=True)
class Reconciliation:
    station: str
    bundle: str
    style: str | None
    op: str
    worker: str | None
    pieces: int  # the scan's quantity: wins
    counted: int  # what the bursts said
    bursts: int
    signature: str

    @property
    def diff(self) -> int:
        return self.counted - self.pieces


@dataclass(frozen=True, slots=True)
class Flag:
    station: str
    bundle: str
    op: str | None
    worker: str | None
    kind: str  # too_many_bursts | too_few_trims | no_bursts | over_quantity
    detail: str
    at_s: float
    # The figures behind it, for a translated message: bursts seen / pieces / bursts expected, or
    # pieces counted / bundle quantity.
    figures: tuple[int, ...] = ()


def _recent() -> deque[Sample]:
    """The last KEEP_BUNDLES samples (a named factory: counters are pickled into checkpoints)."""
    return deque(maxlen=KEEP_BUNDLES)


class BurstCounter:
    """Counts pieces per station from bursts between a bundle scan and its done scan.

    Times are seconds on any monotonic scale the caller chooses (the projection uses POSIX
    seconds of the event timestamps).
    """

    def __init__(self) -> None:
        self.samples: dict[Key, deque[Sample]] = defaultdict(_recent)
        self.worker_samples: dict[WorkerKey, deque[Sample]] = defaultdict(_recent)
        self._sig: dict[tuple[str, ...], Signature | None] = {}
        self.open: dict[str, Open] = {}
        self.reconciled: deque[Reconciliation] = deque(maxlen=5000)
        self.flags: deque[Flag] = deque(maxlen=2000)
        # Segments counted and pieces scanned over every known bundle (the bias prior, see learn).
        self.pool: list[float] = [0.0, 0.0]
        # Per station, what rounding left over: the unrounded estimates less the whole pieces
        # shown, carried into the next bundle's count, so a shift's total is not the sum of
        # rounded bundles (a bias of up to half a piece per bundle would add up over a shift).
        self.carry: dict[str, float] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A checkpoint from before segment counting: new fields get defaults, signatures refit.
        self.__dict__.update(state)
        self.__dict__.setdefault("pool", [0.0, 0.0])
        self.__dict__.setdefault("carry", {})
        self._sig = {}

    def _learn(self, samples: list[Sample]) -> Signature | None:
        fresh = [s for s in samples if s.dp is None]
        sig = learn(samples, (self.pool[0], self.pool[1]))
        for s in fresh:
            if s.dp is not None:
                self.pool[0] += s.dp
                self.pool[1] += s.pieces
        return sig

    # --- signatures ---------------------------------------------------------------------------
    def signature_for(self, style: str | None, op: str | None, worker: str | None) -> tuple[Signature | None, str]:
        """The worker's own signature where it has enough bundles, else the operation's."""
        if style is None or op is None:
            return None, "none"
        if worker is not None:
            wk = (style, op, worker)
            if wk not in self._sig:
                self._sig[wk] = self._learn(list(self.worker_samples.get(wk, ())))
            if self._sig[wk] is not None:
                return self._sig[wk], "worker"
        k = (style, op)
        if k not in self._sig:
            self._sig[k] = self._learn(list(self.samples.get(k, ())))
        return self._sig[k], ("operation" if self._sig[k] is not None else "none")

    def teach(
        self, style: str, op: str, worker: str | None, window: Window, pieces: int, counted: float | None = None
    ) -> None:
        """A reconciled bundle becomes training data; ``counted``: its segment count before the
        scan (what the reconciliation recorded), which corrects the key's bias."""
        s = Sample(window, pieces, dp=counted)
        if counted is not None:
            self.pool[0] += counted
            self.pool[1] += pieces
        self.samples[(style, op)].append(s)
        self._sig.pop((style, op), None)
        if worker is not None:
            self.worker_samples[(style, op, worker)].append(s)
            self._sig.pop((style, op, worker), None)

    # --- events -------------------------------------------------------------------------------
    def bundle_in(
        self, station: str, bundle: str, at_s: float, style: str | None, op: str | None, worker: str | None
    ) -> Open:
        """A bundle is scanned in; a previous open bundle at the station stays open until done."""
        o = Open(bundle, style, op, worker, at_s)
        _sig, o.signature = self.signature_for(style, op, worker)
        self.open[station] = o
        return o

    def burst(self, station: str, start_s: float, run_s: float, trim: bool = False) -> int:
        """Fold one burst; returns the change of the bundle's count (0 while cold or between
        bundles). It may be negative: a later burst can show that two segments were one piece, and
        a count that never goes back would keep every such high."""
        o = self.open.get(station)
        if o is None:
            return 0
        o.window.add(start_s, run_s, trim, o.last_end_s)
        o.last_end_s = start_s + run_s
        sig, o.signature = self.signature_for(o.style, o.op, o.worker)
        if sig is None:
            return 0
        est = max(0, math.floor(sig.estimate(o.window) + self.carry.get(station, 0.0) + 0.5))
        delta = est - o.counted
        o.counted = est
        return delta

    def bundle_done(self, station: str, bundle: str, op: str, pieces: int, at_s: float) -> Reconciliation | None:
        """The scan's quantity for the bundle: reconcile, learn, flag what does not fit."""
        o = self.open.get(station)
        if o is None or o.bundle != bundle:
            return None
        del self.open[station]
        sig, which = self.signature_for(o.style, op, o.worker)
        rec = Reconciliation(station, bundle, o.style, op, o.worker, pieces, o.counted, o.window.bursts, which)
        self.reconciled.append(rec)
        segments: float | None = None
        if sig is not None and op == o.op and o.window.bursts:
            if o.signature != "none":
                self.carry[station] = self.carry.get(station, 0.0) + sig.estimate(o.window) - o.counted
            if sig.model is not None:
                segments = float(o.window.dp_pieces(sig.model))
        if sig is not None and pieces > 0:
            expected = sig.ratio.get("bursts", 0.0) * pieces
            excess = o.window.bursts - expected
            if o.window.bursts > MISFIT_RATIO * expected and excess >= MISFIT_MIN_EXCESS:
                self.flags.append(
                    Flag(
                        station,
                        bundle,
                        op,
                        o.worker,
                        "too_many_bursts",
                        f"{o.window.bursts} bursts for {pieces} pieces, about {expected:.0f} expected",
                        at_s,
                        (o.window.bursts, pieces, round(expected)),
                    )
                )
                return rec  # rework / wrong operation / broken sensor: do not learn from it
        trims_pp = sig.ratio.get("trims") if sig is not None else None
        if trims_pp and pieces > 0 and o.window.bursts > 0:
            expected_trims = trims_pp * pieces
            if (
                o.window.trims < TRIMS_LOW_SHARE * expected_trims
                and expected_trims - o.window.trims >= MISFIT_MIN_EXCESS
            ):
                # The operation trims at every seam end, this bundle hardly did: the trimmer is off or
                # broken, or the sensor lost its trim input. Counted without trims; not learned from.
                self.flags.append(
                    Flag(
                        station,
                        bundle,
                        op,
                        o.worker,
                        "too_few_trims",
                        f"{o.window.trims} trims for {pieces} pieces, about {expected_trims:.0f} expected",
                        at_s,
                        (o.window.trims, pieces, round(expected_trims)),
                    )
                )
                return rec
        if pieces > 0 and o.window.bursts == 0 and sig is not None:
            self.flags.append(
                Flag(station, bundle, op, o.worker, "no_bursts", f"{pieces} pieces, no bursts", at_s, (0, pieces))
            )
            return rec
        if o.style is not None and o.window.bursts > 0 and pieces > 0:
            self.teach(o.style, op, o.worker, o.window, pieces, segments)
        return rec

    def check_quantity(self, station: str, qty: int, at_s: float) -> Flag | None:
        """Flag once when the burst count runs past the bundle's quantity by a margin."""
        o = self.open.get(station)
        if o is None or o.flagged or qty <= 0 or o.counted <= qty * 1.2 + 1:
            return None
        o.flagged = True
        detail = f"{o.counted} counted, bundle of {qty}"
        f = Flag(station, o.bundle, o.op, o.worker, "over_quantity", detail, at_s, (o.counted, qty))
        self.flags.append(f)
        return f
