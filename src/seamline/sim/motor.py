"""What a retrofit motor sensor sees: sewing bursts per piece, and the motor current behind them.

Ground truth for counting (learning/signature.py, the gateway, bench/counting.py). Each piece of an
operation is sewn as a few seams; a seam is one motor burst, sometimes split (the operator stops to
reposition, or backtacks as a separate short run), usually ending with an automatic thread trim on
machines that have a trimmer. Between seams the operator turns and aligns the work; between pieces
they dispose of one and pick up the next, which takes longer. Now and then there is a pause (thread
break, a word with the supervisor), a test run of the pedal without fabric, or rework of a piece
(part of it sewn again: extra bursts, no extra piece). The parameters and their sources are in
docs/simulator.md ("Motor signals"); none is tuned to the counter.

Pure functions of a seed: ``op_motor_profile`` draws an operation's hidden shape,
``sew_bundle`` a worker's bursts for one bundle, ``current_trace`` the sampled amps of a burst list.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

# Machine types whose machines usually carry an under-bed thread trimmer (lockstitch, some
# flatlock/bartack); overlock (OL*) cuts the chain with a knife instead: no trim event.
TRIMMER_TYPES = frozenset({"SNLS", "DNLS", "BT", "BH", "FL", "KS"})


def rng_for(*key: object) -> np.random.Generator:
    """A generator keyed by what it is about (same idea as the engine's streams)."""
    h = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "little"))


@dataclass(frozen=True, slots=True)
class MotorProfile:
    """The hidden sewing shape of one operation."""

    sam_min: float
    seams: int  # sewing segments per piece
    seam_share: tuple[float, ...]  # share of the piece's run seconds per seam
    machine_share: float  # run seconds / cycle seconds
    trimmer: bool
    trim_miss: float  # a seam ends without trim (operator lifts the foot by hand)
    split_prob: float  # a seam is sewn in two bursts (stop to reposition)
    tack_prob: float  # a backtack run as its own short burst
    rework_prob: float  # a piece gets one seam sewn again
    test_run_prob: float  # a pedal tap without fabric between pieces
    pause_prob: float  # a longer pause between pieces
    inner_gap_s: float  # median idle between seams of a piece
    between_gap_s: float  # median idle between pieces (dispose, pick up, align)


def op_motor_profile(seed: int, style: str, op: str, sam_min: float, machine_type: str) -> MotorProfile:
    r = rng_for(seed, "motor-op", style, op)
    # Longer operations have more seams: about one per 0.25 SAM minutes, 1..5.
    seams = int(np.clip(round(sam_min / 0.25 * r.uniform(0.6, 1.4)), 1, 5))
    share = r.dirichlet(np.full(seams, 3.0))
    machine_share = float(r.uniform(0.25, 0.45))
    trimmer = machine_type.upper() in TRIMMER_TYPES
    cycle_s = sam_min * 60.0
    handling_s = cycle_s * (1 - machine_share)
    # Handling splits into within-piece (turn, align the next seam) and between pieces.
    inner_total = handling_s * r.uniform(0.25, 0.45) if seams > 1 else 0.0
    inner = inner_total / max(seams - 1, 1)
    between = handling_s - inner_total
    return MotorProfile(
        sam_min=sam_min,
        seams=seams,
        seam_share=tuple(float(x) for x in share),
        machine_share=machine_share,
        trimmer=trimmer,
        trim_miss=float(r.uniform(0.005, 0.03)),
        split_prob=float(r.uniform(0.03, 0.15)),
        tack_prob=float(r.uniform(0.0, 0.08)),
        rework_prob=float(r.uniform(0.005, 0.03)),
        test_run_prob=float(r.uniform(0.0, 0.02)),
        pause_prob=float(r.uniform(0.01, 0.04)),
        inner_gap_s=max(0.4, inner),
        between_gap_s=max(1.0, between),
    )


@dataclass(slots=True)
class BurstTruth:
    start_s: float
    run_s: float
    trim: bool
    piece: int  # index of the piece in the bundle (-1: not sewing a piece: test run)
    kind: str  # seam | split | tack | rework | test


@dataclass(slots=True)
class BundleRun:
    bursts: list[BurstTruth] = field(default_factory=list)
    pieces: int = 0
    end_s: float = 0.0


def _ln(r: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * math.exp(r.normal(0.0, sigma)))


