"""Counting pieces from motor bursts (learning/signature.py) against the motor simulator's truth."""

from __future__ import annotations

from seamline.learning.signature import MIN_BUNDLES, BurstCounter
from seamline.sim.motor import BundleRun, op_motor_profile, rng_for, sew_bundle

PROFILE = op_motor_profile(5, "TEE-BASIC", "T03", 0.45, "SNLS")


def _sew(c: BurstCounter, run: BundleRun, bundle: str, t0: float, worker: str = "W1") -> int:
    c.bundle_in("S1", bundle, t0, "TEE-BASIC", "T03", worker)
    return sum(c.burst("S1", b.start_s, b.run_s, b.trim) for b in run.bursts)


def test_cold_start_counts_nothing_until_three_scanned_bundles_then_counts_close_to_truth() -> None:
    c = BurstCounter()
    r = rng_for(5, "test")
    t = 0.0
    errors = []
    for i in range(10):
        n = int(r.integers(12, 30))
        run = sew_bundle(PROFILE, n, t, 0.9, r)
        counted = _sew(c, run, f"B{i}", t)
        if i < MIN_BUNDLES:
            assert counted == 0  # scans only
        else:
            errors.append(abs(counted - n) / n)
        rec = c.bundle_done("S1", f"B{i}", "T03", n, run.end_s)
        assert rec is not None and rec.pieces == n and rec.counted == counted
        t = run.end_s + 10
    assert len(c.reconciled) == 10
    # Median bundle error well under 5 %; no bundle off by more than 15 %.
    errors.sort()
    assert errors[len(errors) // 2] <= 0.05, errors
    assert max(errors) <= 0.15, errors
    sig, which = c.signature_for("TEE-BASIC", "T03", "W1")
    assert which == "worker" and sig is not None and sig.bundles == 10
    assert not c.flags


def test_far_more_bursts_than_the_signature_is_flagged_and_not_learned() -> None:
    c = BurstCounter()
    r = rng_for(6, "test")
    t = 0.0
    for i in range(4):
        run = sew_bundle(PROFILE, 20, t, 1.0, r)
        _sew(c, run, f"B{i}", t)
        c.bundle_done("S1", f"B{i}", "T03", 20, run.end_s)
        t = run.end_s + 10
    # A chattering sensor: every burst reported as three.
    run = sew_bundle(PROFILE, 20, t, 1.0, r)
    c.bundle_in("S1", "BX", t, "TEE-BASIC", "T03", "W1")
    for b in run.bursts:
        third = b.run_s / 3
        for k in range(3):
            c.burst("S1", b.start_s + k * third, third * 0.8, b.trim and k == 2)
    c.bundle_done("S1", "BX", "T03", 20, run.end_s)
    kinds = [f.kind for f in c.flags]
    assert "too_many_bursts" in kinds
    assert len(c.samples[("TEE-BASIC", "T03")]) == 4  # the misfit did not become training data


def test_another_workers_bundles_give_the_operation_signature() -> None:
    c = BurstCounter()
    r = rng_for(7, "test")
    t = 0.0
    for i in range(3):
        run = sew_bundle(PROFILE, 15, t, 1.0, r)
        _sew(c, run, f"B{i}", t, worker="W1")
        c.bundle_done("S1", f"B{i}", "T03", 15, run.end_s)
        t = run.end_s + 10
    o = c.bundle_in("S1", "B9", t, "TEE-BASIC", "T03", "W2")
    assert o.signature == "operation"
    assert c.bundle_in("S1", "B9", t, "TEE-BASIC", "T99", "W2").signature == "none"
