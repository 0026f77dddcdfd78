"""Counting pieces from motor bursts (learning/signature.py) against the motor simulator's truth."""

from __future__ import annotations

from seamline.learning.signature import MIN_BUNDLES, BurstCounter, Window
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


def test_trims_are_a_count_feature_and_a_bundle_without_them_is_flagged() -> None:
    assert PROFILE.trimmer  # SNLS: an under-bed trimmer, one trim per seam
    c = BurstCounter()
    r = rng_for(8, "test")
    t = 0.0
    for i in range(4):
        run = sew_bundle(PROFILE, 20, t, 1.0, r)
        _sew(c, run, f"B{i}", t)
        c.bundle_done("S1", f"B{i}", "T03", 20, run.end_s)
        t = run.end_s + 10
    sig, _ = c.signature_for("TEE-BASIC", "T03", "W1")
    assert sig is not None
    assert 0.9 * PROFILE.seams <= sig.ratio["trims"] <= PROFILE.seams + 0.1
    assert sig.as_dict()["per_piece"]["trims"] == round(sig.ratio["trims"], 4)  # visible in the API
    # The trimmer is switched off: the same sewing, no trims. Still counted (from the other
    # features), flagged for the supervisor, and not learned from.
    run = sew_bundle(PROFILE, 20, t, 1.0, r)
    c.bundle_in("S1", "BX", t, "TEE-BASIC", "T03", "W1")
    counted = sum(c.burst("S1", b.start_s, b.run_s, False) for b in run.bursts)
    assert 16 <= counted <= 24
    c.bundle_done("S1", "BX", "T03", 20, run.end_s)
    flag = c.flags[-1]
    assert flag.kind == "too_few_trims" and flag.figures[0] == 0 and flag.figures[1] == 20
    assert flag.figures[2] >= 18 * PROFILE.seams * 0.9
    assert len(c.samples[("TEE-BASIC", "T03")]) == 4


def test_pieces_by_segment_ignore_pedal_taps_and_short_fragments() -> None:
    w = Window()
    t, last = 0.0, None
    for piece in range(5):
        for run in (3.0, 2.0):  # two seams, 1 s apart
            w.add(t, run, False, last)
            last = t + run
            t = last + 1.0
        t += 9.0  # dispose and pick up the next piece
        if piece == 2:  # a pedal tap between pieces, then the usual pause
            w.add(t, 0.3, False, last)
            last = t + 0.3
            t = last + 9.0
    assert w.segments(5.0, 2.5) == 5  # the tap's segment ran 0.3 s: no piece
    assert w.segments(0.5, 2.5) == 5  # split at every gap: the 2 s seams alone are no piece
    assert w.segments(5.0, 0.1) == 6  # without the minimum run, the tap would count
    w.track(5.0, 2.5)
    w.add(t, 0.4, False, last)  # a fragment of the next piece: not a piece yet
    assert w.segments(5.0, 2.5) == 5


def test_a_sensor_only_window_starts_afresh_when_it_grows_long() -> None:
    from seamline.learning import sensor_only

    c = BurstCounter()
    r = rng_for(10, "test")
    t = 0.0
    for i in range(3):
        run = sew_bundle(PROFILE, 20, t, 1.0, r)
        _sew(c, run, f"B{i}", t)
        c.bundle_done("S1", f"B{i}", "T03", 20, run.end_s)
        t = run.end_s + 10
    sig, _ = c.signature_for("TEE-BASIC", "T03", None)
    st = sensor_only.SensorOnlyStation("S2", "TEE-BASIC", "T03")
    qty = {"Q1": 40, "Q2": 40}
    st.enqueue("Q1", lambda b: qty.get(b, 0))
    st.enqueue("Q2", lambda b: qty.get(b, 0))
    counted = 0
    old = sensor_only.MAX_WINDOW_BURSTS
    sensor_only.MAX_WINDOW_BURSTS = 30  # a short window: several fresh starts in 60 pieces
    try:
        for _ in range(3):
            run = sew_bundle(PROFILE, 20, t, 1.0, r)
            for b in run.bursts:
                counted += sum(a.qty for a in st.burst(b.start_s, b.run_s, b.trim, sig, lambda x: qty.get(x, 0)))
            t = run.end_s + 10
    finally:
        sensor_only.MAX_WINDOW_BURSTS = old
    assert st.window.bursts < 30 and len(st.window.gaps_s) == st.window.bursts - 1
    assert 50 <= counted + st.pending <= 70  # 60 pieces sewn: each window's pieces counted once
