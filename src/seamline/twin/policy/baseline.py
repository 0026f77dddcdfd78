"""Today's competent practice: balance the bulletin for equal workers, re-balance rarely.

The line leader balances from the SAMs alone (every operator counted at standard, which is the
optimal balance when workers are alike), each operator on her own machine (her main skill),
bundles first-in first-out, and re-balances at most twice a day when someone is missing or
comes back.
"""

from __future__ import annotations

from datetime import datetime

from seamline.domain.model import Operation

from .base import LineState, PolicyBase


class BaselinePolicy(PolicyBase):
    name = "baseline"
    max_rebalances_per_day = 2

    def efficiency(self, badge: str, style: str, op: Operation) -> float:
        return 1.0

    def wants(self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str) -> str | None:
        if ls.balance is None or ls.style != style:
            return "start"
        if frozenset(present.items()) != ls.present and ls.rebalances_today < self.max_rebalances_per_day:
            return "absence"
        return None
