"""Problem data and plan of a garment line balance.

The inputs are the trade's own: a style's operation bulletin (``seamline.domain.model.Style``),
the workers present with their efficiency per operation (a fraction of standard: 0.85 means
85 %), machines per type, and a target output. Shares are fractions of an operation's pieces, so
one long operation can be split across workers — how real lines cover a bottleneck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from seamline.domain.model import Operation, Style, Worker

# Efficiency assumed from a skill grade when no measured efficiency exists (grade 0: cannot do it).
GRADE_EFFICIENCY: dict[int, float] = {1: 0.55, 2: 0.65, 3: 0.75, 4: 0.85, 5: 0.95}
# Machine types whose operations any operator can do at her own machine (thread trimming, marking).
DEFAULT_FLEXIBLE_TYPES: frozenset[str] = frozenset({"MAN"})


@dataclass(frozen=True)
class BalanceProblem:
    style: Style
    workers: tuple[Worker, ...]
    # (badge, operation code) -> measured efficiency as a fraction; overrides the skill grade
    efficiency: Mapping[tuple[str, str], float] = field(default_factory=dict)
    # machine type -> machines available; types not listed are not limited
    machines: Mapping[str, int] = field(default_factory=dict)
    target_pieces_per_hour: float | None = None
    flexible_types: frozenset[str] = DEFAULT_FLEXIBLE_TYPES
    max_workers_per_op: int = 4
    max_ops_per_worker: int = 6

    def efficiency_of(self, worker: Worker, op: Operation) -> float:
        """Efficiency of ``worker`` on ``op`` (0 when she cannot do it)."""
        measured = self.efficiency.get((worker.badge, op.code))
        if measured is not None:
            return measured if measured > 0 else 0.0
        grade = worker.grade_for(op.machine_type, op.code)
        if grade <= 0 or grade < op.skill_grade - 1:
            return 0.0
        return GRADE_EFFICIENCY.get(min(grade, 5), 0.0)

    def eligible(self) -> dict[tuple[str, str], float]:
        """(badge, op code) -> efficiency for every pair that is allowed."""
        out: dict[tuple[str, str], float] = {}
        for w in self.workers:
            for op in self.style.operations:
                e = self.efficiency_of(w, op)
                if e > 0:
                    out[(w.badge, op.code)] = e
        return out


@dataclass(frozen=True, slots=True)
class Assignment:
    badge: str
    op_code: str
    share: float  # fraction of the operation's pieces, 0 < share ≤ 1
    minutes_per_piece: float  # share × sam_min ÷ efficiency: this worker's time per garment


@dataclass(frozen=True)
class BalancePlan:
    style_code: str
    assignments: tuple[Assignment, ...]
    worker_machine: Mapping[str, str | None]  # badge -> machine type she sits at (None: idle)
    loads_min: Mapping[str, float]  # badge -> minutes per garment
    cycle_min: float  # the bottleneck's minutes per garment
    bottleneck: str
    balance_efficiency: float  # Σ loads ÷ (workers × bottleneck)
    line_efficiency: float  # garment SAM ÷ (workers × bottleneck): the earned-minutes view
    pieces_per_hour: float
    meets_target: bool | None
    changes: int = 0  # (worker, operation) pairs added or removed against the previous plan

    def pairs(self) -> set[tuple[str, str]]:
        return {(a.badge, a.op_code) for a in self.assignments}

    def summary(self) -> dict[str, object]:
        return {
            "style": self.style_code,
            "cycle_min": round(self.cycle_min, 4),
            "bottleneck": self.bottleneck,
            "balance_efficiency": round(self.balance_efficiency, 4),
            "line_efficiency": round(self.line_efficiency, 4),
            "pieces_per_hour": round(self.pieces_per_hour, 2),
            "meets_target": self.meets_target,
            "changes": self.changes,
            "workers": {
                b: {
                    "machine": self.worker_machine.get(b),
                    "load_min": round(v, 4),
                    "ops": {a.op_code: round(a.share, 4) for a in self.assignments if a.badge == b},
                }
                for b, v in self.loads_min.items()
            },
        }