def sew_bundle(profile: MotorProfile, pieces: int, start_s: float, speed: float, r: np.random.Generator) -> BundleRun:
    """A worker (``speed`` = efficiency, 1.0 = standard) sews ``pieces`` pieces from ``start_s``."""
    out = BundleRun(pieces=pieces)
    t = start_s + _ln(r, 3.0, 0.4)  # read the ticket, open the bundle
    for p in range(pieces):
        cycle_factor = float(math.exp(r.normal(-0.02, 0.2)))  # same spread as the engine's cycle time
        run_total = 0.0
        for s in range(profile.seams):
            run = profile.machine_share * 60.0 * profile.sam_min * profile.seam_share[s] * cycle_factor / speed
            run = max(0.3, run * float(math.exp(r.normal(0.0, 0.12))))
            run_total += run
            if profile.tack_prob and r.random() < profile.tack_prob:
                tk = float(r.uniform(0.2, 0.6))
                out.bursts.append(BurstTruth(t, tk, False, p, "tack"))
                t += tk + float(r.uniform(0.3, 0.8))
            if r.random() < profile.split_prob and run > 1.5:
                a = run * float(r.uniform(0.3, 0.7))
                out.bursts.append(BurstTruth(t, a, False, p, "split"))
                t += a + _ln(r, 1.0, 0.5)
                run -= a
            trim = profile.trimmer and r.random() >= profile.trim_miss
            out.bursts.append(BurstTruth(t, run, trim, p, "seam"))
            t += run + (0.25 if trim else 0.0)
            if s < profile.seams - 1:
                t += _ln(r, profile.inner_gap_s * cycle_factor / speed, 0.35)
        if r.random() < profile.rework_prob:  # unpick and resew one seam of this piece
            t += _ln(r, 15.0, 0.5)
            s = int(r.integers(0, profile.seams))
            run = max(0.3, run_total * profile.seam_share[s])
            out.bursts.append(BurstTruth(t, run, profile.trimmer, p, "rework"))
            t += run + 0.25
        t += _ln(r, profile.between_gap_s * cycle_factor / speed, 0.3)
        if r.random() < profile.test_run_prob:
            tr = float(r.uniform(0.2, 1.0))
            out.bursts.append(BurstTruth(t, tr, False, -1, "test"))
            t += tr + _ln(r, 1.0, 0.4)
        if r.random() < profile.pause_prob:
            t += _ln(r, 45.0, 0.8)
    out.end_s = t
    return out


def piece_plan(profile: MotorProfile, cycle_s: float, r: np.random.Generator) -> list[tuple[float, float, bool]]:
    """One piece's bursts as ``(idle before, run_s, trim)``, scaled so the piece takes ``cycle_s``
    (the floor model's cycle time); the idle after the last burst is the remainder."""
    run = sew_bundle(profile, 1, 0.0, 1.0, r)
    k = cycle_s / run.end_s if run.end_s > 0 else 1.0
    out = []
    last = 0.0
    for b in run.bursts:
        out.append(((b.start_s - last) * k, b.run_s * k, b.trim))
        last = b.start_s + b.run_s
    return out


# --- current -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MotorElectrics:
    """A servo motor on 220 V: standby draw, running draw, noise of the meter."""

    idle_a: float = 0.35
    run_a: float = 1.8
    run_spread_a: float = 0.35  # speed changes along a seam
    noise_a: float = 0.05
    inrush_a: float = 1.2  # extra current in the first sample of a start


def current_trace(
    bursts: list[BurstTruth], end_s: float, hz: float, r: np.random.Generator, el: MotorElectrics | None = None
) -> np.ndarray:
    """Sampled RMS amps from 0 to ``end_s``: a meter averaging over each sample period."""
    el = el or MotorElectrics()
    n = math.ceil(end_s * hz) + 1
    dt = 1.0 / hz
    running = np.zeros(n)
    level = np.full(n, el.run_a)
    starts = np.zeros(n)
    edges = np.arange(n + 1) * dt
    for b in bursts:
        a, z = b.start_s, b.start_s + b.run_s
        i0, i1 = int(a // dt), min(int(z // dt), n - 1)
        lvl = el.run_a + float(r.normal(0, el.run_spread_a))
        for i in range(i0, i1 + 1):
            ov = min(z, edges[i + 1]) - max(a, edges[i])
            if ov > 0:
                running[i] = min(1.0, running[i] + ov / dt)
                level[i] = lvl
        if i0 < n:
            starts[i0] = 1.0
    amps = el.idle_a + running * (level - el.idle_a) + starts * el.inrush_a * running
    amps += r.normal(0.0, el.noise_a, n)
    return np.clip(amps, 0.0, None)
