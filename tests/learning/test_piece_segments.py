"""Pieces as segments of a burst sequence (learning/piece_segments.py), the bias correction fed by
reconciliations and the carried rounding (learning/signature.py), against the motor simulator."""

from __future__ import annotations

from seamline.learning.piece_segments import fit, label, label_by_gaps, replay
from seamline.learning.signature import BurstCounter, Sample, Window, piece_gap
from seamline.sim.motor import BundleRun, MotorProfile, op_motor_profile, rng_for, sew_bundle


def _gaps_runs(run: BundleRun) -> tuple[list[float], list[float]]:
    b = run.bursts
    gaps = [b[j].start_s - b[j - 1].start_s - b[j - 1].run_s for j in range(1, len(b))]
    return gaps, [x.run_s for x in b]


def _overlapping_gaps_profile() -> MotorProfile:
    """A two-seam operation whose gaps inside a piece overlap the gaps between pieces."""
    for i in range(200):
        p = op_motor_profile(i, "TEE-BASIC", "T03", 0.45, "SNLS")
        if p.seams == 2 and p.inner_gap_s > 0.6 * p.between_gap_s:
            return p
    raise AssertionError("no such profile in 200 seeds")


def test_a_known_bundle_is_cut_into_exactly_its_pieces_and_the_model_counts_new_ones() -> None:
    prof = _overlapping_gaps_profile()
    r = rng_for(3, "segments")
    known = []
    t = 0.0
    for _ in range(4):
        run = sew_bundle(prof, 20, t, 0.9, r)
        known.append(run)
        t = run.end_s + 5
    labels = [label_by_gaps(*_gaps_runs(run), 20) for run in known]
    m = fit(labels)
    assert m is not None
    labels = [label(m, *_gaps_runs(run), 20) for run in known]
    assert all(lb is not None and len(lb.piece_runs_s) == 20 for lb in labels)
    # The model's pieces are the true pieces: the piece starts it found are the simulator's.
    for run, lb in zip(known, labels, strict=True):
        assert lb is not None
        starts = [0]
        for k in lb.bursts_per_piece[:-1]:
            starts.append(starts[-1] + k)
        true_starts = [j for j, x in enumerate(run.bursts) if j == 0 or x.piece != run.bursts[j - 1].piece]
        # (a burst left out as no piece shifts the starts after it: most must still match)
        assert len(set(starts) & set(true_starts)) >= 14, (starts, true_starts)
    m = fit([lb for lb in labels if lb is not None])
    assert m is not None
    windows = []
    for run in known:
        w = Window()
        last = None
        for b in run.bursts:
            w.add(b.start_s, b.run_s, b.trim, last)
            last = b.start_s + b.run_s
        windows.append(Sample(w, 20))
    gap_s = piece_gap(windows)  # the threshold read off the same known bundles
    # New bundles: the segment count is within a piece of the truth on most, never far off; the
    # longest-gap count (pieces merged or split where gaps overlap) is worse on the same bundles.
    seg_err = gap_err = 0
    for _ in range(8):
        run = sew_bundle(prof, 20, t, 0.9, r)
        t = run.end_s + 5
        gaps, runs = _gaps_runs(run)
        seg_err += abs(replay(m, gaps, runs).pieces() - 20)
        w = Window()
        last = None
        for b in run.bursts:
            w.add(b.start_s, b.run_s, b.trim, last)
            last = b.start_s + b.run_s
        gap_err += abs(w.segments(gap_s, 0.0) - 20)
    assert seg_err <= 16, (seg_err, gap_err)  # under a piece per bundle of 20 on average
    assert seg_err < gap_err, (seg_err, gap_err)


def test_the_segment_count_is_extended_burst_by_burst_like_a_replay() -> None:
    prof = op_motor_profile(5, "TEE-BASIC", "T03", 0.45, "SNLS")
    r = rng_for(4, "segments")
    runs = [sew_bundle(prof, 15, 0.0, 1.0, r) for _ in range(3)]
    m = fit([label_by_gaps(*_gaps_runs(x), 15) for x in runs])
    assert m is not None
    run = sew_bundle(prof, 25, 0.0, 1.0, r)
    w = Window()
    last = None
    for b in run.bursts:
        w.add(b.start_s, b.run_s, b.trim, last)
        last = b.start_s + b.run_s
        live = w.dp_pieces(m)
    assert live == replay(m, *_gaps_runs(run)).pieces()


def test_reconciled_differences_correct_the_bias_of_an_operation() -> None:
    """A one-seam operation: a resewn seam looks like a piece, so segments overcount; what the
    reconciliations recorded (counted vs scanned) becomes the signature's correction."""
    c = BurstCounter()
    r = rng_for(8, "bias")
    prof = op_motor_profile(8, "TEE-BASIC", "T11", 0.2, "SNLS")
    t = 0.0
    for i in range(3):
        run = sew_bundle(prof, 20, t, 1.0, r)
        c.bundle_in("S1", f"B{i}", t, "TEE-BASIC", "T11", "W1")
        for b in run.bursts:
            c.burst("S1", b.start_s, b.run_s, b.trim)
        c.bundle_done("S1", f"B{i}", "T11", 20, run.end_s)
        t = run.end_s + 5
    sig, _ = c.signature_for("TEE-BASIC", "T11", "W1")
    assert sig is not None and sig.model is not None
    before = sig.dp_ratio
    # Bundles whose segment counts came out 10 % high at reconciliation: the correction follows.
    w = c.samples[("TEE-BASIC", "T11")][0].window
    for _ in range(10):
        c.teach("TEE-BASIC", "T11", "W1", w, 20, counted=22.0)
    sig, _ = c.signature_for("TEE-BASIC", "T11", "W1")
    assert sig is not None and sig.dp_ratio > before + 0.03
    assert c.pool[1] >= 260  # every reconciled bundle's pieces are in the factory's prior


