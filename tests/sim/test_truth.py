"""The ground truth agrees with the event stream, and the hidden skills behave as documented."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import timedelta

from seamline.domain.events import Defect, Piece
from seamline.domain.model import FactoryLayout
from seamline.sim import SimConfig, SimResult, read_truth, simulate, write_truth

from .layouts import MONDAY_8, small_factory
from .streams import bundle_styles, decoded, pieces_by_worker_op


def test_piece_counts_per_worker_and_op_match_the_events(layout: FactoryLayout, day_result: SimResult) -> None:
    from_events = pieces_by_worker_op(day_result, bundle_styles(layout))
    truth = {(r["worker"], r["style"], r["op"]): r["pieces"] for r in day_result.truth["piece_counts"]}
    assert from_events == truth
    rows = Counter((r[1], r[3], r[4]) for r in day_result.truth["pieces"])
    assert dict(rows) == truth
    assert sum(truth.values()) > 3000


def test_duplicates_are_flagged_and_look_like_a_bouncing_sensor() -> None:
    lay = small_factory(n_lines=1)
    res = simulate(lay, SimConfig(seed=5, start=MONDAY_8, hours=9, double_count_rate=0.02))
    dups = {d["event_id"]: d["of"] for d in res.truth["duplicates"]}
    assert len(dups) > 20
    pieces = {d.ev.id: (d.station, d.ev) for d in decoded(res) if isinstance(d.ev, Piece)}
    truth_ids = {r[0] for r in res.truth["pieces"]}
    for dup, orig in dups.items():
        st_d, ev_d = pieces[dup]
        st_o, ev_o = pieces[orig]
        assert dup != orig and st_d == st_o and (ev_d.bundle, ev_d.op) == (ev_o.bundle, ev_o.op)
        assert timedelta(seconds=0.2) < ev_d.ts - ev_o.ts < timedelta(seconds=0.5)
        assert dup not in truth_ids and orig in truth_ids
    # Every piece event is either a real piece of the truth or a flagged duplicate.
    assert set(pieces) == truth_ids | set(dups)


def test_defect_events_match_truth(day_result: SimResult) -> None:
    n_events = sum(1 for d in decoded(day_result) if isinstance(d.ev, Defect))
    n_truth = sum(1 for r in day_result.truth["pieces"] if r[9])
    assert n_events == n_truth > 0


def test_skills_spread_like_real_lines(day_result: SimResult) -> None:
    effs = [s["eff_ss"] for s in day_result.truth["skills"]]
    assert min(effs) >= 0.40 and max(effs) <= 1.30
    assert statistics.pstdev(effs) > 0.08
    by_grade: dict[int, list[float]] = defaultdict(list)
    for s in day_result.truth["skills"]:
        by_grade[s["grade"]].append(s["eff_ss"])
    means = [statistics.mean(by_grade[g]) for g in sorted(by_grade) if len(by_grade[g]) >= 3]
    assert means == sorted(means), "better graded workers are faster on average"


def test_piece_times_follow_efficiency_and_learning(layout: FactoryLayout) -> None:
    """Σ cycle time ≈ pieces × SAM ÷ efficiency: steady workers at eff_ss, learners slower at first."""
    res = simulate(small_factory(n_lines=1), SimConfig(seed=11, start=MONDAY_8, hours=9, new_op_rate=0.3))
    sam = {(st.code, op.code): op.sam_min for st in layout.styles.values() for op in st.operations}
    skill = {(s["worker"], s["style"], s["op"]): s for s in res.truth["skills"]}
    rows: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for r in res.truth["pieces"]:
        rows[(r[1], r[3], r[4])].append(r[8])
    steady = learners = 0
    for key, cycles in rows.items():
        if len(cycles) < 60:
            continue
        s = skill[key]
        std_s = sam[(key[1], key[2])] * 60.0
        if s["learning"] is None:
            measured = len(cycles) * std_s / sum(cycles)
            assert abs(measured / s["eff_ss"] - 1) < 0.08, (key, measured, s["eff_ss"])
            steady += 1
        else:
            p, r = s["learning"]["p"], s["learning"]["r"]
            first, last = cycles[:20], cycles[-20:]
            n_last = len(cycles) - 10
            expect_ratio = ((n_last + p) / (n_last + p + r)) / ((10 + p) / (10 + p + r))
            ratio = statistics.mean(first) / statistics.mean(last)
            assert ratio > 1.0 and abs(ratio / expect_ratio - 1) < 0.3, (key, ratio, expect_ratio)
            learners += 1
    assert steady >= 3 and learners >= 1


def test_line_output_is_bounded_by_earned_minutes(layout: FactoryLayout, day_result: SimResult) -> None:
    """Garments out × garment SAM never exceeds what the operators could earn at their true skill."""
    out = day_result.truth["line_output"]
    assert out and all(v > 0 for v in out.values())
    done = defaultdict(lambda: defaultdict(int))
    for b in day_result.truth["bundles_done"]:
        done[b["line"]][b["style"]] += b["qty"]
    attended_min = 10 * (9 * 60 - 80)  # 10 operators, the shift minus breaks, at most
    for line, by_style in done.items():
        earned = sum(q * layout.styles[s].sam_min for s, q in by_style.items())
        assert 0.05 * attended_min < earned < 1.3 * attended_min, line


def test_truth_file_round_trip(tmp_path, day_result: SimResult) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "truth.json"
    write_truth(day_result.truth, p)
    back = read_truth(p)
    assert back["pieces"] == [list(r) for r in day_result.truth["pieces"]]
    assert back["piece_fields"][0] == "event_id"
    assert back["start"] == MONDAY_8.isoformat()


def test_piece_event_spacing_shows_the_true_efficiency(layout: FactoryLayout, day_result: SimResult) -> None:
    """What an estimator sees: the median gap between a worker's consecutive pieces of one bundle
    is the standard time ÷ efficiency (× the noise median e^(-σ²/2))."""
    import math

    from seamline.domain.events import Login

    skill = {(s["worker"], s["style"], s["op"]): s for s in day_result.truth["skills"]}
    styles = bundle_styles(layout)
    sam = {(st.code, op.code): op.sam_min for st in layout.styles.values() for op in st.operations}
    dups = {d["event_id"] for d in day_result.truth["duplicates"]}
    who: dict[str, str] = {}
    last: dict[str, tuple[str, str, object]] = {}
    gaps: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for d in decoded(day_result):
        ev = d.ev
        if isinstance(ev, Login):
            who[d.station] = ev.worker
        elif isinstance(ev, Piece) and ev.id not in dups:
            prev = last.get(d.station)
            if prev and prev[0] == ev.bundle and prev[1] == ev.op:
                gaps[(who[d.station], styles[ev.bundle], ev.op)].append((ev.ts - prev[2]).total_seconds())
            last[d.station] = (ev.bundle, ev.op, ev.ts)
    sigma = 0.2
    checked = 0
    for key, g in gaps.items():
        s = skill[key]
        if s["learning"] is not None or len(g) < 80:
            continue
        expected = sam[key[1:]] * 60.0 / s["eff_ss"] * math.exp(-(sigma**2) / 2)
        assert abs(statistics.median(g) / expected - 1) < 0.1, (key, statistics.median(g), expected)
        checked += 1
    assert checked >= 5
