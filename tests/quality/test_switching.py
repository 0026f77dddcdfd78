"""ISO 2859-1 switching rules as a pure state machine."""

from __future__ import annotations

import pytest

from seamline.quality.aql import AqlError, sampling_plan, tighter_acceptance_number
from seamline.quality.audit import scheme_step
from seamline.quality.switching import LotOutcome, SwitchingState, leave_reduced, next_state, resume

OK = LotOutcome(accepted=True, nonconforming=0, accept_number=7, tighter_accept=5)
BAD = LotOutcome(accepted=False, nonconforming=9, accept_number=7, tighter_accept=5)


def run(outcomes: list[LotOutcome], state: SwitchingState | None = None, **kw: bool) -> list[SwitchingState]:
    s = state or SwitchingState()
    seen = []
    for lot in outcomes:
        s = next_state(s, lot, **kw)
        seen.append(s)
    return seen


def test_two_rejections_within_five_lots_tighten() -> None:
    states = run([OK, BAD, OK, OK, BAD])
    assert [s.severity for s in states] == ["normal"] * 4 + ["tightened"]
    assert "2 of the last 5" in states[-1].reason


def test_two_rejections_six_lots_apart_do_not_tighten() -> None:
    states = run([BAD, OK, OK, OK, OK, BAD])
    assert all(s.severity == "normal" for s in states)


def test_five_accepted_on_tightened_return_to_normal() -> None:
    start = SwitchingState(severity="tightened")
    states = run([OK, OK, OK, OK, OK], start)
    assert [s.severity for s in states] == ["tightened"] * 4 + ["normal"]
    # a rejection in between restarts the count
    states = run([OK, OK, OK, OK, BAD, OK, OK, OK, OK], start)
    assert states[-1].severity == "tightened"
    assert states[-1].accepted_in_row_tightened == 4


def test_five_rejections_on_tightened_discontinue_then_resume_tightened() -> None:
    start = SwitchingState(severity="tightened")
    states = run([BAD, OK, BAD, OK, BAD, BAD, OK, BAD], start)
    assert states[-2].severity == "tightened"
    assert states[-1].severity == "discontinued"
    assert next_state(states[-1], OK).severity == "discontinued"  # nothing moves until resumed
    assert resume(states[-1]).severity == "tightened"


def test_switching_score_with_ac_two_or_more() -> None:
    # K, AQL 2.5: Ac 7; one step tighter (1.5) Ac 5. Five or fewer nonconforming scores +3.
    plan = sampling_plan(2000, "II", "2.5")
    tighter = tighter_acceptance_number(plan.code_letter, plan.aql)
    good = LotOutcome(True, 5, plan.accept, tighter)
    fair = LotOutcome(True, 6, plan.accept, tighter)  # accepted, but not at the tighter AQL
    states = run([good] * 9)
    assert states[-1].switching_score == 27
    s = next_state(states[-1], good)
    assert (s.severity, s.switching_score) == ("normal", 30)  # no approval: stays normal
    s = next_state(states[-1], good, authority_approves_reduced=True)
    assert s.severity == "reduced"
    s = next_state(states[-1], good, authority_approves_reduced=True, production_steady=False)
    assert s.severity == "normal"
    assert next_state(states[-1], fair).switching_score == 0


def test_switching_score_with_ac_zero_or_one() -> None:
    ok0 = LotOutcome(True, 0, 0)
    states = run([ok0] * 14, authority_approves_reduced=True)
    assert states[-1].severity == "normal"
    assert states[-1].switching_score == 28
    assert next_state(states[-1], ok0, authority_approves_reduced=True).severity == "reduced"
    assert next_state(states[-1], LotOutcome(False, 1, 0)).switching_score == 0


def test_reduced_returns_to_normal() -> None:
    red = SwitchingState(severity="reduced")
    assert next_state(red, OK).severity == "reduced"
    back = next_state(red, BAD)
    assert back.severity == "normal" and back.switching_score == 0
    assert next_state(red, OK, production_steady=False).severity == "normal"
    assert leave_reduced(red, "new supplier of thread").severity == "normal"
    assert leave_reduced(SwitchingState(), "x").severity == "normal"


def test_the_state_is_never_mutated() -> None:
    s = SwitchingState()
    s2 = next_state(s, BAD)
    assert s.recent_normal == () and s2.recent_normal == (False,)


def test_scheme_uses_the_plan_of_the_current_severity() -> None:
    s = SwitchingState()
    step = scheme_step(s, 2000, 8)  # normal K: 7/8 → rejected
    assert (step.plan.accept, step.accepted, step.state.severity) == (7, False, "normal")
    step = scheme_step(step.state, 2000, 9)
    assert step.state.severity == "tightened"
    step = scheme_step(step.state, 2000, 6)  # tightened K: 5/6 → 6 rejects
    assert (step.plan.inspection, step.plan.accept, step.accepted) == ("tightened", 5, False)
    # ten clean lots on normal with approval → reduced, which then samples 50 pieces
    s = SwitchingState()
    for _ in range(10):
        s = scheme_step(s, 2000, 2, authority_approves_reduced=True).state
    assert s.severity == "reduced"
    step = scheme_step(s, 2000, 4)  # reduced K: 50 pieces, 3/4
    assert (step.plan.sample_size, step.accepted, step.state.severity) == (50, False, "normal")
    with pytest.raises(AqlError, match="discontinued"):
        scheme_step(SwitchingState(severity="discontinued"), 2000, 0)
