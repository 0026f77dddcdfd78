"""The upper bound: seamline's policy with the true efficiencies instead of learned ones.

The only policy that knows the truth, and it does not fetch it: the experiment hands in the
simulator's hidden steady-state efficiencies as a plain dict. Everything else (re-balance on a
change of people, dispatch, release) is seamline's, so the gap between the two is what learning
from the events costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from seamline.domain.model import FactoryLayout, Operation

from .base import LineState
from .seamline import SeamlinePolicy


class OraclePolicy(SeamlinePolicy):
    name = "oracle"

    def __init__(
        self,
        layout: FactoryLayout,
        lines: Sequence[str],
        true_efficiency: Mapping[tuple[str, str, str], float],
        *,
        time_limit_s: float = 0.5,
    ) -> None:
        super().__init__(layout, lines, time_limit_s=time_limit_s)
        self.true_efficiency = true_efficiency  # (badge, style, op) -> steady-state efficiency

    def efficiency(self, badge: str, style: str, op: Operation) -> float:
        return self.true_efficiency.get((badge, style, op.code), 0.5)

    def wants(self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str) -> str | None:
        if ls.balance is None or ls.style != style:
            return "start"
        if frozenset(present.items()) != ls.present:
            return "people"
        return None  # the truth does not drift
