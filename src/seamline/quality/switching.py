"""ISO 2859-1:1999 switching rules between normal, tightened and reduced inspection.

A pure state machine: ``next_state(state, lot)`` returns the state for the next lot and never
mutates. The rules (clause 9):

- normal → tightened: 2 lots not accepted within 5 or fewer consecutive lots (original
  inspection);
- tightened → normal: 5 consecutive lots accepted on tightened inspection;
- normal → reduced: the switching score reaches 30, production is steady and the responsible
  authority approves;
- reduced → normal: a lot is not accepted, or production becomes irregular or delayed, or
  other conditions warrant it;
- discontinue: the cumulative number of lots not accepted during one spell of tightened
  inspection reaches 5; inspection resumes (on tightened) only after the supplier has acted,
  which ``resume`` records.

Switching score (9.3.3, single sampling): starts at 0 with normal inspection; after each lot on
normal inspection, with Ac >= 2 add 3 if the lot would have been accepted with the AQL one step
tighter, else reset to 0; with Ac of 0 or 1 add 2 if the lot is accepted, else reset to 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["normal", "tightened", "reduced", "discontinued"]

TIGHTEN_WINDOW = 5  # lots
TIGHTEN_REJECTS = 2
RELAX_ACCEPTS = 5
DISCONTINUE_REJECTS = 5
REDUCE_SCORE = 30


@dataclass(frozen=True, slots=True)
class LotOutcome:
    """What the switching rules need from one inspected lot.

    ``tighter_accept`` is the acceptance number of the plan one AQL step tighter (same sample
    size); it only matters on normal inspection with Ac >= 2.
    """

    accepted: bool
    nonconforming: int
    accept_number: int
    tighter_accept: int | None = None


@dataclass(frozen=True, slots=True)
class SwitchingState:
    severity: Severity = "normal"
    # Results (True = accepted) of the most recent lots on normal inspection, oldest first.
    recent_normal: tuple[bool, ...] = ()
    switching_score: int = 0
    accepted_in_row_tightened: int = 0
    rejected_on_tightened: int = 0
    reason: str = "start on normal inspection"


def _score(state: SwitchingState, lot: LotOutcome) -> int:
    if lot.accept_number >= 2:
        if lot.tighter_accept is not None and lot.nonconforming <= lot.tighter_accept:
            return state.switching_score + 3
        return 0
    return state.switching_score + 2 if lot.accepted else 0


def next_state(
    state: SwitchingState, lot: LotOutcome, *, production_steady: bool = True, authority_approves_reduced: bool = False
) -> SwitchingState:
    """The severity for the next lot after ``lot`` was inspected under ``state``."""
    if state.severity == "discontinued":
        return state
    if state.severity == "normal":
        recent = (*state.recent_normal, lot.accepted)[-TIGHTEN_WINDOW:]
        if not lot.accepted and recent.count(False) >= TIGHTEN_REJECTS:
            return SwitchingState(
                severity="tightened",
                reason=f"{recent.count(False)} of the last {len(recent)} lots not accepted on normal",
            )
        score = _score(state, lot)
        if score >= REDUCE_SCORE and production_steady and authority_approves_reduced:
            return SwitchingState(
                severity="reduced",
                reason=f"switching score {score} >= {REDUCE_SCORE}, "
                "production steady, approved by the responsible authority",
            )
        return replace(state, recent_normal=recent, switching_score=score, reason="normal inspection continues")
    if state.severity == "tightened":
        if lot.accepted:
            run = state.accepted_in_row_tightened + 1
            if run >= RELAX_ACCEPTS:
                return SwitchingState(severity="normal", reason=f"{run} consecutive lots accepted on tightened")
            return replace(state, accepted_in_row_tightened=run, reason="tightened inspection continues")
        rejected = state.rejected_on_tightened + 1
        if rejected >= DISCONTINUE_REJECTS:
            return replace(
                state,
                severity="discontinued",
                accepted_in_row_tightened=0,
                rejected_on_tightened=rejected,
                reason=f"{rejected} lots not accepted on tightened: inspection discontinued "
                "until the supplier has improved quality",
            )
        return replace(
            state, accepted_in_row_tightened=0, rejected_on_tightened=rejected, reason="tightened inspection continues"
        )
    # reduced
    if not lot.accepted:
        return SwitchingState(severity="normal", reason="a lot was not accepted on reduced inspection")
    if not production_steady:
        return SwitchingState(severity="normal", reason="production irregular or delayed")
    return replace(state, reason="reduced inspection continues")


def resume(state: SwitchingState, *, note: str = "supplier corrective action accepted") -> SwitchingState:
    """Restart after discontinuation: the standard resumes on tightened inspection."""
    if state.severity != "discontinued":
        return state
    return SwitchingState(severity="tightened", reason=f"resumed on tightened: {note}")


def leave_reduced(state: SwitchingState, why: str) -> SwitchingState:
    """The responsible authority's "other conditions warrant" return from reduced to normal."""
    if state.severity != "reduced":
        return state
    return SwitchingState(severity="normal", reason=why)
