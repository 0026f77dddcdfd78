"""The closed loop: controllers see protocol events only, the plant follows them, runs repeat."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pytest

import seamline.twin.policy as policy_pkg
from seamline.adapters.layout_files import load_factory
from seamline.domain import events as domain_events
from seamline.domain.events import BundleIn, Piece, SensorEvent
from seamline.domain.model import DomainError, FactoryLayout
from seamline.sim import SimConfig
from seamline.sim.control import install_balance, set_wip_cap, wip_bundles
from seamline.sim.engine import Engine
from seamline.twin.experiment import Case, line_case, run_policy
from seamline.twin.forecast import forecast_efficiency_gain, line_style
from seamline.twin.loop import decision_times, decode, run_loop
from seamline.twin.policy import OraclePolicy, SeamlinePolicy
from seamline.twin.policy.protocol import Directive, Option

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base() -> FactoryLayout:
    return load_factory(ROOT / "examples" / "factory")


@pytest.fixture(scope="module")
def tee(base: FactoryLayout) -> Case:
    return line_case(base, "L1", "TEE-BASIC", 3, 1)


class Recording(SeamlinePolicy):
    """The seamline policy with every input it is given written down."""

    def __init__(self, *a: object, **k: object) -> None:
        super().__init__(*a, **k)  # type: ignore[arg-type]
        self.seen: list[object] = []
        self.dispatch_args: list[tuple[object, object, object]] = []

    def observe(self, events: Sequence[SensorEvent]) -> None:
        self.seen.extend(events)
        super().observe(events)

    def decide(self, now: datetime) -> list[Directive]:
        self.seen.append(now)
        return super().decide(now)

    def dispatch(self, station: str, options: Sequence[Option], waiting: Mapping[str, int]) -> int:
        self.dispatch_args.append((station, list(options), dict(waiting)))
        return super().dispatch(station, options, waiting)


def test_controller_gets_protocol_events_only(tee: Case) -> None:
    cfg = SimConfig(seed=tee.seed, start=tee.start, hours=48.0, record_pieces=False)
    ctl = Recording(tee.layout, [tee.line])
    res = run_loop(tee.layout, cfg, ctl, tee.line, days=1)
    assert res.output_pcs > 0 and ctl.decisions
    event_types = tuple(
        c for c in vars(domain_events).values() if isinstance(c, type) and issubclass(c, domain_events._Base)
    )
    seen_events = [x for x in ctl.seen if not isinstance(x, datetime)]
    assert seen_events and all(isinstance(x, event_types) for x in seen_events)
    assert any(isinstance(x, Piece) for x in seen_events)
    # Dispatch gets plain values: ids, op codes, seconds and counts - no simulator object.
    assert ctl.dispatch_args
    for station, options, waiting in ctl.dispatch_args:
        assert isinstance(station, str)
        for op, bundle, waited_s, n in options:  # type: ignore[attr-defined]
            assert type(op) is str and type(bundle) is str and type(waited_s) is float and type(n) is int
        assert all(type(k) is str and type(v) is int for k, v in waiting.items())  # type: ignore[attr-defined]
    # The learning state holds cells keyed by what the events said, nothing from the truth.
    assert all(cell.n_pieces > 0 for cell in ctl.learning.cells.values())


def test_policies_do_not_import_the_simulator() -> None:
    """What the import-linter contract says, checked on the source as well."""
    pkg = Path(policy_pkg.__file__).parent
    for path in pkg.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "seamline.sim" or n.startswith("seamline.sim.") for n in names), path


def test_same_seed_same_policy_same_result(tee: Case) -> None:
    a = run_policy(tee, "seamline").result
    b = run_policy(tee, "seamline").result
    assert a.output_pcs == b.output_pcs > 0
    assert a.earned_min == b.earned_min
    assert a.truth["bundles_done"] == b.truth["bundles_done"]
    assert [d.get("cycle_min") for d in a.decisions] == [d.get("cycle_min") for d in b.decisions]


def test_oracle_not_worse_than_baseline(tee: Case) -> None:
    base = run_policy(tee, "baseline").result
    oracle = run_policy(tee, "oracle").result
    # Packed garments: the oracle also holds less WIP, so on one day its earned minutes (which
    # count the pieces sewn into bundles still in process) need not be higher.
    assert oracle.output_pcs >= base.output_pcs > 0


def test_plant_follows_an_installed_balance(tee: Case) -> None:
    """After a balance is handed out, every station sews only its assigned operations (once the
    bundle it had in hand is done)."""
    cfg = SimConfig(seed=tee.seed, start=tee.start, hours=24.0, record_pieces=False)
    eng = Engine(tee.layout, cfg)
    t_install = 3600.0
    decode(eng.run_until(t_install))
    style = tee.layout.styles[tee.style]
    stations = sorted(s.id for s in tee.layout.stations.values() if s.machine_type == "OL4")
    others = sorted(s.id for s in tee.layout.stations.values() if s.machine_type != "OL4")
    # An unusual balance on purpose: every OL4 operation on the first OL4 station only, the rest
    # of the work spread round-robin over the other stations.
    balance: dict[str, list[str]] = {}
    rest = [o.code for o in style.operations if o.machine_type != "OL4"]
    balance[stations[0]] = [o.code for o in style.operations if o.machine_type == "OL4"]
    for i, code in enumerate(rest):
        balance.setdefault(others[i % len(others)], []).append(code)
    assert install_balance(eng, tee.line, tee.style, balance) == 1
    after = decode(eng.run_until(t_install + 4 * 3600.0))
    fresh: set[str] = set()
    sewn: dict[str, set[str]] = {}
    for ev in after:
        sid = ev.station or ""
        if isinstance(ev, BundleIn):
            fresh.add(sid)
        elif isinstance(ev, Piece) and sid in fresh:
            sewn.setdefault(sid, set()).add(ev.op)
    assert sewn, "no station sewed after the new balance"
    for sid, ops in sewn.items():
        assert ops <= set(balance.get(sid, [])), (sid, ops, balance.get(sid))
    assert sewn.get(stations[0]), "the station given every OL4 operation sewed none"
    for sid in stations[1:]:
        assert not sewn.get(sid), f"{sid} has no operation in the balance but sewed {sewn.get(sid)}"


def test_wip_cap_is_kept_once_the_line_drains_below_it(tee: Case) -> None:
    cfg = SimConfig(seed=tee.seed, start=tee.start, hours=24.0, record_pieces=False)
    eng = Engine(tee.layout, cfg)
    eng.run_until(3600.0)
    assert wip_bundles(eng, tee.line) > 36
    set_wip_cap(eng, tee.line, 36)
    seen: list[int] = []
    t = 3600.0
    for _ in range(40):
        t += 900.0
        eng.run_until(t)
        seen.append(wip_bundles(eng, tee.line))
    first = next(i for i, w in enumerate(seen) if w <= 36)
    assert all(w <= 36 for w in seen[first:])
    assert max(seen[first:]) == 36  # the cutting room keeps feeding up to the cap


def test_forecast_from_the_twin_has_the_roi_shape(base: FactoryLayout) -> None:
    assert line_style(base, "L1") == "TEE-BASIC"
    assert line_style(base, "L3") in {"JEANS-5P"}
    fc = forecast_efficiency_gain(base, ["L1"], seeds=2, days=1)
    assert fc["metric"] == "efficiency_pct" and fc["lines"] == ["L1"]
    assert fc["low"] <= fc["mean"] <= fc["high"]
    deltas = [r["seamline_pct"] - r["baseline_pct"] for r in fc["runs"]]
    assert len(deltas) == 2
    assert fc["mean"] == pytest.approx(sum(deltas) / 2, abs=0.02)
    with pytest.raises(DomainError, match="no such lines"):
        forecast_efficiency_gain(base, ["L9"], seeds=1, days=1)


def test_a_policy_must_say_where_its_efficiencies_come_from_and_when_it_rebalances() -> None:
    import pytest

    from seamline.twin.policy.base import PolicyBase

    class Half(PolicyBase):
        def efficiency(self, badge, style, op):  # type: ignore[no-untyped-def]
            return 1.0

    with pytest.raises(TypeError, match="wants"):
        Half(None, [])  # type: ignore[abstract, arg-type]


def _schedule(res_truth: dict[str, object]) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    bd = [(b["station"], b["reason"], b["start"], b["end"]) for b in res_truth["breakdowns"]]  # type: ignore[attr-defined, index]
    ab = [(a["date"], a["worker"], a["station"], a["covered_by"]) for a in res_truth["absences"]]  # type: ignore[attr-defined, index]
    return sorted(bd), sorted(ab)  # type: ignore[type-var]


def test_policies_on_one_seed_see_the_same_breakdowns_and_absences(base: FactoryLayout) -> None:
    """Common random numbers: stoppages, absences, skills and the order book have their own
    seeded streams, so what the controller decides cannot move them."""
    case = line_case(base, "L1", "TEE-BASIC", 5, 2)
    base_run = run_policy(case, "baseline").result
    seam_run = run_policy(case, "seamline").result
    assert base_run.decisions != seam_run.decisions or base_run.output_pcs != seam_run.output_pcs
    bd_a, ab_a = _schedule(base_run.truth)
    bd_b, ab_b = _schedule(seam_run.truth)
    assert len(bd_a) >= 3, "too few stoppages in two days to compare"
    assert bd_a == bd_b
    assert ab_a == ab_b
    assert line_case(base, "L1", "TEE-BASIC", 5, 2).layout.orders == case.layout.orders
    # Hidden skills are keyed by (seed, worker, style, op), not by the order they are asked in.
    skills_a = {(s["worker"], s["op"]): s["eff_ss"] for s in base_run.truth["skills"]}
    skills_b = {(s["worker"], s["op"]): s["eff_ss"] for s in seam_run.truth["skills"]}
    common = skills_a.keys() & skills_b.keys()
    assert common and all(skills_a[k] == skills_b[k] for k in common)


def test_a_workers_nth_piece_takes_the_same_time_whatever_the_dispatch(tee: Case) -> None:
    """Cycle noise and defects come from a stream per (worker, style, operation): two floors that
    pick bundles differently give a worker's n-th piece of an operation the same time."""

    def pieces(rule: object) -> dict[tuple[str, str], list[tuple[float, bool]]]:
        eng = Engine(tee.layout, SimConfig(seed=tee.seed, start=tee.start, preload_wip_bundles_per_station=1.5))
        eng.dispatcher = rule  # type: ignore[assignment]
        eng.run_until(3 * 3600.0)
        out: dict[tuple[str, str], list[tuple[float, bool]]] = {}
        for row in eng.truth.pieces:
            out.setdefault((row[1], row[4]), []).append((row[8], row[9]))
        return out

    oldest = pieces(None)
    newest = pieces(lambda station, options, waiting: min(range(len(options)), key=lambda i: options[i][2]))
    common = 0
    for key, seq in oldest.items():
        other = newest.get(key, [])
        n = min(len(seq), len(other))
        assert seq[:n] == other[:n], key
        common += n
    assert common > 1000
    assert oldest != newest  # the dispatch did change who sewed what when