def test_a_shift_total_is_not_the_sum_of_rounded_bundles() -> None:
    """Rounding is carried from bundle to bundle at a station: the count over many bundles stays
    within a piece of the unrounded estimates' sum."""
    c = BurstCounter()
    r = rng_for(9, "carry")
    prof = op_motor_profile(9, "POLO", "P05", 0.5, "SNLS")
    t = 0.0
    counted = 0
    unrounded = 0.0
    for i in range(20):
        run = sew_bundle(prof, 11, t, 1.0, r)
        c.bundle_in("S1", f"B{i}", t, "POLO", "P05", "W1")
        n = sum(c.burst("S1", b.start_s, b.run_s, b.trim) for b in run.bursts)
        sig, which = c.signature_for("POLO", "P05", "W1")
        if which != "none" and i >= 3:
            assert sig is not None
            counted += n
            unrounded += sig.estimate(c.open["S1"].window)
        c.bundle_done("S1", f"B{i}", "P05", 11, run.end_s)
        t = run.end_s + 5
    assert abs(counted - unrounded) <= 1.0, (counted, unrounded)


def test_a_sensor_only_stretch_is_known_once_all_its_bundles_are_reconciled() -> None:
    from seamline.learning.sensor_only import SensorOnlyStation

    prof = op_motor_profile(5, "TEE-BASIC", "T03", 0.45, "SNLS")
    c = BurstCounter()
    r = rng_for(12, "stretch")
    t = 0.0
    for i in range(3):
        run = sew_bundle(prof, 20, t, 1.0, r)
        c.bundle_in("S1", f"B{i}", t, "TEE-BASIC", "T03", "W1")
        for b in run.bursts:
            c.burst("S1", b.start_s, b.run_s, b.trim)
        c.bundle_done("S1", f"B{i}", "T03", 20, run.end_s)
        t = run.end_s + 5
    sig, _ = c.signature_for("TEE-BASIC", "T03", "W1")
    qty = {"Q1": 20, "Q2": 15, "Q3": 25}

    def q(b: str) -> int:
        return qty.get(b, 0)

    st = SensorOnlyStation("S2", "TEE-BASIC", "T03", span_valid=True)

    def sew(n: int) -> int:
        nonlocal t
        run = sew_bundle(prof, n, t, 1.0, r)
        for b in run.bursts:
            st.burst(b.start_s, b.run_s, b.trim, sig, q)
        t = run.end_s + 5
        return len(run.bursts)

    assert st.close_span(sig) is None  # nothing sewn yet
    st.enqueue("Q1", q)
    n1 = sew(20)
    st.reconcile("Q1", 20, "W2", t)
    st.enqueue("Q2", q)  # Q1 passed downstream before Q2 arrived: a learning point ...
    known = st.close_span(sig)  # (the projection closes the stretch before Q2 joins the queue)
    assert known is None  # ... but Q2 joined first, so this stretch holds an unreconciled bundle
    st2 = SensorOnlyStation("S3", "TEE-BASIC", "T03", span_valid=True)
    st = st2
    st.enqueue("Q1", q)
    n1 = sew(20)
    st.reconcile("Q1", 20, "W2", t)
    known = st.close_span(sig)  # the queue is empty: every burst so far is Q1's
    assert known is not None and known[1] == 20 and known[0].bursts == n1
    est, pieces = st.spans[-1]
    assert pieces == 20 and abs(est - 20) <= 3
    st.enqueue("Q2", q)
    sew(15)
    st.enqueue("Q3", q)  # Q2 not reconciled yet: no learning point, the stretch goes on
    sew(25)
    st.reconcile("Q2", 15, "W2", t)
    st.reconcile("Q9", 30, "W2", t)  # a bundle that never reached this station's queue
    st.reconcile("Q3", 25, "W2", t)
    assert st.close_span(sig) is None  # its pieces may be in the stretch: not known, not learned
    assert st.spans[-1][1] is None
    before = len(c.samples[("TEE-BASIC", "T03")])
    c.teach("TEE-BASIC", "T03", "W2", known[0], known[1])
    assert len(c.samples[("TEE-BASIC", "T03")]) == before + 1
    assert len(c.worker_samples[("TEE-BASIC", "T03", "W2")]) == 1


def test_a_checkpoint_from_before_segments_and_stretches_loads_with_defaults() -> None:
    import pickle

    from seamline.learning.sensor_only import SensorOnlyStation

    st = SensorOnlyStation("S2", "TEE-BASIC", "T03")
    w = Window()
    w.add(0.0, 2.0, True, None)
    # What an older checkpoint held: the slots of the time, none of the new ones.
    old_st = {k: getattr(st, k) for k in ("station", "style", "op", "window", "queue", "alloc")}
    old_w = {k: getattr(w, k) for k in ("bursts", "trims", "run_s", "gaps_s", "runs_s", "trims_seen")}
    st2 = SensorOnlyStation.__new__(SensorOnlyStation)
    st2.__setstate__((None, old_st))
    w2 = Window.__new__(Window)
    w2.__setstate__((None, old_w))
    assert st2.span_valid is False and not st2.span_bundles and st2.pending == 0 and len(st2.spans) == 0
    assert st2.enqueue("Q1", lambda b: 10) == [] and st2.queue[0] == "Q1"
    assert w2.bursts == 1 and w2.features(3.0, 0.0)["bursts"] == 1.0
    assert pickle.loads(pickle.dumps(st2)).queue[0] == "Q1"
