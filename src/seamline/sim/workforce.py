"""The hidden truth about people: how well each worker really does each operation.

Every figure is drawn from its own random stream keyed by (seed, worker, style, op), so it does
not depend on the order the simulation happens to ask in: the same seed gives the same worker
the same skill whether the line runs one order or ten.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from seamline.domain.model import Operation, Worker

# Median steady-state efficiency (fraction of standard) by skill grade on the machine type.
GRADE_EFF: dict[int, float] = {0: 0.5, 1: 0.6, 2: 0.72, 3: 0.85, 4: 0.98, 5: 1.1}
EFF_MIN, EFF_MAX = 0.40, 1.30


@dataclass(frozen=True, slots=True)
class Learning:
    """Hyperbolic learning curve: eff(n) = eff_ss × (n + p) / (n + p + r), n = pieces done so far."""

    p: float  # prior experience, in piece-equivalents
    r: float  # pieces to reach half of the way from eff_ss × p/(p+r) to eff_ss

    def factor(self, n: int) -> float:
        return (n + self.p) / (n + self.p + self.r)


@dataclass(frozen=True, slots=True)
class TrueSkill:
    worker: str
    style: str
    op: str
    machine_type: str
    grade: int
    eff_ss: float
    learning: Learning | None
    defect_rate: float

    def efficiency(self, n_done: int) -> float:
        return self.eff_ss if self.learning is None else self.eff_ss * self.learning.factor(n_done)

    def as_dict(self) -> dict[str, object]:
        return {
            "worker": self.worker,
            "style": self.style,
            "op": self.op,
            "machine_type": self.machine_type,
            "grade": self.grade,
            "eff_ss": round(self.eff_ss, 4),
            "learning": None
            if self.learning is None
            else {
                "p": round(self.learning.p, 2),
                "r": round(self.learning.r, 2),
            },
            "defect_rate": round(self.defect_rate, 5),
        }


class Workforce:
    """Lazily draws and remembers each worker's true skill per (style, operation)."""

    def __init__(self, seed: int, *, new_op_rate: float, learning_r_median: float, defect_rate_mean: float) -> None:
        self.seed = seed
        self.new_op_rate = new_op_rate
        self.learning_r_median = learning_r_median
        self.defect_rate_mean = defect_rate_mean
        self.skills: dict[tuple[str, str, str], TrueSkill] = {}
        self._worker_factor: dict[str, float] = {}

    def _rng(self, *key: str) -> random.Random:
        return random.Random("/".join((str(self.seed), *key)))

    def worker_factor(self, badge: str) -> float:
        """A person's general knack, shared by all their operations (σ ≈ 0.1)."""
        f = self._worker_factor.get(badge)
        if f is None:
            f = math.exp(self._rng("worker", badge).gauss(0.0, 0.1))
            self._worker_factor[badge] = f
        return f

    def skill(self, worker: Worker, style_code: str, op: Operation) -> TrueSkill:
        key = (worker.badge, style_code, op.code)
        s = self.skills.get(key)
        if s is not None:
            return s
        rng = self._rng("skill", *key)
        grade = worker.grade_for(op.machine_type, op.code)
        median = GRADE_EFF.get(max(0, min(grade, 5)), 0.5)
        eff = median * self.worker_factor(worker.badge) * math.exp(rng.gauss(0.0, 0.12))
        eff = min(EFF_MAX, max(EFF_MIN, eff))
        new = grade <= 1 or rng.random() < self.new_op_rate
        learning = None
        if new:
            # Starting at 30-70 % of steady state is typical; p follows from r and that start.
            r = self.learning_r_median * math.exp(rng.gauss(0.0, 0.4))
            f0 = rng.uniform(0.3, 0.7)
            learning = Learning(p=f0 * r / (1.0 - f0), r=r)
        # Defects: less skilled people on harder operations make more (mean ≈ defect_rate_mean).
        difficulty = 0.8 + 0.1 * max(0, op.skill_grade - 1)
        base = self.defect_rate_mean * difficulty * (1.3 - 0.1 * max(0, min(grade, 5)))
        defect_rate = min(0.5, base * math.exp(rng.gauss(0.0, 0.5) - 0.125))
        s = TrueSkill(worker.badge, style_code, op.code, op.machine_type, grade, eff, learning, defect_rate)
        self.skills[key] = s
        return s