def test_the_floors_truth_puts_a_learner_where_her_curve_is(tee: Case) -> None:
    from seamline.twin.experiment import current_efficiency, true_efficiency

    eng = Engine(tee.layout, SimConfig(seed=tee.seed, start=tee.start, hours=1.0, record_pieces=False))
    ss = true_efficiency(eng, tee.style)
    fresh = current_efficiency(eng, tee.style, {})
    learners = [k for k, s in eng.workforce.skills.items() if s.learning is not None]
    steady = [k for k, s in eng.workforce.skills.items() if s.learning is None]
    assert learners and steady
    for k in learners:  # nothing sewn yet: at the bottom of the curve (30-70 % of steady state)
        assert 0.25 * ss[k] < fresh[k] < 0.75 * ss[k]
    for k in steady:
        assert fresh[k] == ss[k]
    k = learners[0]
    assert current_efficiency(eng, tee.style, {k: 100_000})[k] == pytest.approx(ss[k], rel=0.01)


def test_balance_quality_is_scored_per_day_on_the_floor_and_on_the_steady_state(tee: Case) -> None:
    base = run_policy(tee, "baseline", quality=True)
    oracle = run_policy(tee, "oracle", quality=True)
    for r in (base, oracle):
        assert set(r.balance_quality) == set(r.balance_quality_ss) == {1}
        assert 0.0 < r.balance_quality[1] <= 1.0 and 0.0 < r.balance_quality_ss[1] <= 1.0
    # balancing for equal workers is measurably worse on the truth than balancing on it
    assert base.balance_quality_ss[1] < 0.95
    assert oracle.balance_quality_ss[1] > base.balance_quality_ss[1] + 0.03


