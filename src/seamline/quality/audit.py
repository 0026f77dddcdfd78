"""A final audit of a finished lot: one sampling plan per defect class, one accept/reject decision.

Apparel audits judge each defect class against its own AQL (commonly critical 0 → not sampled
but zero tolerance, major 2.5, minor 4.0). Each class uses its own ISO 2859-1 plan; the lot is
accepted only when every class is. Critical defects use an acceptance number of 0 on the
largest sample drawn, which is the trade's usual reading of "AQL 0".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .aql import AqlError, SamplingPlan, sampling_plan, tighter_acceptance_number
from .switching import LotOutcome, SwitchingState, next_state

DEFAULT_CLASS_AQLS: dict[str, str | None] = {"critical": None, "major": "2.5", "minor": "4.0"}


@dataclass(frozen=True, slots=True)
class AuditDefect:
    """A nonconformity found in the audit sample; bundle and operation when the tag shows them."""

    code: str
    defect_class: str = "major"
    qty: int = 1
    bundle_id: str | None = None
    op: str | None = None

    def __post_init__(self) -> None:
        if not self.code:
            raise AqlError("audit defect code is empty")
        if self.qty < 1:
            raise AqlError(f"audit defect {self.code}: qty must be >= 1, got {self.qty}")


@dataclass(frozen=True, slots=True)
class ClassResult:
    defect_class: str
    aql: str | None
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    found: int
    accepted: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "defect_class": self.defect_class,
            "aql": self.aql,
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "accept": self.accept,
            "reject": self.reject,
            "found": self.found,
            "accepted": self.accepted,
        }


@dataclass(frozen=True, slots=True)
class AuditResult:
    lot_ref: str
    lot_size: int
    level: str
    inspection: str
    pieces_to_inspect: int
    classes: tuple[ClassResult, ...]
    defects: tuple[AuditDefect, ...] = field(default=())

    @property
    def accepted(self) -> bool:
        return all(c.accepted for c in self.classes)

    def class_result(self, name: str) -> ClassResult:
        for c in self.classes:
            if c.defect_class == name:
                return c
        raise KeyError(name)


def run_audit(
    lot_ref: str,
    lot_size: int,
    defects: Iterable[AuditDefect],
    *,
    level: str = "II",
    inspection: str = "normal",
    class_aqls: Mapping[str, str | float | None] | None = None,
) -> AuditResult:
    """Judge an audited lot. ``class_aqls`` maps each defect class to its AQL (None = zero tolerance)."""
    aqls = dict(DEFAULT_CLASS_AQLS if class_aqls is None else class_aqls)
    found_defects = tuple(defects)
    unknown = sorted({d.defect_class for d in found_defects} - set(aqls))
    if unknown:
        raise AqlError(f"defect class {unknown} has no AQL in this audit (classes: {sorted(aqls)})")
    plans: dict[str, SamplingPlan] = {
        name: sampling_plan(lot_size, level, aql, inspection) for name, aql in aqls.items() if aql is not None
    }
    if not plans:
        raise AqlError("an audit needs at least one defect class with an AQL to size the sample")
    biggest = max(plans.values(), key=lambda p: p.sample_size)
    results: list[ClassResult] = []
    for name in aqls:
        found = sum(d.qty for d in found_defects if d.defect_class == name)
        p = plans.get(name)
        if p is None:  # zero tolerance on the largest sample drawn
            results.append(
                ClassResult(name, None, biggest.code_letter, biggest.pieces_to_inspect, 0, 1, found, found == 0)
            )
        else:
            results.append(
                ClassResult(name, p.aql, p.code_letter, p.sample_size, p.accept, p.reject, found, p.decide(found))
            )
    return AuditResult(
        lot_ref, lot_size, biggest.level, biggest.inspection, biggest.pieces_to_inspect, tuple(results), found_defects
    )


@dataclass(frozen=True, slots=True)
class SchemeStep:
    """One lot through the switching scheme: the plan used, the decision, the state afterwards."""

    plan: SamplingPlan
    accepted: bool
    state: SwitchingState


def scheme_step(
    state: SwitchingState,
    lot_size: int,
    nonconforming: int,
    *,
    level: str = "II",
    aql: str | float = "2.5",
    production_steady: bool = True,
    authority_approves_reduced: bool = False,
) -> SchemeStep:
    """Inspect one lot with the plan the current severity calls for, then apply the switching rules."""
    if state.severity == "discontinued":
        raise AqlError("inspection is discontinued: resume (on tightened) after the supplier has acted")
    plan = sampling_plan(lot_size, level, aql, state.severity)
    accepted = plan.decide(nonconforming)
    # The switching score compares with the normal plan one AQL step tighter.
    tighter = tighter_acceptance_number(plan.code_letter, plan.aql) if state.severity == "normal" else None
    outcome = LotOutcome(accepted, nonconforming, plan.accept, tighter)
    new = next_state(
        state, outcome, production_steady=production_steady, authority_approves_reduced=authority_approves_reduced
    )
    return SchemeStep(plan, accepted, new)