def test_the_oracle_balances_on_the_floors_truth_and_keeps_it_right(tee: Case) -> None:
    """The oracle is handed the truth where every learning curve stands when it decides: its day
    plan is the optimum on the floor's truth up to the re-balance tolerances (balancing on the
    steady state instead, it scored 0.77-0.88 here), and on the steady state it is no better
    than that (it does not credit learners with speed they do not have yet)."""
    oracle = run_policy(tee, "oracle", quality=True)
    assert oracle.balance_quality[1] >= 0.97
    assert oracle.balance_quality_ss[1] < 1.0
    # it reads the truth afresh at every decision point, not only when people change
    calls: list[int] = []

    def truth(horizon: int) -> dict[tuple[str, str, str], float]:
        calls.append(horizon)
        return {}

    ctl = OraclePolicy(tee.layout, [tee.line], truth)
    cfg = SimConfig(seed=tee.seed, start=tee.start, hours=48.0, record_pieces=False)
    run_loop(tee.layout, cfg, ctl, tee.line, days=1)
    assert len(calls) == len(decision_times(Engine(tee.layout, cfg), tee.line, 1, 30.0))


def test_the_learned_efficiencies_own_balance_is_scored_apart_from_the_day_plan(tee: Case) -> None:
    """The bench also scores the balance seamline's estimates give from scratch at the day's end
    (no move costs), on the estimates and on their lower confidence bounds; the day plan's figure
    is unchanged. Only a policy that learns has one: the oracle's would be the truth's optimum."""
    seam = run_policy(tee, "seamline", quality=True)
    oracle = run_policy(tee, "oracle", quality=True)
    assert set(seam.fresh_quality) == set(seam.fresh_lcb_quality) == set(seam.balance_quality) == {1}
    for q in (seam.fresh_quality[1], seam.fresh_lcb_quality[1]):
        assert 0.0 < q <= 1.0
    # the balance on the lower confidence bounds of one day's learning is within 10 % of the
    # truth's optimum. (Whether it beats the balance on the estimates, the winner's curse, is a
    # pooled figure — 0.91 against 0.73 on day 1 over the bench's 30 cases — not a law of one
    # case: on this one the two are within 0.1 % since the worker ridge is measured.)
    assert seam.fresh_lcb_quality[1] >= 0.9
    assert oracle.fresh_quality == oracle.fresh_lcb_quality == {}
